"""The periodic housekeeping: follow-ups, expiry, join requests, the managers' review list."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from kooperation.config import Settings
from kooperation.models import utcnow
from kooperation.services import companies, expiry, followups, join_requests


def housekeeping(
    *, session: Session, settings: Settings, now: datetime | None = None
) -> dict[str, int]:
    """Follow-ups that are due, expiry reminders, closing expired listings (and, for company
    membership, expiring unanswered join requests and the managers' one-time review list).
    Returns how many follow-ups and reminders were queued and listings closed."""
    now = now or utcnow()
    join_requests.expire_requests(session=session, now=now)
    companies.queue_membership_review(session=session, settings=settings)
    return {
        "followups": followups.queue_due_followups(session=session, settings=settings, now=now),
        "reminders": expiry.queue_expiry_reminders(session=session, settings=settings, now=now),
        "closed": expiry.close_expired_listings(session=session, settings=settings, now=now),
    }
