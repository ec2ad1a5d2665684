"""What the manager-facing handlers share: who is pressing, answering a button, editing a card."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session
from telegram import Update
from telegram.ext import CallbackContext

from bot import ui
from bot.callbacks import callback_id
from bot.context import runtime
from bot.render import Buttons
from bot.texts import language_of
from kooperation.models import Member
from kooperation.services import identity

Context = CallbackContext[Any, Any, Any, Any]

__all__ = [
    "Caller",
    "Context",
    "acting_session",
    "answer_query",
    "callback_id",
    "caller",
    "edit_or_reply",
]


@dataclass(frozen=True)
class Caller:
    """The Telegram user behind an update, their member row (if any) and their language."""

    telegram_user_id: int
    member: Member | None
    language: str


def caller(update: Update, context: Context) -> Caller:
    """Resolves the user; an admin listed in settings gets a member row on first contact."""
    user = update.effective_user
    if user is None:
        return Caller(0, None, language_of(None))
    with runtime(context).session() as session:
        member = identity.staff_member(
            session=session,
            settings=runtime(context).settings,
            telegram_user_id=user.id,
            username=user.username or "",
        )
    language = language_of(member.language if member else user.language_code)
    return Caller(user.id, member, language)


@contextmanager
def acting_session(context: Context, who: Caller) -> Iterator[Session]:
    """A session for one service call on the caller's behalf: the services take the member,
    and a refusal of a caller without a member row is audited under their Telegram id."""
    with runtime(context).session() as session:
        if who.member is None and who.telegram_user_id:
            identity.as_stranger(session=session, telegram_user_id=who.telegram_user_id)
        yield session


async def answer_query(update: Update, text: str | None = None, alert: bool = False) -> None:
    """Stops the pressed button's spinner, optionally with a short notice. Inside a durable
    conversation step it waits, like every reply, until the step's state is stored."""
    await ui.answer(update, text, alert)


async def edit_or_reply(update: Update, text: str, buttons: Buttons | None = None) -> None:
    """Replaces the message of the pressed button; sends a new one if that is not possible
    (held back like `answer_query`)."""
    await ui.edit(update, text, buttons)
