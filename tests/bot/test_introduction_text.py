"""The introduction request shows the other side's text once, under a title only if it adds."""

from __future__ import annotations

import pytest

from bot.outbox_render import render
from kooperation.models import Listing
from kooperation.services.introductions import listing_title

TEXT = (
    "Wir bieten temperaturgeführte Transporte von Lithium-Batterien nach ADR, "
    "deutschlandweit und nach Polen, mit eigener Flotte <24 h>."
)


def _payload(title: str, text: str = TEXT) -> dict:
    return {
        "match_id": 12,
        "side": "need",
        "own_title": "Kühlkette für Zellen",
        "other_kind": "offer",
        "other_organization": "Gefahrgut Express GmbH",
        "other_cluster": "Netzwerk Logistik Mitteldeutschland",
        "other_title": title,
        "other_text": text,
        "reason_de": "Beide nennen „ADR“.",
        "reason_en": "Both mention “ADR”.",
    }


@pytest.mark.parametrize("language", ["de", "en"])
def test_a_title_made_from_the_texts_opening_is_not_shown_twice(language: str) -> None:
    title = listing_title(Listing(organization_id=1, kind="offer", title="", text=TEXT))
    assert title.endswith("…")  # the first 80 characters, as the service writes it
    shown = render("intro_offer", language, _payload(title)).text
    opening = "Wir bieten temperaturgeführte Transporte"
    assert shown.count(opening) == 1
    assert "&lt;24 h&gt;" in shown  # the text itself, escaped


def test_a_title_of_its_own_stays_above_the_text() -> None:
    shown = render("intro_offer", "de", _payload("ADR-Transporte <Polen>")).text
    assert "<b>ADR-Transporte &lt;Polen&gt;</b>\nWir bieten temperaturgeführte" in shown
    assert shown.count("Wir bieten temperaturgeführte") == 1
