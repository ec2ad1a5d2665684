"""Who is writing: the current member and their language, resolved once per update."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session
from telegram import Update
from telegram.ext import CallbackContext

from bot.context import runtime
from bot.texts import language_of
from kooperation.models import Member, Role
from kooperation.services import identity, members, membership

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Who:
    """The member behind an update (None before consent) and the language to answer in."""

    member: Member | None
    language: str
    pending: str = ""  # the company a join request of this member is waiting for

    @property
    def registered(self) -> bool:
        """Consent given and the contact's name known: the main menu is open."""
        return bool(self.member is not None and self.member.consent_at and self.member.display_name)

    @property
    def has_organization(self) -> bool:
        return self.member is not None and self.member.organization_id is not None

    @property
    def is_manager(self) -> bool:
        return self.member is not None and self.member.role in {Role.MANAGER, Role.ADMIN}

    @property
    def member_id(self) -> int:
        if self.member is None or self.member.id is None:
            raise members.NotRegistered("no member")
        return self.member.id


def current(update: Update, context: CallbackContext[Any, Any, Any, Any]) -> Who:
    """Looks the user up; a private message from a member who had blocked the bot makes them
    reachable again. Before consent the language comes from the user's own choice on the
    welcome screen or from Telegram's language code.

    The first call of an update takes what `prefetch` read in a worker thread, unless the
    member's record needs the update `members.seen` makes (then, as on later calls after the
    handler changed the member, it looks again here)."""
    prefetched = getattr(context, "prefetched", None)
    if isinstance(prefetched, _Prefetched):
        context.prefetched = None  # type: ignore[attr-defined]
        if prefetched.current:
            return prefetched.who
    return _resolve(update, context)


def _private_chat_id(update: Update) -> int | None:
    chat = update.effective_chat
    return chat.id if chat is not None and chat.type == "private" else None


def _language_before_consent(update: Update, context: CallbackContext[Any, Any, Any, Any]) -> str:
    user_data = context.user_data if context.user_data is not None else {}
    code = update.effective_user.language_code if update.effective_user else None
    return language_of(user_data.get("lang") or code)


def _resolve(update: Update, context: CallbackContext[Any, Any, Any, Any]) -> Who:
    user = update.effective_user
    if user is None:
        return Who(None, language_of(None))
    with runtime(context).session() as session:
        member = identity.seen(
            session=session,
            telegram_user_id=user.id,
            chat_id=_private_chat_id(update),
            username=user.username,
        )
        pending = _pending(session, member)
    if member is not None:
        return Who(member, language_of(member.language), pending)
    return Who(None, _language_before_consent(update, context))


def _pending(session: Session, member: Member | None) -> str:
    """The company a join request of this member waits for ("" if none or a contact)."""
    if member is None or member.organization_id is not None:
        return ""
    return membership.pending_company(session=session, member=member)


@dataclass(frozen=True)
class _Prefetched:
    who: Who
    current: bool
    """`members.seen` would change nothing (active, same chat, same @username)."""


def _look_up(update: Update, context: CallbackContext[Any, Any, Any, Any]) -> _Prefetched:
    """Reads only; `current()` leaves any change to `members.seen`, as before."""
    user = update.effective_user
    assert user is not None
    with runtime(context).session() as session:
        member = identity.member_by_telegram_id(session=session, telegram_user_id=user.id)
        pending = _pending(session, member)
    if member is None:
        return _Prefetched(Who(None, _language_before_consent(update, context)), current=True)
    chat_id = _private_chat_id(update)
    unchanged = (
        member.active
        and (chat_id is None or member.chat_id == chat_id)
        and member.username == (user.username or "")[:64]
    )
    return _Prefetched(Who(member, language_of(member.language), pending), current=unchanged)


async def prefetch(update: Update, context: CallbackContext[Any, Any, Any, Any]) -> None:
    """Runs before every other handler: reads the acting member in a worker thread, so the
    handlers' `current()` does not query the database on the event loop. Private chats only:
    in groups no handler asks."""
    chat = update.effective_chat
    if not hasattr(context, "prefetched") or update.effective_user is None:
        return
    if chat is None or chat.type != "private":
        return
    try:
        context.prefetched = await runtime(context).run(_look_up, update, context)
    except Exception:  # the handler looks again and reports the error as it always did
        log.debug("member prefetch failed", exc_info=True)
        context.prefetched = None
