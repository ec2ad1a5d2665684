"""Who is writing: the current member and their language, resolved once per update."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.ext import CallbackContext

from bot.context import runtime
from bot.texts import language_of
from kooperation.models import Member, Role
from kooperation.services import members

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Who:
    """The member behind an update (None before consent) and the language to answer in."""

    member: Member | None
    language: str

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

    The first call of an update takes the member `prefetch` looked up in a worker thread;
    later calls (after the handler changed the member) look again."""
    prefetched = getattr(context, "prefetched", None)
    if isinstance(prefetched, Who):
        context.prefetched = None  # type: ignore[attr-defined]
        return prefetched
    return _resolve(update, context)


def _resolve(update: Update, context: CallbackContext[Any, Any, Any, Any]) -> Who:
    user = update.effective_user
    chat = update.effective_chat
    if user is None:
        return Who(None, language_of(None))
    chat_id = chat.id if chat is not None and chat.type == "private" else None
    with runtime(context).session() as session:
        member = members.seen(
            session=session,
            telegram_user_id=user.id,
            chat_id=chat_id,
            username=user.username,
        )
    user_data = context.user_data if context.user_data is not None else {}
    if member is not None:
        return Who(member, language_of(member.language))
    return Who(None, language_of(user_data.get("lang") or user.language_code))


async def prefetch(update: Update, context: CallbackContext[Any, Any, Any, Any]) -> None:
    """Runs before every other handler: looks the acting member up in a worker thread, so the
    handlers' `current()` does not query the database on the event loop. Private chats only:
    in groups no handler asks (and a blocked member writing there stays marked blocked)."""
    chat = update.effective_chat
    if not hasattr(context, "prefetched") or update.effective_user is None:
        return
    if chat is None or chat.type != "private":
        return
    try:
        context.prefetched = await runtime(context).run(_resolve, update, context)
    except Exception:  # the handler looks again and reports the error as it always did
        log.debug("member prefetch failed", exc_info=True)
        context.prefetched = None
