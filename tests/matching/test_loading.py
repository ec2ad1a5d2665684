"""What is embedded for a listing: its text, and a title only where it adds something."""

from __future__ import annotations

from kooperation.models import Kind, Listing
from kooperation.validation import title_for
from matching.loading import embedding_text

ONE_LINE = "Wir suchen einen Partner für die Prüfung von Batteriemodulen nach UN 38.3."
LONG_LINE = "Wir suchen " + "einen sehr erfahrenen Partner " * 6 + "für Batterieprüfungen."


def _listing(text: str, title: str) -> Listing:
    return Listing(organization_id=1, kind=Kind.NEED, text=text, title=title)


def test_a_title_the_bot_derived_from_the_text_is_not_embedded_twice() -> None:
    for text in (ONE_LINE, f"{ONE_LINE}\nZweite Zeile mit Details.", LONG_LINE):
        assert embedding_text(_listing(text, title_for(text))) == text


def test_an_imported_title_of_its_own_comes_first() -> None:
    listing = _listing(ONE_LINE, "Prüflabor gesucht")
    assert embedding_text(listing) == f"Prüflabor gesucht. {ONE_LINE}"


def test_a_listing_without_a_title_is_its_text() -> None:
    assert embedding_text(_listing(ONE_LINE, "  ")) == ONE_LINE
