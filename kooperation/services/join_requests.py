"""Join requests and claims: a member asks to become a contact of an existing company; a
contact or the cluster's manager decides (a claim: the manager only), the first decision wins,
unanswered after 7 days it expires."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import and_, update
from sqlmodel import Session, col, select

from kooperation.config import Settings
from kooperation.messages import JoinDecided, JoinRequested
from kooperation.models import (
    Cluster,
    JoinKind,
    JoinRequest,
    JoinStatus,
    Member,
    Organization,
    utcnow,
)
from kooperation.services import audit, roles
from kooperation.services.company_contacts import (
    Action,
    AlreadyContact,
    AlreadyDecided,
    RequestNotFound,
    TooManyRequests,
    become_contact,
    cluster_staff,
    contacts_of,
    is_contact,
    may_manage,
    organization_or_error,
    pending_request,
    withdraw_requests,
)
from kooperation.services.outbox import queue_message

REQUEST_LIFETIME = timedelta(days=7)
REQUESTS_PER_DAY = 5  # each request messages every contact of a company: no spamming them


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
    organization = organization_or_error(session, organization_id)
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
    organization = organization_or_error(session, request.organization_id)
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
