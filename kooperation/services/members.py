"""Company contacts and managers by their Telegram identity: consent, contact data, settings."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, or_, select

from kooperation.models import ManagerCluster, Member, Organization, Role, utcnow
from kooperation.validation import clean_email, clean_person_name

LANGUAGES = ("de", "en")


class MemberError(Exception):
    """A member-level action that cannot be done in the member's current state."""


class NotRegistered(MemberError):
    """The Telegram user has not given consent yet (or deleted their data)."""


class OrganizationNotFound(MemberError):
    """The organization or invite code does not exist."""


def member_by_telegram_id(*, session: Session, telegram_user_id: int) -> Member | None:
    return session.exec(select(Member).where(Member.telegram_user_id == telegram_user_id)).first()


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


def mark_unreachable_by_telegram_id(*, session: Session, telegram_user_id: int) -> bool:
    """Same as `mark_unreachable` for the bot's error handler, which knows only the user id."""
    member = member_by_telegram_id(session=session, telegram_user_id=telegram_user_id)
    if member is None or member.id is None:
        return False
    mark_unreachable(session=session, member_id=member.id)
    return True


def seen(
    *, session: Session, telegram_user_id: int, chat_id: int | None, username: str | None
) -> Member | None:
    """The member behind an incoming private message; a blocked member who writes is reachable
    again, and a changed @username or chat is kept current. None before consent."""
    member = member_by_telegram_id(session=session, telegram_user_id=telegram_user_id)
    if member is None:
        return None
    username = (username or "")[:64]
    changed = (
        not member.active
        or (chat_id is not None and member.chat_id != chat_id)
        or member.username != username
    )
    if changed:
        member.active = True
        if chat_id is not None:
            member.chat_id = chat_id
        member.username = username
        session.add(member)
        session.commit()
    return member


def give_consent(
    *,
    session: Session,
    telegram_user_id: int,
    chat_id: int,
    username: str | None,
    language: str,
) -> Member:
    """Creates the member when they agree to the data use; before this nothing is stored."""
    member = member_by_telegram_id(session=session, telegram_user_id=telegram_user_id)
    if member is None:
        member = Member(telegram_user_id=telegram_user_id)
    member.chat_id = chat_id
    member.username = (username or "")[:64]
    member.language = language if language in LANGUAGES else "de"
    member.consent_at = member.consent_at or utcnow()
    member.active = True
    session.add(member)
    session.commit()
    session.refresh(member)
    return member


def _get(session: Session, member_id: int) -> Member:
    member = session.get(Member, member_id)
    if member is None:
        raise NotRegistered(member_id)
    return member


def join_organization(*, session: Session, member_id: int, organization_id: int) -> Member:
    member = _get(session, member_id)
    if session.get(Organization, organization_id) is None:
        raise OrganizationNotFound(organization_id)
    member.organization_id = organization_id
    session.add(member)
    session.commit()
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


def organization_of(*, session: Session, member: Member) -> Organization | None:
    if member.organization_id is None:
        return None
    return session.get(Organization, member.organization_id)
