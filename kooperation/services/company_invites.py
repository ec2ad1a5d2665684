"""A manager's single-use link for a company's (imported) contact: joins at once."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from kooperation.config import Settings
from kooperation.models import CompanyInvite, Member, Organization, utcnow
from kooperation.services import invites, roles
from kooperation.services.company_contacts import (
    Action,
    CompanyInviteInvalid,
    become_contact,
    may_manage,
    organization_or_error,
)
from kooperation.services.members import OrganizationNotFound

INVITE_LIFETIME = timedelta(days=14)
COMPANY_INVITE_PREFIX = "co-"


def create_company_invite(
    *,
    session: Session,
    settings: Settings,
    actor: Member | None,
    organization_id: int,
    operator: bool = False,
) -> CompanyInvite:
    """A single-use link for the company's (imported) contact, valid 14 days: only the
    cluster's manager or an admin may. `operator=True` is the operator on the command line
    (no actor, no check); `actor` None without it is a stranger in the bot, refused."""
    organization = organization_or_error(session, organization_id)
    if not operator and not may_manage(
        session=session, settings=settings, member=actor, organization=organization
    ):
        roles.refuse(
            session=session,
            member=actor,
            action=Action.COMPANY_INVITE,
            target=f"organization:{organization_id}",
            reason="not a manager of the company's cluster",
        )
    return invites.issue(
        session=session,
        invite=CompanyInvite(code=invites.new_code(), organization_id=organization_id),
        lifetime=INVITE_LIFETIME,
        actor=actor,
        action=Action.COMPANY_INVITE,
        target=f"organization:{organization_id}",
    )


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
    if not invites.claim(session=session, model=CompanyInvite, code=code, member=member, now=now):
        session.rollback()
        session.refresh(invite)
        raise CompanyInviteInvalid("used" if invite.used_by_id is not None else "expired")
    organization = organization_or_error(session, invite.organization_id)
    become_contact(session=session, member=member, organization=organization)
    session.commit()
    return organization


def join_by_company_link(*, session: Session, member: Member, code: str) -> Organization:
    """What `/start co-…` opens: a manager's single-use company invite, or else a company's
    colleague code drawn starting with `co-` before `new_invite_code` stopped drawing such
    codes (those links were handed on and join like any colleague link). A refused invite
    (unknown, used, expired) stays refused with its reason unless a colleague code matches."""
    from kooperation.services import organizations  # imports this module

    try:
        return redeem_company_invite(session=session, member=member, code=code)
    except CompanyInviteInvalid as refused:
        if member.id is None:
            raise
        try:
            return organizations.join_by_invite_code(
                session=session, member_id=member.id, code=code
            )
        except OrganizationNotFound:
            raise refused from None
