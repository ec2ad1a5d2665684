"""Statistics per cluster and the proposal → cooperation funnel, and the reporting table."""

from __future__ import annotations

import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from bot.handlers.stats import render_stats
from kooperation.config import Settings
from kooperation.models import Feedback, Size
from kooperation.services import introductions, privacy, reporting, review, roles, stats
from tests import factories as seed

BERLIN = ZoneInfo("Europe/Berlin")


def test_counts_per_cluster_with_kmu_share_and_active_listings(session: Session) -> None:
    seed.two_sided(session, 1000, "automotive", "logistics")
    seed.organization(session, "Großwerk AG", "automotive", Size.LARGE)
    result = stats.compute_stats(session=session)
    by_slug = {c.slug: c for c in result.clusters}
    auto = by_slug["automotive"]
    assert (auto.organizations, auto.members, auto.active_needs, auto.active_offers) == (2, 1, 1, 0)
    assert auto.kmu_share == pytest.approx(0.5)
    assert by_slug["logistics"].active_offers == 1
    assert by_slug["it"].kmu_share is None
    assert result.total.organizations == 3


def test_funnel_follows_proposals_to_reported_cooperations(
    session: Session, settings: Settings
) -> None:
    admin = seed.admin(session, 52)
    need_a, offer_a, introduced = seed.two_sided(session, 1000, "automotive", "logistics")
    _, _, rejected = seed.two_sided(session, 1010, "it", "it")
    seed.two_sided(session, 1020, "it", "logistics")  # stays pending
    introduced.created_at -= timedelta(hours=4)
    rejected.created_at -= timedelta(hours=2)
    session.add_all([introduced, rejected])
    session.commit()
    review.approve_match(session=session, settings=settings, member=admin, match_id=introduced.id)
    review.reject_match(session=session, settings=settings, member=admin, match_id=rejected.id)
    for member in (need_a, offer_a):
        introductions.answer_introduction(
            session=session, member=member, match_id=introduced.id, accept=True
        )
    introduced.need_feedback = Feedback.COOPERATING
    session.add(introduced)
    session.commit()

    funnel = stats.compute_stats(session=session).funnel
    assert (funnel.proposals, funnel.pending, funnel.rejected, funnel.approved) == (3, 1, 1, 1)
    assert (funnel.accepted_by_both, funnel.introductions, funnel.cooperations) == (1, 1, 1)
    assert funnel.cross_cluster_share == pytest.approx(1.0)
    assert funnel.median_decision_hours == pytest.approx(3.0, abs=0.05)

    it_only = {seed.cluster(session, "it").id}
    scoped = stats.compute_stats(session=session, cluster_ids=it_only)
    assert [c.slug for c in scoped.clusters] == ["it"]
    assert (scoped.funnel.proposals, scoped.funnel.introductions) == (2, 0)

    out = io.StringIO()
    assert reporting.write_csv(reporting.introduction_rows(session=session, tz=BERLIN), out) == 1
    header, row = out.getvalue().splitlines()
    assert header.split(",") == reporting.COLUMNS
    assert ",introduced," in row and "Karosseriewerk 1000" in row and row.endswith(",True")


def test_stats_are_for_managers_and_admins_only(session: Session, settings: Settings) -> None:
    member = seed.contact(session, 10, None)
    with pytest.raises(roles.NotAllowed):
        stats.stats_for(session=session, settings=settings, member=member)
    manager = seed.manager(session, 11, "logistics")
    mine = stats.stats_for(session=session, settings=settings, member=manager)
    assert [c.slug for c in mine.clusters] == ["logistics"] and not mine.all_clusters


@pytest.mark.usefixtures("settings")
def test_the_programme_view_names_what_deleted_contacts_took_with_them(session: Session) -> None:
    need_member, _, _ = seed.two_sided(session, 1000, "automotive", "logistics")
    seed.two_sided(session, 1010, "it", "logistics")
    privacy.delete_member_data(session=session, member=need_member)

    everything = stats.compute_stats(session=session)
    assert everything.funnel.proposals == 1
    assert everything.deleted == stats.Deleted(
        members=1, needs=1, offers=0, matches=1, introductions=0
    )
    it_only = stats.compute_stats(session=session, cluster_ids={seed.cluster(session, "it").id})
    assert it_only.deleted is None  # the counters are not kept per cluster

    assert "1 Kontakte mit 1 Bedarfen, 0 Angeboten, 1 Vorschlägen" in render_stats("de", everything)
    assert "Deleted by contacts" not in render_stats("en", it_only)
