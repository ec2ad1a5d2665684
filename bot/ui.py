"""Small pieces every contact-facing handler shares: filters, replies, the main menu."""

from __future__ import annotations

import contextlib
import warnings
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import CallbackContext, ConversationHandler, filters
from telegram.warnings import PTBUserWarning

from bot.members import Who
from bot.render import Buttons, keyboard, reply_html
from bot.texts import plain, t

Context = CallbackContext[Any, Any, Any, Any]

PRIVATE = filters.ChatType.PRIVATE
TEXT = filters.UpdateType.MESSAGE & PRIVATE & filters.TEXT & ~filters.COMMAND
"""A new text message in a private chat (not an edit, not a command)."""
NOT_TEXT = filters.UpdateType.MESSAGE & PRIVATE & ~filters.TEXT & ~filters.StatusUpdate.ALL
"""Stickers, photos, voice, files, locations … where the bot waits for text."""


async def say(
    update: Update, language: str, key: str, buttons: Buttons | None = None, **params: object
) -> None:
    await reply_html(update, t(language, key, **params), buttons)


async def answer(update: Update, text: str | None = None, alert: bool = False) -> None:
    """Answers a callback query (stops the button's spinner); no-op for messages."""
    query = update.callback_query
    if query is not None:
        with contextlib.suppress(BadRequest):  # too old to answer: nothing to stop
            await query.answer(text=text, show_alert=alert)


async def edit(update: Update, text: str, buttons: Buttons | None = None) -> None:
    """Replaces the message the pressed button belongs to; sends anew if it cannot be edited."""
    query = update.callback_query
    message = query.message if query is not None else None
    if message is not None and getattr(message, "message_id", 0):
        try:
            await query.edit_message_text(  # type: ignore[union-attr]
                text=text,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(buttons),
                disable_web_page_preview=True,
            )
            return
        except BadRequest as error:
            if "not modified" in str(error).lower():
                return
    await reply_html(update, text, buttons)


def menu_buttons(language: str) -> Buttons:
    return [
        [
            (plain(language, "menu.button_need"), "mn:need"),
            (plain(language, "menu.button_offer"), "mn:offer"),
        ],
        [
            (plain(language, "menu.button_mine"), "mn:mine"),
            (plain(language, "menu.button_matches"), "mn:matches"),
        ],
        [
            (plain(language, "menu.button_settings"), "mn:settings"),
            (plain(language, "menu.button_privacy"), "mn:privacy"),
        ],
        [(plain(language, "menu.button_help"), "mn:help")],
    ]


async def show_menu(update: Update, who: Who, lead: str | None = None) -> None:
    """The main menu; `lead` is an already rendered text shown above it."""
    parts = [lead] if lead else []
    parts.append(t(who.language, "menu.title"))
    if who.is_manager:
        parts.append(t(who.language, "menu.manager_hint"))
    await reply_html(update, "\n\n".join(parts), menu_buttons(who.language))


async def stale(update: Update, who: Who, key: str = "common.stale_button") -> None:
    """A button that no longer applies (or was forged): nothing changes, and the user is told."""
    await answer(update, plain(who.language, key), alert=True)
    await say(update, who.language, key)


async def not_registered(update: Update, who: Who) -> None:
    await answer(update)
    await say(update, who.language, "common.not_registered")


def conversation(**options: Any) -> ConversationHandler[Any]:
    """A ConversationHandler keyed per chat and user.

    PTB warns that button presses are then not tracked per message; that is intended: every
    callback is validated against the state and the stored draft, so an old button is refused.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBUserWarning)
        return ConversationHandler(**options)
