"""The error handler: every exception is logged with its context; the user gets an apology."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application

from bot.context import BotContext
from bot.texts import t
from bot.ui import answer, reply
from kooperation.services import identity

log = logging.getLogger(__name__)


def _describe(update: object) -> str:
    if not isinstance(update, Update):
        return f"non-update {type(update).__name__}"
    user = update.effective_user
    chat = update.effective_chat
    kind = "callback" if update.callback_query else "message" if update.message else "other"
    data = update.callback_query.data if update.callback_query else None
    # The text itself stays out of the log (personal data); commands are safe to show.
    text = (update.message.text or "") if update.message else ""
    shown = text.split()[0] if text.startswith("/") else f"<{len(text)} chars>"
    return (
        f"update_id={update.update_id} kind={kind} user={user.id if user else None} "
        f"chat={chat.id if chat else None} data={data!r} text={shown}"
    )


def _mark_unreachable(update: object, context: BotContext) -> None:
    """A blocked bot: the member is not written to again until they write themselves."""
    if isinstance(update, Update) and update.effective_user is not None:
        with context.runtime.session() as session:
            identity.mark_unreachable_by_telegram_id(
                session=session, telegram_user_id=update.effective_user.id
            )


async def on_error(update: object, context: BotContext) -> None:
    """Logs the failure; a blocked bot (403) marks the member unreachable, else apologises."""
    error = context.error
    if isinstance(error, Forbidden):
        log.warning("Telegram refused to deliver (%s): %s", error, _describe(update))
        _mark_unreachable(update, context)
        return
    log.error("handler failed: %s", _describe(update), exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    try:
        language = context.actor.language
        await answer(update)
        await reply(update, t(language, "common.error"))
    except Forbidden:
        _mark_unreachable(update, context)
    except (TelegramError, Exception):
        log.exception("could not apologise for the failed update")


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Installs the error handler."""
    application.add_error_handler(on_error)
