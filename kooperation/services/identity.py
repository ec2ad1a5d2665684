"""The Telegram identity of a person: the only service module that takes a Telegram id.

Every other service acts for a `Member`. The bot (and the CLI, for ids typed on the command
line) turns a Telegram user id into that member here, once per update: looking the member up,
the consent that creates them, recording the chat they write from, marking a chat that
blocked the bot, and naming a refused stranger who has no member row in the audit log.
"""

from __future__ import annotations

from sqlmodel import Session, select

from kooperation.config import Settings
from kooperation.language import LANGUAGES
from kooperation.models import Member, Role, utcnow
from kooperation.services.members import NotRegistered, mark_unreachable

_STRANGER = "stranger_telegram_id"


def member_by_telegram_id(*, session: Session, telegram_user_id: int) -> Member | None:
    """The member with this Telegram id; None before consent (or after deletion)."""
    return session.exec(select(Member).where(Member.telegram_user_id == telegram_user_id)).first()


def require_member(*, session: Session, telegram_user_id: int) -> Member:
    """Like `member_by_telegram_id`, raising `NotRegistered` for an unknown user."""
    member = member_by_telegram_id(session=session, telegram_user_id=telegram_user_id)
    if member is None:
        raise NotRegistered(telegram_user_id)
    return member


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


def ensure_member(
    *, session: Session, telegram_user_id: int, display_name: str = "", username: str = ""
) -> Member:
    """The member with this Telegram id, created (without consent data) when unknown: a
    manager or admin named by id before they ever wrote to the bot.

    A private chat's id equals the user's id, so the new row can be reached at once.
    """
    member = member_by_telegram_id(session=session, telegram_user_id=telegram_user_id)
    if member is None:
        member = Member(
            telegram_user_id=telegram_user_id,
            chat_id=telegram_user_id,
            display_name=display_name,
            username=username,
        )
        session.add(member)
        session.flush()
    return member


def staff_member(
    *, session: Session, settings: Settings, telegram_user_id: int, username: str = ""
) -> Member | None:
    """The member behind a Telegram id; an admin from settings gets a row on first contact."""
    member = member_by_telegram_id(session=session, telegram_user_id=telegram_user_id)
    if member is None and telegram_user_id in settings.admin_telegram_ids:
        member = ensure_member(
            session=session, telegram_user_id=telegram_user_id, username=username
        )
        member.role = Role.ADMIN
        session.commit()
    return member


def mark_unreachable_by_telegram_id(*, session: Session, telegram_user_id: int) -> bool:
    """`members.mark_unreachable` for the bot's error handler, which knows only the user id."""
    member = member_by_telegram_id(session=session, telegram_user_id=telegram_user_id)
    if member is None or member.id is None:
        return False
    mark_unreachable(session=session, member_id=member.id)
    return True


def as_stranger(*, session: Session, telegram_user_id: int) -> None:
    """Names the caller of this session who has no member row: a refusal the services audit
    in it (with no acting member) records this Telegram id, so an attempt by a stranger is
    traceable. The session is the bot's for one step of one update."""
    session.info[_STRANGER] = telegram_user_id


def stranger_telegram_id(session: Session) -> int | None:
    """The Telegram id `as_stranger` gave this session, if any (read by the audit log)."""
    return session.info.get(_STRANGER)
