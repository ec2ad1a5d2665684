"""Button data is read through one parser that accepts only ids the bot itself writes."""

from __future__ import annotations

import itertools
import re

import pytest

from bot import callbacks
from bot.callbacks import parse_id, shown
from kooperation.models import ID_MAX, Feedback


@pytest.mark.parametrize("text", ["1", "42", str(ID_MAX)])
def test_ids_the_bot_writes_are_read(text: str) -> None:
    assert parse_id(text) == int(text)


@pytest.mark.parametrize(
    "text",
    [None, "", "0", "-1", "+5", " 5", "5 ", "1e3", "²", "١٢", "１２", str(ID_MAX + 1), "9" * 40],
)
def test_anything_else_reads_as_no_id(text: str | None) -> None:
    assert parse_id(text) is None


def test_forged_data_is_stored_and_logged_printable_and_short() -> None:
    assert shown("rv:\x00\n" + "x" * 500) == "rv:??" + "x" * 95


# ---------------------------------------------------------------------------- the registry
def _written(code: callbacks.BaseCode) -> list[tuple[tuple[object, ...], str]]:
    """Every sample the bot could write for `code`: (values, data)."""
    samples = itertools.product(*(field.samples() for field in code.fields))
    return [(values, code.build_any(*values)) for values in samples]


ALL_WRITTEN = [(code, values, data) for code in callbacks.CODES for values, data in _written(code)]


def test_every_prefix_of_the_bot_is_declared() -> None:
    assert set(callbacks.PREFIXES) == {
        *("mn", "rv", "pv", "fu", "ex", "dg", "st", "mg", "ob", "in", "ml", "ls", "jr", "co")
    }
    assert len(callbacks.CODES) >= 40


@pytest.mark.parametrize(("code", "values", "data"), ALL_WRITTEN, ids=lambda x: str(x))
def test_what_a_code_builds_it_reads_back_and_no_other_code_does(
    code: callbacks.BaseCode, values: tuple[object, ...], data: str
) -> None:
    assert code.read_any(data) == values
    assert re.match(code.pattern, data)
    assert re.match(code.prefix.pattern, data)
    assert len(data.encode()) <= 64
    others = [other for other in callbacks.CODES if other is not code]
    assert [other for other in others if other.read_any(data) is not None] == []


def _forgeries(data: str) -> list[str]:
    """Variants of a button the bot wrote that it never writes itself."""
    head, _, last = data.rpartition(":")
    forged = [
        "",
        data + ":",
        data + ":1",
        data + "\x00",
        "\x00" + data,
        data + " ",
        " " + data,
        data.upper(),
        data.replace(":", "::", 1),
        data + "x" * 64,
        "zz" + data[2:],
    ]
    if head:
        forged += [
            f"{head}:",
            f"{head}:0",
            f"{head}:-1",
            f"{head}:+{last}",
            f"{head}:0{last}",
            f"{head}:{last}\x00",
            f"{head}:١٢",
            f"{head}:１２",
            f"{head}:²",
            f"{head}:{ID_MAX + 1}",
            f"{head}:{'9' * 40}",
            f"{head}:{last}{last}" if not last.isdigit() else f"{head}:{last}x",
        ]
    return [f for f in forged if f != data]


@pytest.mark.parametrize(("code", "values", "data"), ALL_WRITTEN, ids=lambda x: str(x))
def test_forged_variants_read_as_nothing(
    code: callbacks.BaseCode, values: tuple[object, ...], data: str
) -> None:
    """Whatever a variant turns into, a code reads it only if it is what that code writes
    itself (`st:dig:1` → `st:dig:0` is another real button; `rv:a:1` → `rv:a:01` none)."""
    del code, values
    for forged in _forgeries(data):
        readers = [c for c in callbacks.CODES if c.read_any(forged) is not None]
        assert all(forged in {d for _, d in _written(c)} for c in readers), (forged, readers)


def test_typed_reading() -> None:
    assert callbacks.REVIEW_APPROVE.parse("rv:a:12") == 12
    assert callbacks.REVIEW_APPROVE.parse("rv:a:012") is None
    assert callbacks.REVIEW_APPROVE.parse(None) is None
    assert callbacks.COMPANY_MERGE_INTO.parse("co:mt:3:4") == (3, 4)
    assert callbacks.COMPANY_MERGE_INTO.parse("co:mt:3") is None
    assert callbacks.SETTINGS_DIGEST.parse("st:dig:0") is False
    assert callbacks.FOLLOWUP_ANSWER.parse("fu:3:t") == (3, Feedback.IN_TOUCH)
    assert callbacks.INTRODUCTION_ANSWER.parse("in:d:7") == (False, 7)
    assert callbacks.MY_LISTING_STATUS.parse("ml:c:5") == ("close", 5)
    assert callbacks.REVIEW_CANCEL.matches("rv:c") and not callbacks.REVIEW_CANCEL.matches("rv:c:")
    assert callbacks.ONBOARDING_LANGUAGE.parse("ob:lang:fr") is None
    assert callbacks.DRAFT_TAG.parse("ls:t:nonsense") is None


def test_the_bot_never_builds_what_it_would_refuse() -> None:
    with pytest.raises(ValueError):
        callbacks.REVIEW_APPROVE.data(0)
    with pytest.raises(ValueError):
        callbacks.REVIEW_APPROVE.data(ID_MAX + 1)
    with pytest.raises(ValueError):
        callbacks.SETTINGS_LANGUAGE.data("fr")


def test_the_handler_patterns_match_as_wide_as_before() -> None:
    """A forged id still reaches its handler (which refuses it and says so), not another."""
    assert re.match(callbacks.REVIEW_APPROVE.pattern, "rv:a:99999999999999999999")
    assert re.match(callbacks.REVIEW_APPROVE.pattern, "rv:a:١٢")
    assert re.match(callbacks.ONBOARDING_CLUSTER.pattern, "ob:cl:no-such-cluster")
    assert not re.match(callbacks.SETTINGS_LANGUAGE.pattern, "st:lang:fr")
    either = callbacks.any_of(callbacks.REVIEW_NEXT, callbacks.REVIEW_NEXT_AFTER)
    assert re.match(either, "rv:n") and re.match(either, "rv:n:5")
    assert not re.match(either, "rv:n:") and not re.match(either, "rv:nx")
