"""The CSV import as a cluster manager uses it: German Excel files, broken rows, re-imports."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, func, select

from kooperation.models import Listing, Organization
from kooperation.services.importer import ImportFileError, import_listings
from kooperation.validation import TITLE_MAX, title_for

HEADER = "organization;cluster;kind;text;ref;tags;language;size;contact_email\n"

BERLIN = ZoneInfo("Europe/Berlin")


def run(session: Session, text: str, encoding: str = "utf-8"):
    return import_listings(session=session, data=text.encode(encoding))


def count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def test_excel_semicolon_file_with_bom_and_german_kinds_is_imported(session: Session) -> None:
    text = (
        HEADER
        + "AkkuWerk GmbH;automotive;Bedarf;Wir suchen Recycling für Batteriezellen;A1;"
        + '"battery, recycling";;klein;info@akku.de\n'
        + "LogX AG;Logistics;Angebot;ADR-Transporte für Lithium-Batterien;L1;;;;\n"
        + "CodeFabrik;IT;Biete;SAP S/4HANA integration for suppliers;I1;;en;medium;\n"
    )
    report = run(session, text, "utf-8-sig")
    assert (report.created, report.errors) == (3, [])
    need = session.exec(select(Listing).where(Listing.ref == "A1")).one()
    assert (need.kind, need.tags, need.language) == ("need", ["battery", "recycling"], "de")
    offer = session.exec(select(Listing).where(Listing.ref == "I1")).one()
    assert (offer.kind, offer.language) == ("offer", "en")
    org = session.exec(select(Organization).where(Organization.name == "AkkuWerk GmbH")).one()
    assert (org.size, org.contact_email) == ("small", "info@akku.de")


def test_comma_separated_file_with_quoted_tags_is_imported(session: Session) -> None:
    text = (
        "organization,cluster,kind,text,tags\n"
        'Kühl & Co,logistics,offer,"Kühlkette, 2–8 °C, für Pharma","cold chain, pharma"\n'
    )
    report = run(session, text)
    assert report.created == 1
    listing = session.exec(select(Listing)).one()
    assert listing.text == "Kühlkette, 2–8 °C, für Pharma"
    assert listing.tags == ["cold chain", "pharma"]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("X;mars;need;Some text here;;;;;", "unknown cluster 'mars'"),
        ("X;it;need;;;;;;", "text is empty"),
        ("X;it;need;" + "a" * 1001 + ";;;;;", "text is longer than 1000 characters"),
        ("X;it;wish;Some text here;;;;;", "kind 'wish' is neither"),
        ("X;it;need;Some text here;;;;;no-mail", "contact_email 'no-mail' is not an e-mail"),
        (";it;need;Some text here;;;;;", "organization is empty"),
        ("X;it;need;Some text here;;;fr;;", "language 'fr' is not de or en"),
        ("X;it;need;Some text here;;;;huge;", "size 'huge' is not"),
    ],
)
def test_bad_row_is_reported_by_line_and_writes_nothing(
    session: Session, row: str, reason: str
) -> None:
    good = "Good GmbH;it;offer;Penetration tests for TISAX;G1;;;;\n"
    report = run(session, HEADER + good + row + "\n" + good.replace("G1", "G2"))
    assert report.created == 2
    assert [(e.line, e.reason[: len(reason)]) for e in report.errors] == [(3, reason)]
    assert count(session, Listing) == 2
    assert count(session, Organization) == 1


def test_line_numbers_count_physical_lines_of_multiline_cells(session: Session) -> None:
    text = HEADER + 'A;it;need;"first line\nsecond line";;;;;\nB;mars;need;text;;;;;\n'
    report = run(session, text)
    assert [e.line for e in report.errors] == [4]


def test_reimport_changes_nothing_and_edited_rows_update_by_ref(session: Session) -> None:
    text = HEADER + "A GmbH;it;need;Wir suchen eine MES-Anbindung;R1;;;;\n"
    text += "A GmbH;it;offer;Wir bieten Schulungen zu SAP;;;;;\n"
    first = run(session, text)
    again = run(session, text)
    assert (first.created, again.created, again.updated, again.unchanged) == (2, 0, 0, 2)
    edited = run(session, text.replace("MES-Anbindung", "MES-Anbindung an SAP"))
    assert (edited.created, edited.updated, edited.unchanged) == (0, 1, 1)
    listing = session.exec(select(Listing).where(Listing.ref == "R1")).one()
    assert listing.text == "Wir suchen eine MES-Anbindung an SAP"
    assert count(session, Listing) == 2


def test_organization_cannot_switch_cluster_through_import(session: Session) -> None:
    run(session, HEADER + "A GmbH;it;need;Wir suchen eine MES-Anbindung;;;;;\n")
    report = run(session, HEADER + "a gmbh;logistics;offer;Lagerfläche in Halle;;;;;\n")
    assert report.errors[0].reason == "organization 'A GmbH' belongs to another cluster"
    assert count(session, Listing) == 1


def test_file_without_required_columns_is_refused_as_a_whole(session: Session) -> None:
    with pytest.raises(ImportFileError, match=r"missing column.*kind"):
        run(session, "organization;cluster;text\nA;it;x\n")


def test_file_that_is_not_utf8_is_refused_with_a_hint(session: Session) -> None:
    with pytest.raises(ImportFileError, match="not UTF-8"):
        run(session, HEADER + "Müller;it;need;Text;;;;;\n", "latin-1")


def test_ten_thousand_rows_with_broken_ones_import_and_reimport_unchanged(
    session: Session,
) -> None:
    from bench.import_speed import make_csv

    data = make_csv(10_000)
    first = import_listings(session=session, data=data)
    assert first.rows == 10_000
    assert len(first.errors) == 310
    assert all(e.line >= 2 for e in first.errors)
    assert first.created == 10_000 - 310
    again = import_listings(session=session, data=data)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 10_000 - 310)
    assert [e.line for e in again.errors] == [e.line for e in first.errors]


def test_a_row_without_title_gets_the_title_a_posted_listing_would_get(session: Session) -> None:
    long_text = (
        "Wir suchen einen Partner für die Rücknahme und das Recycling von Batteriezellen " * 3
    )
    run(session, HEADER + f"AkkuWerk GmbH;automotive;Bedarf;{long_text};A1;;;;\n")
    need = session.exec(select(Listing).where(Listing.ref == "A1")).one()
    assert need.title == title_for(" ".join(long_text.split()))
    assert len(need.title) <= TITLE_MAX and need.title.endswith("…")


def test_a_cell_over_128_kib_is_one_failed_line_and_the_good_rows_are_imported(
    session: Session,
) -> None:
    good = "Good GmbH;it;offer;Penetration tests for TISAX;G1;;;;\n"
    huge = "Big GmbH;it;need;" + "x" * (129 * 1024) + ";B1;;;;\n"
    quoted = 'Big GmbH;it;need;"' + "long line\n" * 14_000 + '";B2;;;;\n'
    report = run(session, HEADER + good + huge + good.replace("G1", "G2") + quoted + good[:-1])
    assert [(e.line, e.reason) for e in report.errors] == [
        (3, "text is larger than 128 KiB"),
        (5, "text is larger than 128 KiB"),
    ]
    assert (report.rows, report.created) == (5, 2)  # G1, G2; the third G1 is unchanged
    assert count(session, Listing) == 2


def test_nul_bytes_are_a_failed_line_and_never_stored(session: Session) -> None:
    rows = [
        "Good GmbH;it;offer;Penetration tests for TISAX;G1;;;;",
        "Nul GmbH;it;need;Wir suchen\x00 einen Partner;N1;;;;",
        "Nul\x00 AG;it;need;Wir suchen einen Partner;N2;;;;",
        "Nul GmbH;it;need;Wir suchen einen Partner;N3;;;;ab\x00@x.de",
        "Good GmbH;it;offer;Schulungen zu SAP S/4HANA;G2;;;;",
    ]
    report = run(session, HEADER + "\n".join(rows) + "\n")
    assert [(e.line, e.reason) for e in report.errors] == [
        (3, "text contains a NUL byte"),
        (4, "organization contains a NUL byte"),
        (5, "contact_email contains a NUL byte"),
    ]
    assert report.created == 2
    texts = session.exec(select(Listing.text)).all()
    names = session.exec(select(Organization.name)).all()
    assert not any("\x00" in value for value in [*texts, *names])


def test_an_exported_file_with_formula_cells_imports_back_unchanged(session: Session) -> None:
    from kooperation.services.exporter import export_listings_csv

    text = (
        HEADER
        + '"=HYPERLINK(""http://x"")";it;need;"-minus: Wir suchen einen Partner";F1;;;;\n'
        + "'Quote GmbH;it;offer;@home: Wir bieten Schulungen;F2;;;;\n"
    )
    run(session, text)
    exported = export_listings_csv(session=session, tz=BERLIN)
    assert "'=HYPERLINK" in exported and "'-minus" in exported and "'@home" in exported
    again = import_listings(session=session, data=exported.encode())
    assert (again.created, again.updated, again.unchanged, again.errors) == (0, 0, 2, [])
    names = set(session.exec(select(Organization.name)).all())
    assert names == {'=HYPERLINK("http://x")', "'Quote GmbH"}  # a quote before a letter stays
