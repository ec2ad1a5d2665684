"""What the manager-facing handlers share: who is pressing, answering a button, editing a card."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import CallbackContext

from bot.callbacks import callback_id
from bot.context import runtime
from bot.render import Buttons, is_not_modified, keyboard, reply_html
from bot.texts import language_of
from kooperation.models import Member
from kooperation.services import roles

Context = CallbackContext[Any, Any, Any, Any]

__all__ = ["Caller", "Context", "answer_query", "callback_id", "caller", "edit_or_reply"]


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
        member = roles.staff_member(
            session=session,
            settings=runtime(context).settings,
            telegram_user_id=user.id,
            username=user.username or "",
        )
    language = language_of(member.language if member else user.language_code)
    return Caller(user.id, member, language)


async def answer_query(update: Update, text: str | None = None, alert: bool = False) -> None:
    """Stops the pressed button's spinner, optionally with a short notice."""
    query = update.callback_query
    if query is not None:
        with contextlib.suppress(BadRequest):
            await query.answer(text=text, show_alert=alert)


async def edit_or_reply(update: Update, text: str, buttons: Buttons | None = None) -> None:
    """Replaces the message of the pressed button; sends a new one if that is not possible."""
    query = update.callback_query
    message = query.message if query is not None else None
    if query is not None and message is not None and getattr(message, "message_id", 0):
        try:
            await query.edit_message_text(
                text=text,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(buttons),
                disable_web_page_preview=True,
            )
            return
        except BadRequest as error:
            if is_not_modified(error):
                return
    await reply_html(update, text, buttons)
