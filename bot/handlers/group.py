"""Group chats: the bot answers once per group with a button to a private chat, then keeps quiet."""

from __future__ import annotations

import contextlib
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import BadRequest
from telegram.ext import Application, ApplicationHandlerStop, MessageHandler, TypeHandler, filters

from bot.context import BotContext
from bot.texts import language_of, plain, t

GREETED = "greeted"


async def in_group(update: Update, context: BotContext) -> None:
    """The first message in a group gets the private-chat button; everything else is ignored."""
    chat_data = context.chat_data if context.chat_data is not None else {}
    if not chat_data.get(GREETED) and update.effective_message is not None:
        chat_data[GREETED] = True
        user = update.effective_user
        language = language_of(user.language_code if user else None)
        url = f"https://t.me/{context.bot.username}?start=group"
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(plain(language, "group.button_private"), url=url)]]
        )
        await update.effective_message.reply_text(
            t(language, "group.private_only"), reply_markup=markup
        )


async def refuse_foreign_buttons(update: Update, _context: BotContext) -> None:
    """Stops a button press no handler may see: one outside a private chat (the bot puts
    buttons only into private chats, so it is forged or inline) and one without data (PTB's
    pattern handlers would all take it). Only the presser sees the answer; nothing is sent
    into a group."""
    query = update.callback_query
    if query is None:
        return
    message = query.message
    private = message is not None and message.chat.type == ChatType.PRIVATE
    if private and (query.data or query.game_short_name):
        return
    language = language_of(query.from_user.language_code if query.from_user else None)
    key = "common.stale_button" if private else "group.button_private_only"
    with contextlib.suppress(BadRequest):
        await query.answer(plain(language, key), show_alert=True)
    raise ApplicationHandlerStop


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Catches every group message and every button outside a private chat before any other
    handler sees them."""
    application.add_handler(TypeHandler(Update, refuse_foreign_buttons), group=-1)
    application.add_handler(MessageHandler(filters.ChatType.GROUPS, in_group))
