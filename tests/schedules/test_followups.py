"""Follow-ups 14 days after an introduction, and the answers that count in /stats."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from kooperation.config import Settings
from kooperation.models import Feedback, Match, MatchStatus, Outbox, utcnow
from kooperation.services.followups import FollowupError, queue_due_followups, record_feedback
from tests import factories as seed


@pytest.fixture
def introduced(session: Session) -> tuple[Match, object, object]:
    need_side = seed.company(session, "Spedition Nord", "logistics")
    offer_side = seed.company(session, "Code & Co", "it")
    match = seed.proposal(
        session,
        seed.listing(session, need_side, "need", title="Routenplanung"),
        seed.listing(session, offer_side, "offer", title="Touren-SaaS"),
        status=MatchStatus.INTRODUCED,
        introduced_at=utcnow() - timedelta(days=14, hours=1),
    )
    return match, need_side, offer_side


def test_both_sides_are_asked_once_fourteen_days_after_the_introduction(
    session: Session, settings: Settings, introduced: tuple
) -> None:
    match, need_side, offer_side = introduced
    assert queue_due_followups(session=session, settings=settings) == 2
    assert queue_due_followups(session=session, settings=settings) == 0
    rows = session.exec(select(Outbox).order_by(Outbox.id)).all()
    assert [(r.kind, r.member_id, r.dedupe_key) for r in rows] == [
        ("followup", need_side.id, f"followup:{match.id}:{need_side.id}"),
        ("followup", offer_side.id, f"followup:{match.id}:{offer_side.id}"),
    ]
    assert rows[0].payload["other_org"] == "Code & Co"


def test_nobody_is_asked_before_fourteen_days(
    session: Session,
    settings: Settings,
) -> None:
    need_side = seed.company(session, "A", "logistics")
    offer_side = seed.company(session, "B", "it")
    seed.proposal(
        session,
        seed.listing(session, need_side, "need", title="x"),
        seed.listing(session, offer_side, "offer", title="y"),
        status=MatchStatus.INTRODUCED,
        introduced_at=utcnow() - timedelta(days=13),
    )
    assert queue_due_followups(session=session, settings=settings) == 0


def test_each_answer_lands_on_the_answering_side(session: Session, introduced: tuple) -> None:
    match, need_side, offer_side = introduced
    record_feedback(
        session=session,
        match_id=match.id,
        member=offer_side,
        feedback=Feedback.IN_TOUCH,
    )
    result = record_feedback(
        session=session,
        match_id=match.id,
        member=need_side,
        feedback=Feedback.COOPERATING,
    )
    session.refresh(match)
    assert (match.need_feedback, match.offer_feedback) == ("cooperating", "in_touch")
    assert result.own_title == "Routenplanung"


def test_a_side_that_answered_is_not_asked_again(
    session: Session, settings: Settings, introduced: tuple
) -> None:
    match, need_side, _ = introduced
    record_feedback(
        session=session,
        match_id=match.id,
        member=need_side,
        feedback=Feedback.NO_CONTACT,
    )
    assert queue_due_followups(session=session, settings=settings) == 1


def test_someone_outside_the_match_cannot_answer_for_it(
    session: Session, introduced: tuple
) -> None:
    match = introduced[0]
    stranger = seed.company(session, "Fremd", "automotive")
    with pytest.raises(FollowupError):
        record_feedback(
            session=session,
            match_id=match.id,
            member=stranger,
            feedback=Feedback.COOPERATING,
        )
    session.refresh(match)
    assert (match.need_feedback, match.offer_feedback) == (None, None)
