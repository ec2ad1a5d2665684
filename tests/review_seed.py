"""Builders for review/introduction tests: organizations, contacts, listings, proposals, managers.

Rows are created through the models (as the CSV import or the bot would leave them), so the
tests exercise the services against a real database without chat onboarding.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from kooperation.models import (
    Cluster,
    Kind,
    Listing,
    ManagerCluster,
    Match,
    MatchRound,
    Member,
    Organization,
    Role,
    Size,
    utcnow,
)


def cluster(session: Session, slug: str) -> Cluster:
    found = session.exec(select(Cluster).where(Cluster.slug == slug)).one()
    return found


def organization(
    session: Session, name: str, cluster_slug: str, size: str = Size.SMALL, **extra: str
) -> Organization:
    org = Organization(name=name, cluster_id=cluster(session, cluster_slug).id, size=size, **extra)
    session.add(org)
    session.commit()
    return org


def contact(
    session: Session,
    telegram_user_id: int,
    org: Organization | None,
    name: str = "",
    username: str = "",
    email: str = "",
    language: str = "de",
) -> Member:
    member = Member(
        telegram_user_id=telegram_user_id,
        chat_id=telegram_user_id,
        organization_id=org.id if org else None,
        display_name=name,
        username=username,
        email=email,
        language=language,
        consent_at=utcnow(),
    )
    session.add(member)
    session.commit()
    return member


def listing(
    session: Session, org: Organization, kind: str, text: str, member: Member | None = None
) -> Listing:
    row = Listing(
        organization_id=org.id,
        member_id=member.id if member else None,
        kind=kind,
        title=text[:60],
        text=text,
        expires_at=utcnow() + timedelta(days=90),
    )
    session.add(row)
    session.commit()
    return row


def proposal(
    session: Session,
    need: Listing,
    offer: Listing,
    score: float = 0.71,
    round_id: int | None = None,
    reciprocity: float = 0.0,
) -> Match:
    match = Match(
        need_id=need.id,
        offer_id=offer.id,
        round_id=round_id,
        score=score,
        semantic=0.62,
        lexical=0.3,
        tags=0.5,
        cross_cluster=0.05,
        reciprocity=reciprocity,
        shared_terms=["Kühlkette"],
        reason_de="Beide nennen Kühlkette.",
        reason_en="Both mention cold chain.",
    )
    session.add(match)
    session.commit()
    return match


def match_round(session: Session, mode: str = "full") -> MatchRound:
    """A finished round; mode "listing" is what a contact's posting writes (`match_listing`)."""
    row = MatchRound(finished_at=utcnow(), mode=mode)
    session.add(row)
    session.commit()
    return row


def manager(
    session: Session,
    telegram_user_id: int,
    *cluster_slugs: str,
    name: str = "",
    language: str = "de",
) -> Member:
    member = Member(
        telegram_user_id=telegram_user_id,
        chat_id=telegram_user_id,
        display_name=name,
        role=Role.MANAGER,
        language=language,
    )
    session.add(member)
    session.commit()
    for slug in cluster_slugs:
        session.add(ManagerCluster(member_id=member.id, cluster_id=cluster(session, slug).id))
    session.commit()
    return member


def admin(session: Session, telegram_user_id: int, name: str = "") -> Member:
    member = Member(
        telegram_user_id=telegram_user_id,
        chat_id=telegram_user_id,
        display_name=name,
        role=Role.ADMIN,
    )
    session.add(member)
    session.commit()
    return member


def two_sided(
    session: Session,
    base_id: int,
    need_cluster: str = "automotive",
    offer_cluster: str = "logistics",
    round_id: int | None = None,
) -> tuple[Member, Member, Match]:
    """A need of one cluster and an offer of another, each with a contact, and their proposal."""
    need_org = organization(session, f"Karosseriewerk {base_id}", need_cluster, Size.MEDIUM)
    offer_org = organization(
        session, f"Kühllogistik {base_id}", offer_cluster, Size.SMALL, contact_email="info@kl.test"
    )
    need_contact = contact(
        session, base_id, need_org, "Anna Berg", username="anna_berg", email="anna@kw.test"
    )
    offer_contact = contact(session, base_id + 1, offer_org, "Ben Kurz", username="")
    need = listing(
        session,
        need_org,
        Kind.NEED,
        "Wir suchen Kühlkettenlogistik für Batteriezellen.",
        need_contact,
    )
    offer = listing(
        session,
        offer_org,
        Kind.OFFER,
        "Temperaturgeführte Transporte, ADR-zertifiziert.",
        offer_contact,
    )
    return need_contact, offer_contact, proposal(session, need, offer, round_id=round_id)
