"""Who is acting: the member behind an update and their language, resolved once per update.

Handlers read it as `context.actor` (`bot.context.BotContext`), which also records that a
contact wrote (reachable again, @username and chat current); staff commands as
`context.staff_actor()`, which changes nothing but gives an admin listed in the settings their
member row on first contact; buttons of messages the bot sent on its own as
`context.known_actor`, which changes nothing. Everything here is how that one value comes about.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlmodel import Session
from telegram import Update

from bot.context import BotContext
from bot.drafts import OnboardingState
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
    telegram_user_id: int = 0  # 0: no user (or built by hand, as after a change)

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


@dataclass(frozen=True)
class Prefetched:
    who: Who
    current: bool
    """`identity.seen` would change nothing (active, same chat, same @username)."""


def first_look(update: Update | None, context: BotContext) -> Who:
    """Takes what `prefetch` read in a worker thread, unless the member's record needs the
    update `identity.seen` makes (then it looks again here)."""
    prefetched, context.prefetched = context.prefetched, None
    if prefetched is not None and prefetched.current:
        return prefetched.who
    return look_up(update, context)


def as_read(update: Update | None, context: BotContext) -> Who:
    """What `prefetch` read (or the same read now, if it did not run), changing nothing."""
    prefetched, context.prefetched = context.prefetched, None
    if prefetched is not None:
        return prefetched.who
    if update is None or update.effective_user is None:
        return Who(None, language_of(None))
    return _read(update, context).who


def look_up(update: Update | None, context: BotContext) -> Who:
    """Looks the user up; a private message from a member who had blocked the bot makes them
    reachable again. Before consent the language comes from the user's own choice on the
    welcome screen or from Telegram's language code."""
    user = update.effective_user if update is not None else None
    if update is None or user is None:
        return Who(None, language_of(None))
    with context.runtime.session() as session:
        member = identity.seen(
            session=session,
            telegram_user_id=user.id,
            chat_id=_private_chat_id(update),
            username=user.username,
        )
        pending = _pending(session, member)
    if member is not None:
        return Who(member, language_of(member.language), pending, user.id)
    return Who(None, _language_before_consent(update, context), telegram_user_id=user.id)


def with_staff_row(update: Update | None, context: BotContext, who: Who) -> Who:
    """`who`, unless they have no member row and are an admin listed in the settings: then
    the row `identity.staff_member` creates on first contact."""
    settings = context.runtime.settings
    if who.member is not None or who.telegram_user_id not in settings.admin_telegram_ids:
        return who
    user = update.effective_user if update is not None else None
    with context.runtime.session() as session:
        member = identity.staff_member(
            session=session,
            settings=settings,
            telegram_user_id=who.telegram_user_id,
            username=(user.username if user else None) or "",
        )
    if member is None:
        return who
    return Who(member, language_of(member.language), telegram_user_id=who.telegram_user_id)


def _private_chat_id(update: Update) -> int | None:
    chat = update.effective_chat
    return chat.id if chat is not None and chat.type == "private" else None


def _language_before_consent(update: Update, context: BotContext) -> str:
    """The welcome screen's choice (read like the rest of the sign-up: garbled is none), else
    Telegram's language code."""
    user_data = context.user_data if context.user_data is not None else {}
    code = update.effective_user.language_code if update.effective_user else None
    return language_of(OnboardingState.from_user_data(user_data).language or code)


def _pending(session: Session, member: Member | None) -> str:
    """The company a join request of this member waits for ("" if none or a contact)."""
    if member is None or member.organization_id is not None:
        return ""
    return membership.pending_company(session=session, member=member)


def _read(update: Update, context: BotContext) -> Prefetched:
    """Reads only; `first_look` leaves any change to `identity.seen`, as before."""
    user = update.effective_user
    assert user is not None
    with context.runtime.session() as session:
        member = identity.member_by_telegram_id(session=session, telegram_user_id=user.id)
        pending = _pending(session, member)
    if member is None:
        who = Who(None, _language_before_consent(update, context), telegram_user_id=user.id)
        return Prefetched(who, current=True)
    chat_id = _private_chat_id(update)
    unchanged = (
        member.active
        and (chat_id is None or member.chat_id == chat_id)
        and member.username == (user.username or "")[:64]
    )
    who = Who(member, language_of(member.language), pending, user.id)
    return Prefetched(who, current=unchanged)


async def prefetch(update: Update, context: BotContext) -> None:
    """Runs before every other handler: reads the acting member in a worker thread, so that
    `context.actor` does not query the database on the event loop. Private chats only: in
    groups no handler asks."""
    chat = update.effective_chat
    if not isinstance(context, BotContext) or update.effective_user is None:
        return
    if chat is None or chat.type != "private":
        return
    try:
        context.prefetched = await context.runtime.run(_read, update, context)
    except Exception:  # the handler looks again and reports the error as it always did
        log.debug("member prefetch failed", exc_info=True)
        context.prefetched = None
