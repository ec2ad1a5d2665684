"""Who speaks for a company: its verified contacts, the staff who decide for it, the one place
a member becomes a contact and the way they stop being one; the membership errors."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import Session, col, select

from kooperation.config import Settings
from kooperation.messages import CompanyOrphaned
from kooperation.models import (
    JoinRequest,
    JoinStatus,
    Listing,
    ListingStatus,
    ManagerCluster,
    Member,
    Organization,
    Role,
    utcnow,
)
from kooperation.services import audit, roles
from kooperation.services.outbox import queue_message

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


class CompanyNotFound(MembershipError):
    """No company for this reference or name; `candidates` lists names when it is ambiguous."""

    def __init__(self, query: str, candidates: list[str] | None = None) -> None:
        super().__init__(query)
        self.query = query
        self.candidates = candidates or []


class Action:
    """Audit actions of membership (next to `audit.Action`)."""

    APPROVE = "membership.approve"
    DECLINE = "membership.decline"
    COMPANY_INVITE = "membership.company_invite"
    MERGE = "organization.merge"
    NOT_YOURS = "company.not_yours"


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


def organization_or_error(session: Session, organization_id: int) -> Organization:
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
    adopt_listings(session, organization.id or 0)


def adopt_listings(session: Session, organization_id: int) -> None:
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
    organization = organization_or_error(session, member.organization_id)
    member.organization_id = None
    # The colleague link the leaver knew stops working: a former contact (or whoever they
    # pass it to) must ask again. The remaining contacts find the new link in /settings.
    organization.invite_code = new_invite_code()
    session.add_all([member, organization])
    session.flush()
    paused = 0
    adopt_listings(session, organization.id or 0)
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
