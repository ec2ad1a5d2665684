"""/help, /menu, /cancel outside a conversation, and the fallbacks: never silence.

Registered last: whatever no other handler took ends here — unknown commands and text lead
back to the main menu, media get a hint, unknown or stale buttons change nothing and say so.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.callbacks import MENU_HELP
from bot.context import BotContext
from bot.texts import t
from bot.ui import NOT_TEXT, PRIVATE, answer, not_registered, say, show_menu, stale


async def menu(update: Update, context: BotContext) -> None:
    """/menu: the main menu (or the way to /start)."""
    who = context.actor
    await answer(update)
    if not who.registered:
        await not_registered(update, who)
        return
    await show_menu(update, who)


async def help_(update: Update, context: BotContext) -> None:
    """/help: what the bot does and its commands; for a member with the menu's buttons
    under it (one message)."""
    who = context.actor
    await answer(update)
    if who.registered:
        await show_menu(update, who, t(who.language, "menu.help"))
        return
    await say(update, who.language, "menu.help")


async def _back_to_menu(update: Update, context: BotContext, key: str) -> None:
    """Says `key` and shows the menu (or the way to register, for strangers)."""
    who = context.actor
    if not who.registered:
        await not_registered(update, who)
        return
    await show_menu(update, who, t(who.language, key))


async def nothing_to_cancel(update: Update, context: BotContext) -> None:
    """/cancel outside any conversation."""
    await _back_to_menu(update, context, "menu.nothing_to_cancel")


async def unknown_command(update: Update, context: BotContext) -> None:
    """A command the bot does not know: say so, show the menu."""
    await _back_to_menu(update, context, "menu.unknown_command")


async def unknown_text(update: Update, context: BotContext) -> None:
    """Free text outside a conversation: the menu shows what the bot can do."""
    await _back_to_menu(update, context, "menu.unknown_text")


async def media(update: Update, context: BotContext) -> None:
    """A sticker, photo, voice message or file: the bot works with text and buttons."""
    who = context.actor
    await say(update, who.language, "common.media_hint")


async def edited(update: Update, context: BotContext) -> None:
    """An edited message: the bot works with what was sent; the edit is not picked up."""
    await say(update, context.actor.language, "common.edit_ignored")


async def unknown_button(update: Update, context: BotContext) -> None:
    """A button no handler took: stale, forged or from an older version; nothing changes."""
    await stale(update, context.actor)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Adds help/menu and the catch-all fallbacks (this module comes last)."""
    application.add_handler(CommandHandler(["help"], help_, filters=PRIVATE))
    application.add_handler(CommandHandler(["menu"], menu, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(help_, pattern=MENU_HELP.pattern))
    application.add_handler(CommandHandler("cancel", nothing_to_cancel, filters=PRIVATE))
    message = filters.UpdateType.MESSAGE & PRIVATE
    application.add_handler(MessageHandler(message & filters.COMMAND, unknown_command))
    application.add_handler(MessageHandler(message & filters.TEXT, unknown_text))
    application.add_handler(MessageHandler(NOT_TEXT, media))
    application.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE & PRIVATE, edited))
    application.add_handler(CallbackQueryHandler(unknown_button))
