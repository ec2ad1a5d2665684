"""Listings expire: a reminder seven days before, then closing with a one-tap extension."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from kooperation.config import Settings
from kooperation.models import Listing, Outbox, utcnow
from kooperation.services.expiry import (
    ExtendError,
    close_expired_listings,
    extend_listing,
    queue_expiry_reminders,
)
from tests import factories as seed


def outbox(session: Session) -> list[Outbox]:
    return list(session.exec(select(Outbox).order_by(Outbox.id)).all())


def test_the_owner_is_reminded_once_seven_days_before_expiry(
    session: Session,
    settings: Settings,
) -> None:
    owner = seed.company(session, "Firma", "it")
    soon = seed.listing(
        session, owner, "offer", title="Bald weg", expires_at=utcnow() + timedelta(days=6)
    )
    seed.listing(
        session, owner, "offer", title="Noch lange", expires_at=utcnow() + timedelta(days=8)
    )
    assert queue_expiry_reminders(session=session, settings=settings) == 1
    assert queue_expiry_reminders(session=session, settings=settings) == 0
    [row] = outbox(session)
    day = soon.expires_at.astimezone(settings.tz).date().isoformat()
    assert (row.kind, row.member_id, row.dedupe_key) == (
        "expiry_reminder",
        owner.id,
        f"expiry:{soon.id}:{day}",
    )


def test_an_expired_listing_is_closed_and_the_owner_told(
    session: Session,
    settings: Settings,
) -> None:
    owner = seed.company(session, "Firma", "it")
    gone = seed.listing(
        session, owner, "need", title="Abgelaufen", expires_at=utcnow() - timedelta(minutes=1)
    )
    assert close_expired_listings(session=session, settings=settings) == 1
    assert close_expired_listings(session=session, settings=settings) == 0
    session.refresh(gone)
    assert gone.status == "closed"
    assert [(r.kind, r.payload["listing_id"]) for r in outbox(session)] == [
        ("listing_closed", gone.id)
    ]


def test_extending_reopens_a_listing_expiry_closed_for_ninety_days(
    session: Session,
    settings: Settings,
) -> None:
    owner = seed.company(session, "Firma", "it")
    gone = seed.listing(
        session, owner, "need", title="Abgelaufen", expires_at=utcnow() - timedelta(days=1)
    )
    close_expired_listings(session=session, settings=settings)
    result = extend_listing(
        session=session,
        settings=settings,
        listing_id=gone.id,
        member=owner,
    )
    session.refresh(gone)
    assert result.reopened and gone.status == "active"
    assert timedelta(days=89) < gone.expires_at - utcnow() <= timedelta(days=90)


def test_extending_an_active_listing_adds_ninety_days_to_its_end(
    session: Session,
    settings: Settings,
) -> None:
    owner = seed.company(session, "Firma", "it")
    listing = seed.listing(
        session, owner, "offer", title="Läuft", expires_at=utcnow() + timedelta(days=5)
    )
    end = listing.expires_at
    extend_listing(
        session=session,
        settings=settings,
        listing_id=listing.id,
        member=owner,
    )
    session.refresh(listing)
    assert listing.expires_at == end + timedelta(days=90)
    assert listing.status == "active"


def test_a_listing_its_owner_closed_stays_closed(
    session: Session,
    settings: Settings,
) -> None:
    owner = seed.company(session, "Firma", "it")
    listing = seed.listing(session, owner, "offer", title="Geschlossen", status="closed")
    with pytest.raises(ExtendError):
        extend_listing(
            session=session,
            settings=settings,
            listing_id=listing.id,
            member=owner,
        )
    assert session.get(Listing, listing.id).status == "closed"


def test_someone_elses_listing_cannot_be_extended(
    session: Session,
    settings: Settings,
) -> None:
    owner = seed.company(session, "Firma", "it")
    stranger = seed.company(session, "Fremd", "it")
    listing = seed.listing(
        session, owner, "offer", title="Läuft", expires_at=utcnow() + timedelta(days=5)
    )
    end = listing.expires_at
    with pytest.raises(ExtendError):
        extend_listing(
            session=session,
            settings=settings,
            listing_id=listing.id,
            member=stranger,
        )
    session.refresh(listing)
    assert listing.expires_at == end
