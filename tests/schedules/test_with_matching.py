"""The scheduled round and the digest's opportunities with the real matcher and model."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.context import Runtime
from bot.jobs import run_digest, run_matching
from kooperation.config import Settings
from kooperation.models import Listing, Match, MatchRound, Member, Outbox
from kooperation.services import job_runs
from tests import factories as seed

NEED = (
    "Wir suchen einen Partner für temperaturgeführte Kühltransporte von Batteriezellen "
    "zwischen unseren Werken in Sachsen, mit ADR-Zulassung für Gefahrgut."
)
OFFER = (
    "Kühllogistik mit ADR-Zulassung: temperaturgeführte Transporte von Gefahrgut und "
    "Batteriezellen in ganz Mitteldeutschland, mit Sendungsverfolgung."
)


def cold_chain(session: Session, need_language: str = "de") -> tuple[Member, Listing, Listing]:
    """An automotive need for cold transports and a logistics offer that fits it:
    (the need's contact, the need, the offer)."""
    need_side = seed.company(session, "Karosseriewerk", "automotive", language=need_language)
    offer_side = seed.company(session, "Kühlspedition", "logistics")
    need = seed.listing(session, need_side, "need", f"Kühltransporte für Batteriezellen\n{NEED}")
    offer = seed.listing(session, offer_side, "offer", OFFER)
    return need_side, need, offer


def test_the_nightly_round_proposes_notifies_the_manager_once_and_is_recorded(
    settings: Settings,
    engine: Engine,
    session: Session,
) -> None:
    _, need, offer = cold_chain(session)
    manager = seed.manager(session, 955_000_001, "logistics", name="Maria")

    round_id = run_matching(Runtime(settings=settings, engine=engine))

    assert round_id is not None and session.get(MatchRound, round_id) is not None
    proposed = session.exec(select(Match).where(Match.round_id == round_id)).all()
    assert [(m.need_id, m.offer_id) for m in proposed] == [(need.id, offer.id)]
    notes = session.exec(select(Outbox).where(Outbox.kind == "manager_new_proposals")).all()
    assert [n.member_id for n in notes] == [manager.id]
    assert job_runs.last_run(session=session, job=job_runs.MATCH) is not None


def test_a_fitting_listing_from_another_cluster_is_a_new_opportunity_in_the_digest(
    settings: Settings,
    engine: Engine,
    session: Session,
) -> None:
    need_side, _, offer = cold_chain(session, need_language="en")

    result = run_digest(Runtime(settings=settings, engine=engine), dry_run=True)

    by_member = {d.member_id: d for d in result.digests}
    [opportunity] = by_member[need_side.id].opportunities
    assert (opportunity["listing_id"], opportunity["own_title"]) == (
        offer.id,
        "Kühltransporte für Batteriezellen",
    )
    assert opportunity["cluster"] == "Logistik MD" and opportunity["reason_en"]
