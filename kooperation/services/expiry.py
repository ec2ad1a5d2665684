"""Listings expire: a reminder some days before, then the listing closes with a one-tap extend."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from kooperation.config import Settings
from kooperation.dates import local_date
from kooperation.messages import ExpiryReminder, ListingClosed
from kooperation.models import Kind, Listing, ListingStatus, Member, utcnow
from kooperation.services.company_contacts import refuse_not_yours
from kooperation.services.followups import listing_contacts, speaks_for
from kooperation.services.introductions import listing_title
from kooperation.services.outbox import queue_message

OPEN_STATUSES = (ListingStatus.ACTIVE, ListingStatus.PAUSED)


class ExtendError(Exception):
    """The listing cannot be extended by this member (not theirs, gone, closed by its owner)."""


@dataclass(frozen=True)
class Extended:
    listing_id: int
    title: str
    expires_at: datetime
    reopened: bool
    language: str


def _payload(message: type[ExpiryReminder], listing: Listing, settings: Settings) -> ExpiryReminder:
    return message(
        listing_id=listing.id or 0,
        title=listing_title(listing),
        kind=Kind(listing.kind),
        expires_on=local_date(listing.expires_at, settings.tz),
        extend_days=settings.listing_lifetime_days,
    )


def expiry_key(listing: Listing, settings: Settings) -> str:
    day = local_date(listing.expires_at, settings.tz).isoformat()
    return f"expiry:{listing.id}:{day}"


def queue_expiry_reminders(
    *, session: Session, settings: Settings, now: datetime | None = None
) -> int:
    """Reminds the owners of open listings that expire within `expiry_reminder_days`; commits.

    The dedupe key holds the expiry date, so an extended listing gets a new reminder later.
    """
    now = now or utcnow()
    soon = now + timedelta(days=settings.expiry_reminder_days)
    listings = session.exec(
        select(Listing).where(
            col(Listing.status).in_(OPEN_STATUSES),
            Listing.expires_at > now,
            Listing.expires_at <= soon,
        )
    ).all()
    queued = 0
    for listing in listings:
        for member in listing_contacts(session=session, listing=listing):
            if queue_message(
                session=session,
                member=member,
                dedupe_key=expiry_key(listing, settings),
                payload=_payload(ExpiryReminder, listing, settings),
                due_at=now,
            ):
                queued += 1
    session.commit()
    return queued


def close_expired_listings(
    *, session: Session, settings: Settings, now: datetime | None = None
) -> int:
    """Closes open listings past their expiry and tells the owners, in one transaction each."""
    now = now or utcnow()
    listings = session.exec(
        select(Listing).where(col(Listing.status).in_(OPEN_STATUSES), Listing.expires_at <= now)
    ).all()
    for listing in listings:
        listing.status = ListingStatus.CLOSED
        listing.updated_at = now
        session.add(listing)
        day = local_date(listing.expires_at, settings.tz).isoformat()
        for member in listing_contacts(session=session, listing=listing):
            queue_message(
                session=session,
                member=member,
                dedupe_key=f"closed:{listing.id}:{day}",
                payload=_payload(ListingClosed, listing, settings),
                due_at=now,
            )
        session.commit()
    return len(listings)


def extend_listing(
    *,
    session: Session,
    settings: Settings,
    listing_id: int,
    member: Member | None,
    now: datetime | None = None,
) -> Extended:
    """Extends a listing by `listing_lifetime_days`; reopens it if expiry closed it.

    A listing its owner closed on purpose (closed before its expiry date) stays closed.
    """
    now = now or utcnow()
    listing = session.get(Listing, listing_id)
    if member is None or listing is None:
        raise ExtendError("unknown member or listing")
    if not speaks_for(member=member, listing=listing):
        refuse_not_yours(session=session, member=member, target=f"extend:{listing_id}")
        raise ExtendError("not the member's listing")
    reopened = False
    if listing.status == ListingStatus.CLOSED:
        if listing.expires_at > now:
            raise ExtendError("closed by its owner")
        listing.status = ListingStatus.ACTIVE
        reopened = True
    listing.expires_at = max(listing.expires_at, now) + timedelta(
        days=settings.listing_lifetime_days
    )
    listing.updated_at = now
    session.add(listing)
    session.commit()
    return Extended(
        listing_id=listing_id,
        title=listing_title(listing),
        expires_at=listing.expires_at,
        reopened=reopened,
        language=member.language,
    )
