"""Verified company membership: who speaks for a company, and the three honest ways in.

`Member.organization_id` means "verified contact of this company", so every check that
compares it with a listing's organization keeps its meaning. Ways in:

1. the company's colleague invite link (`Organization.invite_code`, shown only to its
   contacts) or a manager's single-use company invite (`CompanyInvite`): joins at once;
2. a join request (`JoinRequest`, kind join) that any contact of the company or its cluster
   manager approves; the first decision wins; unanswered after 7 days it expires;
3. a claim (kind claim) of a company without any contact (imported from CSV), decided by its
   cluster manager only, who sees the imported contact data next to the claimant's Telegram
   name and @username.

Until approved the requester has no organization. Every message goes through the outbox.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import and_, update
from sqlmodel import Session, col, select

from kooperation.config import Settings
from kooperation.messages import (
    CompanyOrphaned,
    JoinDecided,
    JoinRequested,
    MembershipReview,
    ReviewCompany,
)
from kooperation.models import (
    Cluster,
    CompanyInvite,
    JoinKind,
    JoinRequest,
    JoinStatus,
    Listing,
    ListingStatus,
    ManagerCluster,
    Match,
    MatchStatus,
    Member,
    Organization,
    Role,
    utcnow,
)
from kooperation.services import audit, roles
from kooperation.services.outbox import queue_message

REQUEST_LIFETIME = timedelta(days=7)
REQUESTS_PER_DAY = 5  # each request messages every contact of a company: no spamming them
INVITE_LIFETIME = timedelta(days=14)
COMPANY_INVITE_PREFIX = "co-"
NOT_A_CONTACT = "not a verified contact of the company"


class MembershipError(Exception):
    """Base of the membership errors the bot turns into a friendly text."""


class AlreadyContact(MembershipError):
    """The member already speaks for a company (they leave it first)."""


class TooManyRequests(MembershipError):
    """More than `REQUESTS_PER_DAY` requests within a day."""


class RequestNotFound(MembershipError):
    """No such join request (or a forged id)."""


class AlreadyDecided(MembershipError):
    """Somebody decided first, or the request expired or was withdrawn; `status` says which."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


class CompanyInviteInvalid(MembershipError):
    """A company invite that is unknown, used or expired (`reason`)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotAContact(MembershipError):
    """The member is not (or no longer) a contact of any company."""


class Action:
    """Audit actions of this module (next to `audit.Action`)."""

    APPROVE = "membership.approve"
    DECLINE = "membership.decline"
    COMPANY_INVITE = "membership.company_invite"
    MERGE = "organization.merge"
    NOT_YOURS = "company.not_yours"


# --------------------------------------------------------------------------- who speaks for it
def is_contact(*, member: Member | None, organization_id: int | None) -> bool:
    """A verified contact of this organization (consent given, not deleted)."""
    return bool(
        member is not None
        and organization_id is not None
        and member.consent_at is not None
        and member.organization_id == organization_id
    )


def refuse_not_yours(*, session: Session, member: Member | None, target: str) -> None:
    """Audit-logs a company action by someone who does not speak for the company; the caller
    then raises its own "not yours" error, the same for strangers, requesters and former
    contacts."""
    audit.record_refusal(
        session=session,
        actor=member,
        action=Action.NOT_YOURS,
        target=target,
        reason=NOT_A_CONTACT,
    )


def contacts_of(*, session: Session, organization_id: int) -> list[Member]:
    """The company's verified contacts, oldest first."""
    return list(
        session.exec(
            select(Member)
            .where(
                Member.organization_id == organization_id,
                col(Member.consent_at).is_not(None),
            )
            .order_by(col(Member.created_at), col(Member.id))
        ).all()
    )


def cluster_staff(*, session: Session, settings: Settings, cluster_id: int) -> list[Member]:
    """The cluster's managers; when it has none, the admins (somebody must be able to decide)."""
    managers = list(
        session.exec(
            select(Member)
            .join(ManagerCluster, col(ManagerCluster.member_id) == col(Member.id))
            .where(ManagerCluster.cluster_id == cluster_id)
            .order_by(col(Member.id))
        ).all()
    )
    if managers:
        return managers
    admins = session.exec(
        select(Member)
        .where(
            (col(Member.role) == Role.ADMIN)
            | col(Member.telegram_user_id).in_(list(settings.admin_telegram_ids))
        )
        .order_by(col(Member.id))
    ).all()
    return list(admins)


def may_manage(
    *, session: Session, settings: Settings, member: Member | None, organization: Organization
) -> bool:
    """An admin, or a manager of the company's cluster."""
    if member is None:
        return False
    clusters = roles.managed_cluster_ids(session=session, settings=settings, member=member)
    return clusters is None or organization.cluster_id in clusters


def _organization(session: Session, organization_id: int) -> Organization:
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise RequestNotFound(f"organization {organization_id}")
    return organization


def pending_request(*, session: Session, member: Member) -> JoinRequest | None:
    """The member's open request, if any (one at a time)."""
    return session.exec(
        select(JoinRequest).where(
            JoinRequest.member_id == member.id,
            JoinRequest.status == JoinStatus.PENDING,
            col(JoinRequest.expires_at) > utcnow(),
        )
    ).first()


def withdraw_requests(*, session: Session, member: Member) -> int:
    """Ends the member's open requests (they chose another way in); does not commit."""
    result = session.exec(
        update(JoinRequest)
        .where(
            col(JoinRequest.member_id) == member.id,
            col(JoinRequest.status) == JoinStatus.PENDING,
        )
        .values(status=JoinStatus.WITHDRAWN, decided_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def become_contact(*, session: Session, member: Member, organization: Organization) -> None:
    """The one place a member becomes a verified contact; does not commit."""
    withdraw_requests(session=session, member=member)
    member.organization_id = organization.id
    session.add(member)
    session.flush()
    _adopt_listings(session, organization.id or 0)


def _adopt_listings(session: Session, organization_id: int) -> None:
    """The company's listings whose author no longer speaks for it (they left) go to its oldest
    contact, so somebody can still edit, pause, resume or close them; does not commit."""
    contacts = contacts_of(session=session, organization_id=organization_id)
    if not contacts:
        return
    session.exec(
        update(Listing)
        .where(
            col(Listing.organization_id) == organization_id,
            col(Listing.member_id).is_not(None),
            col(Listing.member_id).not_in([c.id for c in contacts]),
        )
        .values(member_id=contacts[0].id)
        .execution_options(synchronize_session=False)
    )


# --------------------------------------------------------------------------- join requests
@dataclass(frozen=True)
class Requested:
    request: JoinRequest
    organization: Organization
    new: bool  # False: the same request was already open


def request_to_join(
    *,
    session: Session,
    settings: Settings,
    member: Member,
    organization_id: int,
    telegram_name: str = "",
) -> Requested:
    """Asks to become a contact of an existing company; the member stays without one.

    A company with contacts gets a join request its contacts and cluster manager can decide;
    one without (imported) gets a claim only its cluster manager decides. Asking again for the
    same company keeps the open request; asking for another one replaces it.
    """
    if member.organization_id is not None:
        raise AlreadyContact(str(member.organization_id))
    organization = _organization(session, organization_id)
    open_request = pending_request(session=session, member=member)
    if open_request is not None and open_request.organization_id == organization.id:
        return Requested(open_request, organization, new=False)
    recent = session.exec(
        select(JoinRequest.id).where(
            JoinRequest.member_id == member.id,
            col(JoinRequest.created_at) > utcnow() - timedelta(days=1),
        )
    ).all()
    if len(recent) >= REQUESTS_PER_DAY:
        raise TooManyRequests(str(member.id))
    withdraw_requests(session=session, member=member)
    contacts = contacts_of(session=session, organization_id=organization_id)
    now = utcnow()
    assert member.id is not None, "a member who asks is a stored row"
    request = JoinRequest(
        member_id=member.id,
        organization_id=organization_id,
        kind=JoinKind.JOIN if contacts else JoinKind.CLAIM,
        created_at=now,
        expires_at=now + REQUEST_LIFETIME,
    )
    session.add(request)
    session.flush()
    cluster = session.get(Cluster, organization.cluster_id)
    payload = JoinRequested(
        request_id=request.id or 0,
        kind=JoinKind(request.kind),
        organization=organization.name,
        cluster=cluster.name if cluster else "",
        requester=telegram_name or member.display_name,
        username=member.username,
    )
    for contact in contacts if request.kind == JoinKind.JOIN else []:
        queue_message(
            session=session,
            member=contact,
            dedupe_key=f"join_request:{request.id}:{contact.id}",
            payload=payload,
        )
    staff_payload = replace(
        payload,
        for_staff=True,
        organization_id=organization.id,
        contact_name=organization.contact_name,
        contact_email=organization.contact_email,
    )
    for manager in cluster_staff(
        session=session, settings=settings, cluster_id=organization.cluster_id
    ):
        if manager.id != member.id and manager.organization_id != organization.id:
            queue_message(
                session=session,
                member=manager,
                dedupe_key=f"join_request:{request.id}:{manager.id}",
                payload=staff_payload,
            )
    session.commit()
    session.refresh(request)
    return Requested(request, organization, new=True)


@dataclass(frozen=True)
class Decision:
    request_id: int
    approved: bool
    organization: str
    requester: str


def _may_decide(
    session: Session, settings: Settings, actor: Member, request: JoinRequest, org: Organization
) -> bool:
    if actor.id == request.member_id:
        return False
    if request.kind == JoinKind.JOIN and is_contact(member=actor, organization_id=org.id):
        return True
    return may_manage(session=session, settings=settings, member=actor, organization=org)


def decide_request(
    *, session: Session, settings: Settings, actor: Member | None, request_id: int, approve: bool
) -> Decision:
    """A contact or manager approves or declines; the first decision wins (one conditional
    UPDATE), the requester is told in neutral words through the outbox."""
    request = session.get(JoinRequest, request_id)
    if request is None:
        raise RequestNotFound(str(request_id))
    organization = _organization(session, request.organization_id)
    action = Action.APPROVE if approve else Action.DECLINE
    if actor is None or not _may_decide(session, settings, actor, request, organization):
        roles.refuse(
            session=session,
            member=actor,
            action=action,
            target=f"join_request:{request_id}",
            reason="neither a contact of the company nor its manager",
        )
    assert actor is not None
    now = utcnow()
    status = JoinStatus.APPROVED if approve else JoinStatus.DECLINED
    moved = session.exec(
        update(JoinRequest)
        .where(
            and_(
                col(JoinRequest.id) == request_id,
                col(JoinRequest.status) == JoinStatus.PENDING,
                col(JoinRequest.expires_at) > now,
            )
        )
        .values(status=status, decided_by_id=actor.id, decided_at=now)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        session.rollback()
        session.refresh(request)
        shown = JoinStatus.EXPIRED if request.status == JoinStatus.PENDING else request.status
        raise AlreadyDecided(shown)
    requester = session.get(Member, request.member_id)
    assert requester is not None
    if approve and requester.organization_id is None:
        become_contact(session=session, member=requester, organization=organization)
        organization.membership_review = False
        session.add(organization)
    _tell_requester(session, requester, request, organization, status)
    audit.record(
        session=session,
        actor=actor,
        action=action,
        target=f"join_request:{request_id}",
        detail={"organization": organization.id, "member": requester.id, "kind": request.kind},
    )
    session.commit()
    return Decision(
        request_id=request_id,
        approved=approve,
        organization=organization.name,
        requester=requester.display_name or requester.username,
    )


def _tell_requester(
    session: Session, requester: Member, request: JoinRequest, org: Organization, status: str
) -> None:
    queue_message(
        session=session,
        member=requester,
        dedupe_key=f"join_decided:{request.id}",
        payload=JoinDecided(
            organization=org.name, status=JoinStatus(status), kind=JoinKind(request.kind)
        ),
    )


def expire_requests(*, session: Session, now: datetime | None = None) -> int:
    """Closes requests nobody answered within 7 days; the requester hears it neutrally."""
    now = now or utcnow()
    due = session.exec(
        select(JoinRequest).where(
            JoinRequest.status == JoinStatus.PENDING, col(JoinRequest.expires_at) <= now
        )
    ).all()
    expired = 0
    for request in due:
        moved = session.exec(
            update(JoinRequest)
            .where(col(JoinRequest.id) == request.id, col(JoinRequest.status) == JoinStatus.PENDING)
            .values(status=JoinStatus.EXPIRED, decided_at=now)
            .execution_options(synchronize_session=False)
        )
        requester = session.get(Member, request.member_id)
        organization = session.get(Organization, request.organization_id)
        if moved.rowcount == 1 and requester is not None and organization is not None:
            _tell_requester(session, requester, request, organization, JoinStatus.EXPIRED)
            expired += 1
        session.commit()
    return expired


# --------------------------------------------------------------------------- company invites
def create_company_invite(
    *, session: Session, settings: Settings, actor: Member | None, organization_id: int
) -> CompanyInvite:
    """A single-use link for the company's (imported) contact, valid 14 days. `actor` None is
    the operator on the command line; in the bot only the cluster's manager or an admin."""
    organization = _organization(session, organization_id)
    if actor is not None and not may_manage(
        session=session, settings=settings, member=actor, organization=organization
    ):
        roles.refuse(
            session=session,
            member=actor,
            action=Action.COMPANY_INVITE,
            target=f"organization:{organization_id}",
            reason="not a manager of the company's cluster",
        )
    now = utcnow()
    invite = CompanyInvite(
        code=secrets.token_urlsafe(12),
        organization_id=organization_id,
        created_by_id=actor.id if actor else None,
        created_at=now,
        expires_at=now + INVITE_LIFETIME,
    )
    session.add(invite)
    audit.record(
        session=session,
        actor=actor,
        action=Action.COMPANY_INVITE,
        target=f"organization:{organization_id}",
        detail={"expires_at": invite.expires_at.isoformat()},
    )
    session.commit()
    session.refresh(invite)
    return invite


def company_invite_payload(invite: CompanyInvite) -> str:
    return f"{COMPANY_INVITE_PREFIX}{invite.code}"


def redeem_company_invite(*, session: Session, member: Member, code: str) -> Organization:
    """The invite's user becomes a contact of its company; single use under two simultaneous
    taps (one conditional UPDATE). Raises CompanyInviteInvalid ("unknown", "used",
    "expired", "member": already a contact of another company)."""
    code = code.strip().removeprefix(COMPANY_INVITE_PREFIX)
    now = utcnow()
    invite = session.get(CompanyInvite, code) if code else None
    if invite is None:
        raise CompanyInviteInvalid("unknown")
    if member.organization_id not in (None, invite.organization_id):
        raise CompanyInviteInvalid("member")
    claimed = session.exec(
        update(CompanyInvite)
        .where(
            and_(
                col(CompanyInvite.code) == code,
                col(CompanyInvite.used_by_id).is_(None),
                col(CompanyInvite.expires_at) > now,
            )
        )
        .values(used_by_id=member.id, used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        session.rollback()
        session.refresh(invite)
        raise CompanyInviteInvalid("used" if invite.used_by_id is not None else "expired")
    organization = _organization(session, invite.organization_id)
    become_contact(session=session, member=member, organization=organization)
    session.commit()
    return organization


# --------------------------------------------------------------------------- leaving
@dataclass(frozen=True)
class Left:
    organization: str
    paused_listings: int  # > 0 only when the last contact left


def leave_company(*, session: Session, settings: Settings, member: Member) -> Left:
    """The member stops speaking for their company; its colleague link is renewed. The last
    contact leaving pauses the company's active listings (nothing is deleted) and the
    cluster's managers are told."""
    from kooperation.services.organizations import new_invite_code  # imports this module

    if member.organization_id is None:
        raise NotAContact(str(member.id))
    organization = _organization(session, member.organization_id)
    member.organization_id = None
    # The colleague link the leaver knew stops working: a former contact (or whoever they
    # pass it to) must ask again. The remaining contacts find the new link in /settings.
    organization.invite_code = new_invite_code()
    session.add_all([member, organization])
    session.flush()
    paused = 0
    _adopt_listings(session, organization.id or 0)
    if not contacts_of(session=session, organization_id=organization.id or 0):
        result = session.exec(
            update(Listing)
            .where(
                col(Listing.organization_id) == organization.id,
                col(Listing.status) == ListingStatus.ACTIVE,
            )
            .values(status=ListingStatus.PAUSED, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        paused = int(result.rowcount or 0)
        for manager in cluster_staff(
            session=session, settings=settings, cluster_id=organization.cluster_id
        ):
            queue_message(
                session=session,
                member=manager,
                dedupe_key=f"company_orphaned:{organization.id}:{member.id}:{manager.id}:"
                f"{utcnow():%Y%m%d%H%M}",
                payload=CompanyOrphaned(
                    organization=organization.name,
                    organization_id=organization.id or 0,
                    paused=paused,
                ),
            )
    session.commit()
    return Left(organization=organization.name, paused_listings=paused)


# --------------------------------------------------------------------------- staff views
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

    organization = _organization(session, organization_id)
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
    source = _organization(session, source_id)
    target = _organization(session, target_id)
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


def pending_company(*, session: Session, member: Member) -> str:
    """The name of the company the member's open request waits for ("" when none)."""
    request = pending_request(session=session, member=member)
    if request is None:
        return ""
    organization = session.get(Organization, request.organization_id)
    return organization.name if organization else ""


def own_contact_data(*, member: Member, organization: Organization) -> dict[str, str]:
    """The company's stored contact name and e-mail as far as they are the member's own:
    imported contact data of somebody else is for the cluster's managers only."""
    own = {}
    if organization.contact_name and organization.contact_name == member.display_name:
        own["contact_name"] = organization.contact_name
    if organization.contact_email and organization.contact_email == member.email:
        own["contact_email"] = organization.contact_email
    return own


class CompanyNotFound(MembershipError):
    """No company for this reference or name; `candidates` lists names when it is ambiguous."""

    def __init__(self, query: str, candidates: list[str] | None = None) -> None:
        super().__init__(query)
        self.query = query
        self.candidates = candidates or []


def find_company(*, session: Session, ref_or_name: str) -> Organization:
    """The company behind a listing `ref` from the CSV import, an id (`#12`) or its name (exact,
    case-insensitive; else the only close match). Raises CompanyNotFound with the candidates."""
    from kooperation.services.organizations import search_organizations

    query = " ".join(ref_or_name.split())
    listing = session.exec(select(Listing).where(Listing.ref == query)).first() if query else None
    if listing is not None:
        return _organization(session, listing.organization_id)
    if query.startswith("#") and query[1:].isdigit() and int(query[1:]) <= 2**31 - 1:
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


@dataclass(frozen=True)
class OpenRequest:
    id: int
    kind: str
    organization: str
    requester: str
    username: str
    contact_name: str  # imported contact data: the manager compares it on a claim
    contact_email: str


def open_requests(
    *, session: Session, settings: Settings, actor: Member | None
) -> list[OpenRequest]:
    """Pending join requests and claims of the actor's clusters, oldest first, so a manager
    who missed the message can still decide them."""
    clusters = roles.require_staff(
        session=session, settings=settings, member=actor, action="membership.list_requests"
    )
    query = (
        select(JoinRequest, Organization, Member)
        .join(Organization, col(Organization.id) == col(JoinRequest.organization_id))
        .join(Member, col(Member.id) == col(JoinRequest.member_id))
        .where(JoinRequest.status == JoinStatus.PENDING, col(JoinRequest.expires_at) > utcnow())
    )
    if clusters is not None:
        query = query.where(col(Organization.cluster_id).in_(clusters))
    rows = session.exec(query.order_by(col(JoinRequest.created_at))).all()
    return [
        OpenRequest(
            id=request.id or 0,
            kind=request.kind,
            organization=organization.name,
            requester=member.display_name or str(member.telegram_user_id),
            username=member.username,
            contact_name=organization.contact_name,
            contact_email=organization.contact_email,
        )
        for request, organization, member in rows
    ]
