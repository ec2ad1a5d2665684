"""The very first listings of a new deployment: nothing to match against yet."""

from __future__ import annotations

from sqlmodel import select

from kooperation.models import Match
from matching.rounds import match_listing, run_round
from tests import factories as seed


def test_first_need_in_an_empty_pool_finds_nothing_without_error(
    session,
    settings,
    embedder,
):
    org = seed.organization(session, "Erste Firma", "automotive")
    need = seed.listing(
        session, org, "need", "Wir suchen einen Partner für Prüfstände für Batteriezellen."
    )

    assert (
        match_listing(session=session, settings=settings, listing_id=need.id, embedder=embedder)
        == []
    )
    assert run_round(session=session, settings=settings, embedder=embedder).matches == []
    assert session.exec(select(Match)).all() == []
