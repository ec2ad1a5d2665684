"""The staff's company views: new companies, merging a duplicate, the one-off review of
companies whose contacts joined before membership was verified, finding a company by
reference or name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from kooperation.config import Settings
from kooperation.messages import MembershipReview, ReviewCompany
from kooperation.models import (
    ID_MAX,
    Cluster,
    CompanyInvite,
    JoinRequest,
    Listing,
    Match,
    MatchStatus,
    Member,
    Organization,
    utcnow,
)
from kooperation.services import audit, roles
from kooperation.services.company_contacts import (
    Action,
    CompanyNotFound,
    RequestNotFound,
    cluster_staff,
    contacts_of,
    may_manage,
    organization_or_error,
)
from kooperation.services.outbox import queue_message


@dataclass(frozen=True)
class CompanyRow:
    id: int
    name: str
    region: str
    cluster: str
    contacts: int
    created_at: datetime


def new_companies(
    *, session: Session, settings: Settings, actor: Member | None, days: int = 30
) -> list[CompanyRow]:
    """Companies registered in the bot within `days` in the actor's clusters, newest first."""
    clusters = roles.require_staff(
        session=session, settings=settings, member=actor, action="organization.list_new"
    )
    since = utcnow() - timedelta(days=days)
    query = select(Organization, Cluster).join(
        Cluster, col(Cluster.id) == col(Organization.cluster_id)
    )
    query = query.where(Organization.origin == "bot", col(Organization.created_at) >= since)
    if clusters is not None:
        query = query.where(col(Organization.cluster_id).in_(clusters))
    rows = []
    for organization, cluster in session.exec(
        query.order_by(col(Organization.created_at).desc())
    ).all():
        count = len(contacts_of(session=session, organization_id=organization.id or 0))
        rows.append(
            CompanyRow(
                id=organization.id or 0,
                name=organization.name,
                region=organization.region,
                cluster=cluster.short_name or cluster.name,
                contacts=count,
                created_at=organization.created_at,
            )
        )
    return rows


def merge_candidates(
    *, session: Session, settings: Settings, actor: Member | None, organization_id: int
) -> list[Organization]:
    """Existing companies of the same cluster whose name resembles the new one's."""
    from kooperation.services.organizations import search_organizations

    organization = organization_or_error(session, organization_id)
    _require_manager_of(session, settings, actor, organization, Action.MERGE)
    hits = search_organizations(session=session, query=organization.name, limit=8)
    return [
        hit
        for hit in hits
        if hit.id != organization.id and hit.cluster_id == organization.cluster_id
    ][:5]


def _require_manager_of(
    session: Session, settings: Settings, actor: Member | None, org: Organization, action: str
) -> None:
    if not may_manage(session=session, settings=settings, member=actor, organization=org):
        roles.refuse(
            session=session,
            member=actor,
            action=action,
            target=f"organization:{org.id}",
            reason="not a manager of the company's cluster",
        )


@dataclass(frozen=True)
class Merged:
    source: str
    target: str
    contacts: int
    listings: int


def merge_companies(
    *, session: Session, settings: Settings, actor: Member | None, source_id: int, target_id: int
) -> Merged:
    """Merges a duplicate typed slightly differently into the existing company: its contacts,
    listings and requests move over, the duplicate is deleted. Both must be in the actor's
    clusters; the contacts of the duplicate become contacts of the target (the manager vouches)."""
    if source_id == target_id:
        raise RequestNotFound("same organization")
    source = organization_or_error(session, source_id)
    target = organization_or_error(session, target_id)
    for organization in (source, target):
        _require_manager_of(session, settings, actor, organization, Action.MERGE)
    moved_members = session.exec(
        update(Member)
        .where(col(Member.organization_id) == source_id)
        .values(organization_id=target_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    moved_listings = session.exec(
        update(Listing)
        .where(col(Listing.organization_id) == source_id)
        .values(organization_id=target_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    _close_self_matches(session, target_id, actor)
    session.exec(
        update(JoinRequest)
        .where(col(JoinRequest.organization_id) == source_id)
        .values(organization_id=target_id)
        .execution_options(synchronize_session=False)
    )
    session.exec(
        update(CompanyInvite)
        .where(col(CompanyInvite.organization_id) == source_id)
        .values(organization_id=target_id)
        .execution_options(synchronize_session=False)
    )
    names = (source.name, target.name)
    session.delete(source)
    audit.record(
        session=session,
        actor=actor,
        action=Action.MERGE,
        target=f"organization:{target_id}",
        detail={"merged": source_id, "name": names[0]},
    )
    session.commit()
    return Merged(names[0], names[1], int(moved_members or 0), int(moved_listings or 0))


def _close_self_matches(session: Session, organization_id: int, actor: Member | None) -> None:
    """Open proposals between the two merged companies would ask one company to meet itself
    (matching never pairs a company with itself): they are rejected; does not commit."""
    own = select(Listing.id).where(col(Listing.organization_id) == organization_id)
    session.exec(
        update(Match)
        .where(
            col(Match.status).in_([MatchStatus.PROPOSED, MatchStatus.APPROVED]),
            col(Match.need_id).in_(own),
            col(Match.offer_id).in_(own),
        )
        .values(
            status=MatchStatus.REJECTED,
            decided_by_id=actor.id if actor else None,
            decided_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )


def queue_membership_review(*, session: Session, settings: Settings) -> int:
    """Once after the upgrade: each cluster's managers get the list of companies whose
    contacts joined before membership was verified; a company leaves the list when its
    managers have been told. Returns the number of messages queued."""
    flagged = session.exec(
        select(Organization)
        .where(col(Organization.membership_review).is_(True))
        .order_by(col(Organization.name))
    ).all()
    by_cluster: dict[int, list[Organization]] = {}
    for organization in flagged:
        by_cluster.setdefault(organization.cluster_id, []).append(organization)
    queued = 0
    for cluster_id, companies in by_cluster.items():
        staff = cluster_staff(session=session, settings=settings, cluster_id=cluster_id)
        reachable = [m for m in staff if m.chat_id is not None and m.active]
        if not reachable:
            continue
        rows = tuple(
            ReviewCompany(
                organization=organization.name,
                contacts=tuple(
                    member.display_name or member.username or str(member.telegram_user_id)
                    for member in contacts_of(session=session, organization_id=organization.id or 0)
                ),
            )
            for organization in companies
        )
        for manager in reachable:
            if queue_message(
                session=session,
                member=manager,
                dedupe_key=f"membership_review:{cluster_id}:{manager.id}",
                payload=MembershipReview(companies=rows),
            ):
                queued += 1
        for organization in companies:
            organization.membership_review = False
            session.add(organization)
    session.commit()
    return queued


def find_company(*, session: Session, ref_or_name: str) -> Organization:
    """The company behind a listing `ref` from the CSV import, an id (`#12`) or its name (exact,
    case-insensitive; else the only close match). Raises CompanyNotFound with the candidates."""
    from kooperation.services.organizations import search_organizations

    query = " ".join(ref_or_name.split())
    listing = session.exec(select(Listing).where(Listing.ref == query)).first() if query else None
    if listing is not None:
        return organization_or_error(session, listing.organization_id)
    if query.startswith("#") and query[1:].isdigit() and int(query[1:]) <= ID_MAX:
        found = session.get(Organization, int(query[1:]))
        if found is not None:
            return found
    if len(query) < 2:
        raise CompanyNotFound(query)
    hits = search_organizations(session=session, query=query, limit=10)
    exact = [hit for hit in hits if hit.name.casefold() == query.casefold()]
    if len(exact) == 1:
        return exact[0]
    if len(hits) == 1 and not exact:
        return hits[0]
    raise CompanyNotFound(query, [f"#{hit.id} {hit.name}" for hit in exact or hits])
