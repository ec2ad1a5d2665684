"""Seeding helpers for the schedules tests: organizations, contacts, listings, matches."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlmodel import Session, select

from kooperation.models import (
    Cluster,
    Listing,
    Match,
    MatchStatus,
    Member,
    Organization,
    utcnow,
)

_ids = itertools.count(910_000_001)


@dataclass
class World:
    session: Session

    def cluster(self, slug: str) -> Cluster:
        cluster = self.session.exec(select(Cluster).where(Cluster.slug == slug)).one()
        return cluster

    def company(
        self,
        name: str,
        cluster: str = "it",
        *,
        language: str = "de",
        chat: bool = True,
        **member_fields: object,
    ) -> Member:
        """An organization with one consenting contact who has a private chat with the bot."""
        organization = Organization(name=name, cluster_id=self.cluster(cluster).id)
        self.session.add(organization)
        self.session.flush()
        user_id = next(_ids)
        member = Member(
            telegram_user_id=user_id,
            chat_id=user_id if chat else None,
            display_name=f"Kontakt {name}",
            language=language,
            organization_id=organization.id,
            consent_at=utcnow(),
            **member_fields,
        )
        self.session.add(member)
        self.session.commit()
        return member

    def listing(
        self,
        member: Member,
        kind: str,
        title: str,
        *,
        created_at: datetime | None = None,
        expires_at: datetime | None = None,
        status: str = "active",
    ) -> Listing:
        now = utcnow()
        listing = Listing(
            organization_id=member.organization_id,
            member_id=member.id,
            kind=kind,
            title=title,
            text=f"{title} – ausführliche Beschreibung des Bedarfs oder Angebots.",
            status=status,
            created_at=created_at or now,
            expires_at=expires_at or now + timedelta(days=90),
        )
        self.session.add(listing)
        self.session.commit()
        return listing

    def match(
        self, need: Listing, offer: Listing, status: str = MatchStatus.APPROVED, **fields: object
    ) -> Match:
        match = Match(
            need_id=need.id,
            offer_id=offer.id,
            score=0.8,
            status=status,
            reason_de="Beide nennen Lagerlogistik.",
            reason_en="Both mention warehouse logistics.",
            decided_at=fields.pop("decided_at", utcnow()),
            **fields,
        )
        self.session.add(match)
        self.session.commit()
        return match


@pytest.fixture
def world(session: Session) -> World:
    return World(session)
