"""Group chats: the bot answers once per group with a button to a private chat, then keeps quiet."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import Application, MessageHandler, filters

from bot.texts import language_of, plain, t
from bot.ui import Context

GREETED = "greeted"


async def in_group(update: Update, context: Context) -> None:
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
            t(language, "group.private_only"), parse_mode=ParseMode.HTML, reply_markup=markup
        )


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Catches every group message before any other handler sees it."""
    application.add_handler(MessageHandler(filters.ChatType.GROUPS, in_group))
