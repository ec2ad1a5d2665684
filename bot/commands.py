"""The command menu Telegram shows next to the input field, in German (default) and English."""

from __future__ import annotations

import logging
from typing import Any

from telegram import BotCommand
from telegram.error import TelegramError
from telegram.ext import Application

from bot.texts import DEFAULT_LANGUAGE, LANGUAGES, plain

log = logging.getLogger(__name__)

COMMANDS = (
    "start",
    "need",
    "offer",
    "mylistings",
    "matches",
    "settings",
    "privacy",
    "export",
    "delete_me",
    "help",
    "cancel",
)


def commands_for(language: str) -> list[BotCommand]:
    return [BotCommand(name, plain(language, f"menu.commands.{name}")) for name in COMMANDS]


async def publish(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """setMyCommands for every language and once without a language (German)."""
    bot = application.bot
    try:
        await bot.set_my_commands(commands_for(DEFAULT_LANGUAGE))
        for language in LANGUAGES:
            await bot.set_my_commands(commands_for(language), language_code=language)
    except TelegramError:
        log.exception("could not publish the command menu; the bot works without it")
