"""Company contacts and managers: contact data and settings (their Telegram identity and
consent are in `identity`)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, or_, select

from kooperation.language import LANGUAGES
from kooperation.models import ManagerCluster, Member, Organization, Role
from kooperation.validation import clean_email, clean_person_name


class MemberError(Exception):
    """A member-level action that cannot be done in the member's current state."""


class NotRegistered(MemberError):
    """The Telegram user has not given consent yet (or deleted their data)."""


class OrganizationNotFound(MemberError):
    """The organization or invite code does not exist."""


def reachable_staff(*, session: Session, admin_telegram_ids: Iterable[int] = ()) -> list[Member]:
    """Admins and managers (by role, by a managed cluster or listed in the settings) whose
    private chat is known and who have not blocked the bot; their role is checked by the caller."""
    managing = select(ManagerCluster.member_id)
    query = select(Member).where(
        col(Member.chat_id).is_not(None),
        col(Member.active).is_(True),
        or_(
            col(Member.role).in_([Role.MANAGER, Role.ADMIN]),
            col(Member.id).in_(managing),
            col(Member.telegram_user_id).in_(list(admin_telegram_ids)),
        ),
    )
    return list(session.exec(query.order_by(col(Member.id))).all())


def mark_unreachable(*, session: Session, member_id: int) -> None:
    """The member blocked the bot (Telegram 403): no more messages until they write again."""
    member = session.get(Member, member_id)
    if member is not None and member.active:
        member.active = False
        session.add(member)
        session.commit()


def _get(session: Session, member_id: int) -> Member:
    member = session.get(Member, member_id)
    if member is None:
        raise NotRegistered(member_id)
    return member


def set_display_name(*, session: Session, member_id: int, name: str) -> Member:
    """Stores the contact's name; raises `InvalidInput` for an empty or overlong one."""
    member = _get(session, member_id)
    member.display_name = clean_person_name(name)
    organization = session.get(Organization, member.organization_id or -1)
    if organization is not None and not organization.contact_name:
        organization.contact_name = member.display_name
        session.add(organization)
    session.add(member)
    session.commit()
    return member


def set_email(*, session: Session, member_id: int, email: str) -> Member:
    """Stores the e-mail shown after a double opt-in; "-" removes it."""
    member = _get(session, member_id)
    member.email = clean_email(email)
    session.add(member)
    session.commit()
    return member


def set_language(*, session: Session, member_id: int, language: str) -> Member:
    if language not in LANGUAGES:
        raise MemberError(f"unknown language {language!r}")
    member = _get(session, member_id)
    member.language = language
    session.add(member)
    session.commit()
    return member


def set_digest(*, session: Session, member_id: int, enabled: bool) -> Member:
    """Weekly digest on or off. Setting, not toggling: a second tap on a stale button (or a
    retried update) changes nothing."""
    member = _get(session, member_id)
    if member.digest_enabled != enabled:
        member.digest_enabled = enabled
        session.add(member)
        session.commit()
    return member


def set_paused(*, session: Session, member_id: int, paused: bool) -> Member:
    """Pauses or resumes matching for all of the member's listings (idempotent, like
    `set_digest`)."""
    member = _get(session, member_id)
    if member.paused != paused:
        member.paused = paused
        session.add(member)
        session.commit()
    return member
