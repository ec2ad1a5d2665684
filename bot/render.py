"""Turning catalogue texts into Telegram messages: keyboards, splitting, sending.

Texts are HTML: the bot's `Defaults` (bot/app.py) send every message with parse_mode=HTML and
no link previews, so nothing here names them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import MessageLimit
from telegram.error import BadRequest

Buttons = Sequence[Sequence[tuple[str, str]]]
"""Rows of (label, callback_data); labels are plain text, data at most 64 bytes."""


def keyboard(rows: Buttons | None) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    for row in rows:
        for _, data in row:
            if len(data.encode()) > 64:
                raise ValueError(f"callback data over 64 bytes: {data!r}")
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


def split_message(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Splits at paragraph or line breaks so that no part exceeds Telegram's 4,096 characters.

    Rendered texts keep HTML tags within one line, so splitting at line breaks never cuts a
    tag in two; a single line longer than the limit is cut hard as a last resort.
    """
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current:
        parts.append(current)
    return parts


async def send_html(
    bot: Any, chat_id: int, text: str, buttons: Buttons | None = None, *, silent: bool = False
) -> list[Message]:
    """Sends `text` (already safe HTML) through the application's bot (its `Defaults` make it
    HTML), split if needed; buttons go on the last part.
    `silent`: delivered without a notification sound (quiet hours)."""
    parts = split_message(text)
    sent = []
    for index, part in enumerate(parts):
        markup = keyboard(buttons) if index == len(parts) - 1 else None
        sent.append(
            await bot.send_message(
                chat_id=chat_id,
                text=part,
                reply_markup=markup,
                disable_notification=silent,
            )
        )
    return sent


def is_not_modified(error: BadRequest) -> bool:
    """Telegram's answer to an edit that changes nothing (a second tap on the same button)."""
    return "not modified" in str(error).lower()
