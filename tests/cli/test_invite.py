"""`matchbot invite company REF_OR_NAME`: a single-use company invite from the command line."""

from __future__ import annotations

import re

import pytest
import typer
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot import cli
from kooperation.models import CompanyInvite, Kind
from kooperation.services import membership
from tests import factories as seed

_registered = False


@pytest.fixture
def matchbot(monkeypatch: pytest.MonkeyPatch, database_url: str, engine) -> typer.Typer:  # noqa: ARG001  (empties the tables)
    global _registered
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")
    if not _registered:
        cli._register()
        _registered = True
    return cli.app


def run(app: typer.Typer, *args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_invite_by_name_or_listing_ref_prints_a_link_that_works_once(
    matchbot: typer.Typer, session: Session
) -> None:
    org = seed.organization(
        session, "Import Logistik GmbH", "logistics", contact_email="info@import.test"
    )
    listing = seed.listing(session, org, Kind.OFFER, "Wir bieten Lagerfläche.")
    listing.ref = "ROW-17"
    session.add(listing)
    session.commit()
    by_name = run(matchbot, "invite", "company", "import logistik gmbh")
    assert by_name.exit_code == 0, by_name.output
    assert "info@import.test" in by_name.output
    payload = re.search(r"start=(co-[\w-]+)", by_name.output).group(1)
    by_ref = run(matchbot, "invite", "company", "ROW-17")
    assert by_ref.exit_code == 0 and "Import Logistik GmbH" in by_ref.output
    assert len(session.exec(select(CompanyInvite)).all()) == 2

    first, second = seed.contact(session, 1, None), seed.contact(session, 2, None)
    assert (
        membership.redeem_company_invite(session=session, member=first, code=payload).id == org.id
    )
    with pytest.raises(membership.CompanyInviteInvalid):
        membership.redeem_company_invite(session=session, member=second, code=payload)


def test_unknown_or_ambiguous_company_fails_with_one_line(
    matchbot: typer.Typer, session: Session
) -> None:
    seed.organization(session, "Nordlicht Logistik", "logistics")
    seed.organization(session, "Nordlicht Logistik", "it")
    unknown = run(matchbot, "invite", "company", "Gibtsnicht Quarz AG")
    assert unknown.exit_code == 1 and "no company matches" in unknown.output
    ambiguous = run(matchbot, "invite", "company", "Nordlicht Logistik")
    assert ambiguous.exit_code == 1 and "matches several companies" in ambiguous.output
    assert "Traceback" not in ambiguous.output
