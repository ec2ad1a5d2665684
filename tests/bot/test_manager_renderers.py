"""Outbox messages of the review and introduction flow render in both languages, escaped."""

from __future__ import annotations

import pytest

from bot.outbox_render import render
from bot.texts import LANGUAGES

EVIL = "<b>Evil & Co</b>"
PAYLOADS = {
    "intro_offer": {
        "match_id": 7,
        "side": "need",
        "own_title": "Kühlkette",
        "other_kind": "offer",
        "other_organization": EVIL,
        "other_cluster": "IT MD",
        "other_title": "ADR",
        "other_text": "Wir <i>bieten</i>",
        "reason_de": "Grund",
        "reason_en": "",
    },
    "intro_contact": {
        "match_id": 7,
        "own_title": "a",
        "other_title": "b",
        "name": "Ben",
        "organization": EVIL,
        "cluster": "Logistik",
        "username": "ben_k",
        "email": "",
    },
    "intro_closed": {"match_id": 7, "other_organization": EVIL, "own_title": "x"},
    "intro_result_manager": {
        "match_id": 7,
        "outcome": "declined",
        "need_organization": EVIL,
        "need_title": "n",
        "offer_organization": "O",
        "offer_title": "o",
        "declined_by": "O",
    },
    "manager_new_proposals": {"count": 7, "pending": 9, "round_id": 1},
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", sorted(PAYLOADS))
def test_every_kind_renders_with_user_data_escaped(kind: str, language: str) -> None:
    rendered = render(kind, language, PAYLOADS[kind])
    assert "<b>Evil" not in rendered.text
    if kind != "manager_new_proposals":
        assert "&lt;b&gt;Evil &amp; Co&lt;/b&gt;" in rendered.text
    for row in rendered.buttons:
        for _, data in row:
            assert len(data.encode()) <= 64


def test_offer_falls_back_to_the_german_reason_and_carries_both_answers() -> None:
    rendered = render("intro_offer", "en", PAYLOADS["intro_offer"])
    assert "Grund" in rendered.text and "Wir &lt;i&gt;bieten&lt;/i&gt;" in rendered.text
    assert [data for row in rendered.buttons for _, data in row] == ["in:a:7", "in:d:7"]


def test_contact_lists_only_what_was_given() -> None:
    text = render("intro_contact", "de", PAYLOADS["intro_contact"]).text
    assert "Telegram: @ben_k" in text and "E-Mail" not in text


def test_new_proposals_are_one_counted_message() -> None:
    rendered = render("manager_new_proposals", "en", PAYLOADS["manager_new_proposals"])
    assert "7 new proposals" in rendered.text
    assert rendered.buttons == [[("Review now", "rv:n")]]
    one = render("manager_new_proposals", "de", {"count": 1, "pending": 1, "round_id": 2})
    assert "1 neuer Vorschlag" in one.text
