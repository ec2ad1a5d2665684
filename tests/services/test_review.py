"""The review queue and its decisions: scope per cluster, first decision wins, audit trail."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from kooperation.config import Settings
from kooperation.models import AuditLog, Match, MatchStatus, Outbox, utcnow
from kooperation.services import review, roles
from tests import factories as seed


def test_manager_queue_holds_proposals_where_either_side_is_in_their_cluster(
    session: Session, settings: Settings
) -> None:
    _, _, auto_logistics = seed.two_sided(session, 1000, "automotive", "logistics")
    _, _, it_it = seed.two_sided(session, 1010, "it", "it")
    logistics_manager = seed.manager(session, 50, "logistics")
    it_manager = seed.manager(session, 51, "it")
    admin = seed.admin(session, 52)

    def ids(member):
        cards = review.review_queue(session=session, settings=settings, member=member)
        return {c.match_id for c in cards}

    assert ids(logistics_manager) == {auto_logistics.id}
    assert ids(it_manager) == {it_it.id}
    assert ids(admin) == {auto_logistics.id, it_it.id}


def test_card_shows_both_sides_with_cluster_size_score_and_marks(
    session: Session, settings: Settings
) -> None:
    _, _, match = seed.two_sided(session, 1000, "automotive", "logistics")
    match.reciprocity = 0.04
    session.add(match)
    session.commit()
    admin = seed.admin(session, 52)
    position = review.next_card(session=session, settings=settings, member=admin)
    card = position.card
    assert card is not None and position.pending == 1
    assert (card.need.cluster_slug, card.offer.cluster_slug) == ("automotive", "logistics")
    assert (card.need.size, card.offer.size, card.offer.is_kmu) == ("medium", "small", True)
    assert card.cross_cluster and card.reciprocal
    assert card.components["semantic"] == pytest.approx(0.62)
    assert card.reason("en") == "Both mention cold chain."
    assert card.reason("de") == "Beide nennen Kühlkette."


def test_skipped_proposals_come_after_the_others(session: Session, settings: Settings) -> None:
    _, _, first = seed.two_sided(session, 1000)
    _, _, second = seed.two_sided(session, 1010)
    second.score = 0.5
    session.add(second)
    session.commit()
    admin = seed.admin(session, 52)
    position = review.next_card(
        session=session, settings=settings, member=admin, skipped=[first.id]
    )
    assert position.card is not None and position.card.match_id == second.id
    assert (position.pending, position.skipped) == (2, 1)
    none_left = review.next_card(
        session=session, settings=settings, member=admin, skipped=[first.id, second.id]
    )
    assert none_left.card is None and none_left.skipped == 2


def test_approval_queues_an_offer_to_each_side_without_contact_details(
    session: Session, settings: Settings
) -> None:
    need_contact, offer_contact, match = seed.two_sided(session, 1000)
    manager = seed.manager(session, 50, "logistics", name="Maria Manager")
    decision = review.approve_match(
        session=session, settings=settings, member=manager, match_id=match.id
    )
    assert decision.status == MatchStatus.APPROVED and decision.unreachable == []
    rows = session.exec(select(Outbox).order_by(Outbox.id)).all()
    assert [(r.kind, r.member_id) for r in rows] == [
        ("intro_offer", need_contact.id),
        ("intro_offer", offer_contact.id),
    ]
    for row in rows:
        flat = repr(row.payload)
        assert "anna_berg" not in flat and "anna@kw.test" not in flat and "info@kl.test" not in flat
    assert rows[0].payload["other_organization"] == "Kühllogistik 1000"
    log = session.exec(select(AuditLog).where(AuditLog.action == "match.approve")).one()
    assert (log.actor_id, log.target, log.allowed) == (manager.id, f"match:{match.id}", True)


def test_manager_of_another_cluster_is_refused_and_logged(
    session: Session, settings: Settings
) -> None:
    _, _, match = seed.two_sided(session, 1000, "automotive", "logistics")
    it_manager = seed.manager(session, 51, "it")
    with pytest.raises(roles.NotAllowed) as refused:
        review.approve_match(
            session=session, settings=settings, member=it_manager, match_id=match.id
        )
    assert "outside" in refused.value.reason
    session.refresh(match)
    assert match.status == MatchStatus.PROPOSED
    log = session.exec(select(AuditLog)).one()
    assert (log.allowed, log.actor_id, log.action) == (False, it_manager.id, "match.approve")
    assert session.exec(select(Outbox)).first() is None


def test_plain_member_cannot_decide(session: Session, settings: Settings) -> None:
    need_contact, _, match = seed.two_sided(session, 1000)
    with pytest.raises(roles.NotAllowed):
        review.reject_match(
            session=session, settings=settings, member=need_contact, match_id=match.id
        )
    assert session.exec(select(AuditLog.allowed)).one() is False


def test_second_manager_is_told_who_decided_first(session: Session, settings: Settings) -> None:
    _, _, match = seed.two_sided(session, 1000)
    first = seed.manager(session, 50, "logistics", name="Maria")
    second = seed.manager(session, 51, "automotive", name="Jonas")
    review.reject_match(
        session=session, settings=settings, member=first, match_id=match.id, reason="zu weit weg"
    )
    with pytest.raises(review.MatchAlreadyDecided) as lost:
        review.approve_match(session=session, settings=settings, member=second, match_id=match.id)
    assert (lost.value.status, lost.value.by) == ("rejected", "Maria")
    session.refresh(match)
    assert (match.status, match.rejection_reason) == ("rejected", "zu weit weg")
    assert session.exec(select(Outbox)).first() is None


def test_reject_reason_longer_than_300_characters_is_refused(
    session: Session, settings: Settings
) -> None:
    _, _, match = seed.two_sided(session, 1000)
    admin = seed.admin(session, 52)
    with pytest.raises(review.ReasonTooLong):
        review.reject_match(
            session=session, settings=settings, member=admin, match_id=match.id, reason="x" * 301
        )
    session.refresh(match)
    assert match.status == MatchStatus.PROPOSED


def test_two_managers_approving_at_once_make_one_decision(
    engine: Engine, settings: Settings
) -> None:
    with Session(engine, expire_on_commit=False) as session:
        _, _, match = seed.two_sided(session, 1000)
        managers = [seed.manager(session, 50 + i, "logistics", name=f"M{i}") for i in range(2)]
        match_id = match.id
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(manager_id: int) -> None:
        with Session(engine, expire_on_commit=False) as own:
            member = own.get(type(managers[0]), manager_id)
            barrier.wait()
            try:
                review.approve_match(
                    session=own, settings=settings, member=member, match_id=match_id
                )
                outcomes.append("won")
            except review.MatchAlreadyDecided as lost:
                outcomes.append(f"lost to {lost.by}")

    for _ in range(5):  # several rounds on fresh proposals to give the race a chance
        threads = [threading.Thread(target=decide, args=(m.id,)) for m in managers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(o.split()[0] for o in outcomes) == ["lost", "won"]
        with Session(engine) as check:
            decided = check.get(Match, match_id)
            assert decided.status == MatchStatus.APPROVED
            offers = check.exec(select(Outbox).where(Outbox.kind == "intro_offer")).all()
            assert len(offers) == 2
            winner_name = "M0" if decided.decided_by_id == managers[0].id else "M1"
            assert (
                outcomes[[o.split()[0] for o in outcomes].index("lost")] == f"lost to {winner_name}"
            )
            decided.status = MatchStatus.PROPOSED
            decided.decided_by_id = None
            check.add(decided)
            for row in offers:
                check.delete(row)
            check.commit()
        outcomes.clear()


def test_one_message_per_manager_after_a_round_whatever_the_number_of_proposals(
    session: Session, settings: Settings
) -> None:
    round_ = seed.match_round(session)
    for base in range(1000, 1070, 10):
        seed.two_sided(session, base, "automotive", "logistics", round_id=round_.id)
    seed.two_sided(session, 2000, "it", "it", round_id=round_.id)
    logistics = seed.manager(session, 50, "logistics")
    it_manager = seed.manager(session, 51, "it")
    seed.manager(session, 53)  # no clusters: nothing to review, no message
    queued = review.notify_managers_of_new_proposals(session=session, settings=settings, force=True)
    again = review.notify_managers_of_new_proposals(session=session, settings=settings, force=True)
    rows = session.exec(select(Outbox).where(Outbox.kind == "manager_new_proposals")).all()
    assert (queued, again) == (2, 0)
    counts = {r.member_id: r.payload["count"] for r in rows}
    assert counts == {logistics.id: 7, it_manager.id: 1}


def posted(session: Session, base_id: int) -> Match:
    """A proposal as posting a listing stores it: under its own round of mode "listing"."""
    listing_round = seed.match_round(session, mode="listing")
    return seed.two_sided(session, base_id, round_id=listing_round.id)[2]


def notices(session: Session, manager_id: int) -> list[int]:
    rows = session.exec(
        select(Outbox).where(Outbox.member_id == manager_id).order_by(col(Outbox.id))
    ).all()
    return [r.payload["count"] for r in rows]


def test_proposals_made_when_a_contact_posts_reach_the_manager(
    session: Session, settings: Settings
) -> None:
    manager = seed.manager(session, 50, "logistics")
    posted(session, 1000)
    assert review.notify_managers_of_new_proposals(session=session, settings=settings) == 1
    assert notices(session, manager.id) == [1]


def test_notices_are_batched_at_most_one_per_interval_and_never_repeat_a_proposal(
    session: Session, settings: Settings
) -> None:
    manager = seed.manager(session, 50, "logistics")
    start = utcnow()
    first = posted(session, 1000)
    review.notify_managers_of_new_proposals(session=session, settings=settings, now=start)
    session.refresh(first)
    assert first.announced_at == start
    posted(session, 1010)
    posted(session, 1020)
    later = start + timedelta(minutes=settings.manager_notice_interval_minutes - 1)
    assert (
        review.notify_managers_of_new_proposals(session=session, settings=settings, now=later) == 0
    )
    hour = start + timedelta(minutes=settings.manager_notice_interval_minutes)
    assert (
        review.notify_managers_of_new_proposals(session=session, settings=settings, now=hour) == 1
    )
    # a restart decides from the database: nothing to repeat
    assert (
        review.notify_managers_of_new_proposals(session=session, settings=settings, force=True) == 0
    )
    assert notices(session, manager.id) == [1, 2]


def test_the_notice_after_the_nightly_round_comes_within_the_hour_too(
    session: Session, settings: Settings
) -> None:
    manager = seed.manager(session, 50, "logistics")
    posted(session, 1000)
    review.notify_managers_of_new_proposals(session=session, settings=settings)
    round_ = seed.match_round(session)
    seed.two_sided(session, 1010, round_id=round_.id)
    posted(session, 1020)
    assert review.notify_managers_of_new_proposals(session=session, settings=settings) == 0
    assert (
        review.notify_managers_of_new_proposals(session=session, settings=settings, force=True) == 1
    )
    assert notices(session, manager.id) == [1, 2]


def test_a_proposal_no_manager_reviews_waits_for_one(session: Session, settings: Settings) -> None:
    orphan = posted(session, 1000)
    assert review.notify_managers_of_new_proposals(session=session, settings=settings) == 0
    session.refresh(orphan)
    assert orphan.announced_at is None
    manager = seed.manager(session, 50, "logistics")
    review.notify_managers_of_new_proposals(session=session, settings=settings, force=True)
    assert notices(session, manager.id) == [1]


def test_next_browses_on_from_the_current_card_and_wraps_around(
    session: Session, settings: Settings
) -> None:
    matches = [seed.two_sided(session, 1000 + 10 * i)[2] for i in range(3)]
    for match, score in zip(matches, (0.9, 0.8, 0.7), strict=True):
        match.score = score
        session.add(match)
    session.commit()
    admin = seed.admin(session, 52)

    def after(match_id: int | None, skipped: list[int] = []) -> int:  # noqa: B006
        position = review.next_card(
            session=session, settings=settings, member=admin, after=match_id, skipped=skipped
        )
        return position.card.match_id

    first, second, third = (m.id for m in matches)
    assert after(None) == first
    assert (after(first), after(second), after(third)) == (second, third, first)
    assert after(first, skipped=[second]) == third
