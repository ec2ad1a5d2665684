"""Follow-ups: 14 days after an introduction both sides are asked how it went.

The answers land in `Match.need_feedback` / `Match.offer_feedback`, which /stats counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from kooperation.config import Settings
from kooperation.messages import FollowupQuestion
from kooperation.models import (
    Feedback,
    Listing,
    Match,
    MatchStatus,
    Member,
    Organization,
    utcnow,
)
from kooperation.services.company_contacts import refuse_not_yours
from kooperation.services.introductions import listing_title, side_contact
from kooperation.services.outbox import queue_message

FOLLOWUP_HORIZON_DAYS = 60
"""Introductions older than this when the job first sees them get no follow-up any more."""


class FollowupError(Exception):
    """A follow-up answer that changes nothing (not the member's match, not introduced)."""


@dataclass(frozen=True)
class FeedbackResult:
    match_id: int
    feedback: Feedback
    language: str
    own_title: str


def listing_contacts(*, session: Session, listing: Listing) -> list[Member]:
    """Who is told about a listing: the same one contact the introductions talk to."""
    contact = side_contact(session=session, listing=listing)
    return [contact] if contact is not None else []


def speaks_for(*, member: Member, listing: Listing) -> bool:
    """A member answers for a listing of their own organization."""
    return member.organization_id is not None and member.organization_id == listing.organization_id


def followup_key(match_id: int, member_id: int) -> str:
    return f"followup:{match_id}:{member_id}"


def queue_due_followups(
    *, session: Session, settings: Settings, now: datetime | None = None
) -> int:
    """Queues the follow-up to both sides of every introduction that is old enough; commits.

    Idempotent through the dedupe key: running it every hour asks each side once.
    """
    now = now or utcnow()
    due_before = now - timedelta(days=settings.followup_after_days)
    horizon = due_before - timedelta(days=FOLLOWUP_HORIZON_DAYS)
    matches = session.exec(
        select(Match).where(
            Match.status == MatchStatus.INTRODUCED,
            col(Match.introduced_at) <= due_before,
            col(Match.introduced_at) > horizon,
        )
    ).all()
    queued = 0
    for match in matches:
        need, offer = session.get(Listing, match.need_id), session.get(Listing, match.offer_id)
        if need is None or offer is None:
            continue
        for own, other, answered in (
            (need, offer, match.need_feedback),
            (offer, need, match.offer_feedback),
        ):
            if answered is not None:
                continue
            other_org = session.get(Organization, other.organization_id)
            for member in listing_contacts(session=session, listing=own):
                payload = FollowupQuestion(
                    match_id=match.id or 0,
                    own_title=listing_title(own),
                    other_org=other_org.name if other_org else "",
                )
                key = followup_key(match.id or 0, member.id or 0)
                if queue_message(
                    session=session,
                    member=member,
                    dedupe_key=key,
                    payload=payload,
                    due_at=now,
                ):
                    queued += 1
    session.commit()
    return queued


def record_feedback(
    *, session: Session, match_id: int, member: Member | None, feedback: Feedback
) -> FeedbackResult:
    """Stores one side's answer to the follow-up; a later answer replaces an earlier one.
    `member` is None for a stranger, who is refused."""
    match = session.get(Match, match_id)
    if member is None or match is None:
        raise FollowupError("unknown member or match")
    if match.status != MatchStatus.INTRODUCED:
        raise FollowupError("match is not introduced")
    need, offer = session.get(Listing, match.need_id), session.get(Listing, match.offer_id)
    if need is not None and speaks_for(member=member, listing=need):
        match.need_feedback, own = feedback.value, need
    elif offer is not None and speaks_for(member=member, listing=offer):
        match.offer_feedback, own = feedback.value, offer
    else:
        refuse_not_yours(session=session, member=member, target=f"followup:{match_id}")
        raise FollowupError("member is on neither side")
    session.add(match)
    session.commit()
    return FeedbackResult(
        match_id=match_id,
        feedback=feedback,
        language=member.language,
        own_title=listing_title(own),
    )
