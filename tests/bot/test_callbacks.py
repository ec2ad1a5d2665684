"""Button data is read through one parser that accepts only ids the bot itself writes."""

from __future__ import annotations

import pytest

from bot.callbacks import DB_ID_MAX, parse_id, shown


@pytest.mark.parametrize("text", ["1", "42", str(DB_ID_MAX)])
def test_ids_the_bot_writes_are_read(text: str) -> None:
    assert parse_id(text) == int(text)


@pytest.mark.parametrize(
    "text",
    [None, "", "0", "-1", "+5", " 5", "5 ", "1e3", "²", "١٢", "１２", str(DB_ID_MAX + 1), "9" * 40],
)
def test_anything_else_reads_as_no_id(text: str | None) -> None:
    assert parse_id(text) is None


def test_forged_data_is_stored_and_logged_printable_and_short() -> None:
    assert shown("rv:\x00\n" + "x" * 500) == "rv:??" + "x" * 95
