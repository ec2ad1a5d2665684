"""Matching rounds against a real database and the real default model."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from kooperation.models import (
    Embedding,
    ListingStatus,
    Match,
    MatchRound,
    MatchStatus,
    Size,
    utcnow,
)
from kooperation.validation import title_for
from matching.candidates import CandidateFinder, top_candidates
from matching.lexical import base_terms
from matching.loading import eligible_listings, embedding_text
from matching.rounds import match_listing, run_round, warm_up
from tests import factories as seed

TISAX_NEED = (
    "Ein OEM verlangt von uns bis Jahresende ein TISAX-Label. Wir haben noch kein ISMS und "
    "suchen Beratung für die Gap-Analyse nach VDA ISA und das Assessment."
)
TISAX_OFFER = (
    "We prepare automotive suppliers for TISAX: self-assessment against the VDA ISA catalogue, "
    "closing the gaps in information security and support through the assessment."
)
COLD_OFFER = (
    "Wir vermieten temperaturgeführte Lagerflächen für 2–8 °C am Flughafen Leipzig/Halle, "
    "GDP-zertifiziert, mit täglicher Auslieferung."
)
CASTING_OFFER = (
    "Aluminium high-pressure die casting up to 4,400 t clamping force, including prototypes "
    "and small series of large housings."
)
COLD_NEED = (
    "The structural adhesives for our body shop must be kept between 2 and 8 °C. We need "
    "external refrigerated storage for about 80 pallets near Leipzig airport, with daily "
    "deliveries to our plant."
)


@pytest.fixture
def market(session, background):  # noqa: ARG001  (requested for its rows in the pool)
    """Two needs and three offers across the three clusters, German and English mixed."""
    automotive = seed.organization(session, "Prototypenbau Wurzen", "automotive")
    body_shop = seed.organization(session, "Karosseriebau Mitte", "automotive", size=Size.LARGE)
    it = seed.organization(session, "Infosec Mitte", "it")
    cold = seed.organization(session, "Kühlhaus Schkeuditz", "logistics")
    foundry = seed.organization(session, "Alucast", "automotive", size=Size.LARGE)
    return {
        "tisax_need": seed.listing(session, automotive, "need", TISAX_NEED, ref="N-TISAX"),
        "cold_need": seed.listing(
            session, body_shop, "need", COLD_NEED, language="en", ref="N-COLD", tags=("logistics",)
        ),
        "tisax_offer": seed.listing(
            session, it, "offer", TISAX_OFFER, language="en", ref="O-TISAX"
        ),
        "cold_offer": seed.listing(
            session, cold, "offer", COLD_OFFER, ref="O-COLD", tags=("logistics",)
        ),
        "casting_offer": seed.listing(session, foundry, "offer", CASTING_OFFER, language="en"),
        "orgs": {"automotive": automotive, "it": it, "cold": cold, "foundry": foundry},
    }


pytestmark = pytest.mark.usefixtures("background")


def pairs(matches):
    return {(m.need_id, m.offer_id) for m in matches}


def test_round_proposes_the_fitting_offer_across_languages(session, settings, embedder, market):
    result = run_round(session=session, settings=settings, embedder=embedder)

    assert (market["tisax_need"].id, market["tisax_offer"].id) in pairs(result.matches)  # de→en
    assert (market["cold_need"].id, market["cold_offer"].id) in pairs(result.matches)  # en→de
    assert (market["tisax_need"].id, market["casting_offer"].id) not in pairs(result.matches)
    stored = session.exec(select(Match)).all()
    assert pairs(stored) == pairs(result.matches)
    assert all(m.status == MatchStatus.PROPOSED and m.round_id == result.round.id for m in stored)
    assert result.round.proposed == len(stored) and result.round.finished_at is not None


def test_every_component_and_both_reasons_are_stored(session, settings, embedder, market):
    run_round(session=session, settings=settings, embedder=embedder)
    match = session.exec(
        select(Match).where(
            Match.need_id == market["tisax_need"].id, Match.offer_id == market["tisax_offer"].id
        )
    ).one()

    assert match.semantic > 0 and match.lexical > 0
    # automotive need, IT offer: cross-cluster
    assert match.cross_cluster == pytest.approx(settings.cross_cluster_bonus)
    assert match.kmu == pytest.approx(settings.kmu_bonus)  # both small
    expected = (
        settings.weight_semantic * match.semantic
        + settings.weight_lexical * match.lexical
        + settings.weight_tags * match.tags
        + match.cross_cluster
        + match.kmu
        + match.reciprocity
    )
    assert match.score == pytest.approx(expected, abs=1e-4)
    assert "TISAX" in match.shared_terms
    assert "TISAX" in match.reason_de and "TISAX" in match.reason_en
    for reason in (match.reason_de, match.reason_en):
        assert "Automotive Cluster Ostdeutschland" in reason
        assert "Cluster IT Mitteldeutschland" in reason
    assert "clusterübergreifend" in match.reason_de
    assert "cross-cluster" in match.reason_en


@pytest.mark.usefixtures("market")
def test_second_round_without_changes_embeds_and_proposes_nothing(
    session, settings, embedder, background
):
    listings = 5 + len(background)
    first = run_round(session=session, settings=settings, embedder=embedder)
    assert first.embedded == listings and first.proposed > 0
    second = run_round(session=session, settings=settings, embedder=embedder)

    assert second.embedded == 0
    assert second.proposed == 0
    assert session.exec(select(MatchRound)).all()[-1].embedded == 0
    # one vector per listing and single model of the ensemble
    assert len(session.exec(select(Embedding)).all()) == listings * 2


def test_an_edited_text_is_embedded_again_and_matched_as_new(session, settings, embedder, market):
    run_round(session=session, settings=settings, embedder=embedder)
    casting = market["casting_offer"]
    casting.text = (
        "TISAX readiness for automotive suppliers: gap analysis against VDA ISA, ISMS setup "
        "and support in the assessment."
    )
    casting.title = title_for(casting.text)  # a re-imported row: its title follows the text
    casting.updated_at = utcnow()
    session.add(casting)
    session.commit()

    result = run_round(session=session, settings=settings, embedder=embedder)

    assert result.embedded == 1
    assert pairs(result.matches) == {(market["tisax_need"].id, casting.id)}


def test_never_within_one_organization(
    session,
    settings,
    embedder,
):
    org = seed.organization(session, "Infosec Mitte", "it")
    seed.listing(session, org, "need", TISAX_NEED)
    seed.listing(session, org, "offer", TISAX_OFFER, language="en")

    assert run_round(session=session, settings=settings, embedder=embedder).proposed == 0


@pytest.mark.parametrize(
    "change",
    ["paused listing", "closed listing", "expired listing", "paused member", "inactive member"],
)
def test_ineligible_offers_are_never_proposed(session, settings, embedder, change):
    need_org, offer_org = (
        seed.organization(session, "Prototypenbau", "automotive"),
        seed.organization(session, "Infosec", "it"),
    )
    need = seed.listing(session, need_org, "need", TISAX_NEED)
    member = seed.contact(
        session,
        None,
        offer_org,
        paused=change == "paused member",
        active=change != "inactive member",
    )
    status = {"paused listing": ListingStatus.PAUSED, "closed listing": ListingStatus.CLOSED}
    offer = seed.listing(
        session,
        offer_org,
        "offer",
        TISAX_OFFER,
        language="en",
        member=member,
        status=status.get(change, ListingStatus.ACTIVE),
        expires_at=utcnow() - timedelta(days=1) if change == "expired listing" else None,
    )

    result = run_round(session=session, settings=settings, embedder=embedder)

    assert (need.id, offer.id) not in pairs(result.matches)
    assert result.proposed == 0


def test_a_pair_decided_before_is_never_proposed_again(session, settings, embedder, market):
    run_round(session=session, settings=settings, embedder=embedder)
    for match in session.exec(select(Match)).all():
        match.status = MatchStatus.REJECTED
        session.add(match)
    known = pairs(session.exec(select(Match)).all())
    for listing in (market["tisax_need"], market["tisax_offer"]):  # both sides edited later
        listing.updated_at = utcnow()
        session.add(listing)
    session.commit()

    result = run_round(session=session, settings=settings, embedder=embedder)

    assert not pairs(result.matches) & known


def test_unrelated_pairs_stay_below_the_minimum_score(
    session,
    settings,
    embedder,
):
    need_org, offer_org = (
        seed.organization(session, "Prototypenbau", "automotive"),
        seed.organization(session, "Alucast", "it"),
    )
    seed.listing(session, need_org, "need", TISAX_NEED)
    seed.listing(
        session,
        offer_org,
        "offer",
        "Wir bieten Catering für Firmenfeiern und Sommerfeste bis 300 Gäste.",
    )

    assert run_round(session=session, settings=settings, embedder=embedder).proposed == 0


def test_at_most_n_new_proposals_per_need(
    session,
    settings,
    embedder,
):
    need = seed.listing(
        session, seed.organization(session, "Prototypenbau", "automotive"), "need", TISAX_NEED
    )
    for n in range(4):
        seed.listing(
            session,
            seed.organization(session, f"Berater {n}", "it"),
            "offer",
            f"{TISAX_OFFER} Team {n} with {n + 3} auditors.",
            language="en",
        )
    limited = settings.model_copy(update={"match_max_per_need": 2})

    result = run_round(session=session, settings=limited, embedder=embedder)

    assert [m.need_id for m in result.matches] == [need.id, need.id]


def test_at_most_m_new_proposals_per_organization_and_week(
    session,
    settings,
    embedder,
):
    consultant = seed.organization(session, "Infosec Mitte", "it")
    seed.listing(session, consultant, "offer", TISAX_OFFER, language="en")
    for n in range(3):
        seed.listing(
            session,
            seed.organization(session, f"Zulieferer {n}", "automotive"),
            "need",
            TISAX_NEED + f" ({n})",
        )
    limited = settings.model_copy(update={"match_max_per_org_week": 2})

    first = run_round(session=session, settings=limited, embedder=embedder)
    seed.listing(
        session,
        seed.organization(session, "Zulieferer 9", "automotive"),
        "need",
        TISAX_NEED + " (9)",
    )
    second = run_round(session=session, settings=limited, embedder=embedder)

    assert first.proposed == 2
    assert second.proposed == 0  # the consultant had its two proposals this week


def test_a_new_offer_is_matched_at_once_against_stored_needs(session, settings, embedder, market):
    run_round(session=session, settings=settings, embedder=embedder)
    new_offer = seed.listing(
        session,
        market["orgs"]["cold"],
        "offer",
        "Refrigerated warehouse space at 2-8 °C with daily deliveries to plants near Leipzig.",
        language="en",
    )

    matches = match_listing(
        session=session, settings=settings, listing_id=new_offer.id, embedder=embedder
    )

    assert [(m.need_id, m.offer_id) for m in matches] == [(market["cold_need"].id, new_offer.id)]
    assert session.get(MatchRound, matches[0].round_id).mode == "listing"
    assert matches[0].reason_en and matches[0].reason_de


def test_a_new_need_is_matched_at_once_and_ineligible_listings_are_skipped(
    session,
    settings,
    embedder,
    market,
):
    need = seed.listing(
        session,
        seed.organization(session, "Zulieferer Rötha", "automotive"),
        "need",
        "Our OEM customer requires a TISAX label with prototype protection by the end of the "
        "year. We need a consultant for the ISA self-assessment and the audit.",
        language="en",
    )
    paused = seed.listing(
        session,
        seed.organization(session, "Pausiert", "automotive"),
        "need",
        TISAX_NEED,
        status=ListingStatus.PAUSED,
    )

    matches = match_listing(
        session=session, settings=settings, listing_id=need.id, embedder=embedder
    )

    assert (need.id, market["tisax_offer"].id) in pairs(matches)
    assert (
        match_listing(session=session, settings=settings, listing_id=paused.id, embedder=embedder)
        == []
    )


def test_digest_candidates_filter_by_cluster_and_creation_time(
    session,
    settings,
    embedder,
    market,
):
    tisax_need = market["tisax_need"]
    before = utcnow()
    same_cluster = seed.listing(
        session,
        seed.organization(session, "Automotive Security", "automotive"),
        "offer",
        TISAX_OFFER + " Same cluster.",
        language="en",
    )

    everything = top_candidates(
        session=session,
        settings=settings,
        listing_ids=[tisax_need.id],
        limit=5,
        embedder=embedder,
    )
    other_clusters = top_candidates(
        session=session,
        settings=settings,
        listing_ids=[tisax_need.id],
        limit=5,
        other_clusters_only=True,
        embedder=embedder,
    )
    recent = top_candidates(
        session=session,
        settings=settings,
        listing_ids=[tisax_need.id],
        limit=5,
        created_after=before,
        embedder=embedder,
    )

    assert {c.other_listing_id for c in everything} >= {market["tisax_offer"].id, same_cluster.id}
    assert same_cluster.id not in {c.other_listing_id for c in other_clusters}
    assert market["tisax_offer"].id in {c.other_listing_id for c in other_clusters}
    assert {c.other_listing_id for c in recent} == {same_cluster.id}
    assert all(
        c.own_listing_id == tisax_need.id and c.reason_de and c.reason_en for c in everything
    )
    assert session.exec(select(Match)).all() == []


def test_digest_candidates_leave_out_pairs_that_have_a_match(session, settings, embedder, market):
    run_round(session=session, settings=settings, embedder=embedder)
    offer = market["tisax_offer"]

    found = top_candidates(
        session=session, settings=settings, listing_ids=[offer.id], limit=5, embedder=embedder
    )

    assert market["tisax_need"].id not in {c.other_listing_id for c in found}


def test_one_candidate_finder_answers_every_member_like_a_search_of_its_own(
    session,
    settings,
    embedder,
    market,
):
    """The digest loads the pool once for all members; no member's answer may change."""
    seed.proposal(session, market["cold_need"], market["cold_offer"], 0.9)
    before = utcnow()
    late = seed.listing(
        session,
        seed.organization(session, "Security Late", "it"),
        "offer",
        TISAX_OFFER + " Also ISO 27001.",
        language="en",
    )
    searches = [
        {"listing_ids": [market["tisax_need"].id], "limit": 5},
        {"listing_ids": [market["tisax_offer"].id], "limit": 5},
        {"listing_ids": [market["cold_need"].id, market["cold_offer"].id], "limit": 5},
        {"listing_ids": [market["tisax_need"].id], "limit": 1, "other_clusters_only": True},
        {"listing_ids": [market["tisax_need"].id, late.id], "limit": 5, "created_after": before},
        {"listing_ids": [market["casting_offer"].id, market["cold_need"].id], "limit": 3},
        {"listing_ids": [late.id + 1000], "limit": 5},
    ]

    separate = [
        top_candidates(session=session, settings=settings, embedder=embedder, **search)
        for search in searches
    ]
    finder = CandidateFinder(session=session, settings=settings, embedder=embedder)
    reused = [finder.find(**search) for search in searches]

    assert reused == separate
    assert [c.other_listing_id for c in separate[4]] == [late.id]
    assert market["tisax_offer"].id in {c.other_listing_id for c in separate[0]}
    assert (market["cold_need"].id, market["cold_offer"].id) not in {
        (c.need_id, c.offer_id) for c in separate[2]
    }
    assert separate[6] == []


def test_a_pair_that_also_fits_the_other_way_round_ranks_higher_and_says_so(
    session,
    settings,
    embedder,
):
    supplier = seed.organization(session, "Prototypenbau Wurzen", "automotive")
    consultant = seed.organization(session, "Infosec Mitte", "it")
    bystander = seed.organization(session, "Kühlhaus Nord", "logistics")
    need = seed.listing(session, supplier, "need", TISAX_NEED)
    seed.listing(session, supplier, "offer", COLD_OFFER, tags=("logistics",))
    offer = seed.listing(session, consultant, "offer", TISAX_OFFER, language="en")
    seed.listing(session, consultant, "need", COLD_NEED, language="en", tags=("logistics",))
    bystander_offer = seed.listing(
        session, bystander, "offer", COLD_OFFER + " Auch Tiefkühlung.", tags=("logistics",)
    )

    result = run_round(session=session, settings=settings, embedder=embedder)

    match = next(m for m in result.matches if (m.need_id, m.offer_id) == (need.id, offer.id))
    assert match.reciprocity == pytest.approx(settings.reciprocity_bonus)
    assert "umgekehrt" in match.reason_de and "other way round" in match.reason_en
    from_bystander = [m for m in result.matches if m.offer_id == bystander_offer.id]
    assert from_bystander and all(m.reciprocity == 0 for m in from_bystander)

    session.delete(match)
    session.commit()
    again = match_listing(session=session, settings=settings, listing_id=need.id, embedder=embedder)
    assert [(m.offer_id, m.reciprocity > 0) for m in again] == [(offer.id, True)]


def test_warm_up_tokenises_the_listings_a_round_will_read(session):
    it = seed.organization(session, "Infosec Mitte", "it")
    paused = seed.contact(session, None, it, paused=True)
    active = seed.listing(session, it, "offer", "Wir begleiten TISAX-Assessments für Zulieferer.")
    left_out = [
        seed.listing(
            session, it, "offer", "Pausiert: Penetrationstests für OT-Netze.", member=paused
        ),
        seed.listing(
            session,
            it,
            "need",
            "Abgelaufen: Lagerfläche gesucht.",
            expires_at=utcnow() - timedelta(days=1),
        ),
    ]
    base_terms.cache_clear()

    assert warm_up(session) == len(eligible_listings(session, utcnow()))
    hits = base_terms.cache_info().hits
    base_terms(embedding_text(active))
    assert base_terms.cache_info().hits == hits + 1
    for listing in left_out:
        base_terms(embedding_text(listing))
    assert base_terms.cache_info().hits == hits + 1, "paused and expired listings are not read"
