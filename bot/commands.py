"""The command menu Telegram shows next to the input field, in German (default) and English.

Everyone sees the contacts' commands. Managers and admins additionally see their own (/review,
/stats; admins also /managers) through a menu set for their private chat alone
(`BotCommandScopeChat`), in their language: at start-up for every staff member whose chat is
known, and by `publish_for_member` when someone's role changes while the bot runs.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError
from telegram.ext import Application

from bot.context import CommandMenu, runtime
from bot.texts import DEFAULT_LANGUAGE, LANGUAGES, language_of, plain
from kooperation.config import Settings
from kooperation.models import Member
from kooperation.services import identity, members, roles

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
STAFF_COMMANDS = ("review", "stats", "companies")
ADMIN_COMMANDS = ("managers",)


def commands_for(language: str, *, staff: bool = False, admin: bool = False) -> list[BotCommand]:
    """The menu in `language`; staff commands come first, they are what staff use most."""
    names = (
        (STAFF_COMMANDS if staff or admin else ()) + (ADMIN_COMMANDS if admin else ()) + COMMANDS
    )
    return [BotCommand(name, plain(language, f"menu.commands.{name}")) for name in names]


def _staff_menu(session: Any, settings: Settings, member: Member) -> list[BotCommand] | None:
    """The member's own menu, or None when they are neither manager nor admin."""
    admin = roles.is_admin(settings=settings, member=member)
    if not admin and not roles.is_staff(session=session, settings=settings, member=member):
        return None
    return commands_for(language_of(member.language), staff=True, admin=admin)


async def _set_for_chat(bot: Bot, chat_id: int, commands: list[BotCommand] | None) -> bool:
    """One chat's menu; None removes it (the public menu applies again)."""
    scope = BotCommandScopeChat(chat_id)
    try:
        if commands is None:
            await bot.delete_my_commands(scope=scope)
        else:
            await bot.set_my_commands(commands, scope=scope)
    except TelegramError:  # e.g. a staff member who never opened the bot: no chat yet
        log.warning("could not set the command menu for chat %s", chat_id, exc_info=True)
        return False
    return True


def _published(application: Application[Any, Any, Any, Any, Any, Any]) -> dict[int, CommandMenu]:
    """Each staff chat's menu as this process last set it."""
    return runtime(application).staff_menus


def _menu(commands: list[BotCommand] | None) -> CommandMenu:
    return None if commands is None else tuple((c.command, c.description) for c in commands)


async def _set_and_remember(
    application: Application[Any, Any, Any, Any, Any, Any],
    chat_id: int,
    commands: list[BotCommand] | None,
) -> bool:
    done = await _set_for_chat(application.bot, chat_id, commands)
    if done:
        _published(application)[chat_id] = _menu(commands)
    elif commands is None:  # e.g. blocked the bot: no retry every refresh; /start sets it anew
        _published(application).pop(chat_id, None)
    return done


def _staff_menus(
    application: Application[Any, Any, Any, Any, Any, Any],
) -> dict[int, list[BotCommand] | None]:
    """The menu every reachable manager's and admin's chat should have now."""
    state = runtime(application)
    with state.session() as session:
        staff = members.reachable_staff(
            session=session, admin_telegram_ids=state.settings.admin_telegram_ids
        )
        return {
            member.chat_id: _staff_menu(session, state.settings, member)
            for member in staff
            if member.chat_id is not None
        }


async def publish_staff(application: Application[Any, Any, Any, Any, Any, Any]) -> int:
    """Sets the staff menu in every known manager's and admin's private chat; returns how many."""
    menus = _staff_menus(application)
    done = 0
    for chat_id, commands in menus.items():
        if commands is not None:
            done += await _set_and_remember(application, chat_id, commands)
    log.info("staff command menus set for %s of %s chats", done, len(menus))
    return done


async def refresh_staff(application: Application[Any, Any, Any, Any, Any, Any]) -> int:
    """Sets only the menus that changed since this process last set them: roles given or taken
    outside the bot (`matchbot manager add`, an admin id in the settings). Returns how many."""
    wanted = _staff_menus(application)
    published = _published(application)
    for chat_id in published:
        wanted.setdefault(chat_id, None)  # no longer staff: back to the public menu
    changed = [
        (chat_id, commands)
        for chat_id, commands in wanted.items()
        if _menu(commands) != published.get(chat_id)
    ]
    done = 0
    for chat_id, commands in changed:
        done += await _set_and_remember(application, chat_id, commands)
    return done


async def publish_for_member(
    application: Application[Any, Any, Any, Any, Any, Any], *, telegram_user_id: int
) -> None:
    """After a role change (appointed, invite redeemed, removed): the member's own menu, or the
    public one again when they no longer manage anything."""
    state = runtime(application)
    with state.session() as session:
        member = identity.member_by_telegram_id(session=session, telegram_user_id=telegram_user_id)
        if member is None or member.chat_id is None:
            return
        chat_id = member.chat_id
        commands = _staff_menu(session, state.settings, member)
    await _set_and_remember(application, chat_id, commands)


async def publish(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """setMyCommands for every language and once without a language (German); then the staff's
    own menus."""
    bot = application.bot
    try:
        await bot.set_my_commands(commands_for(DEFAULT_LANGUAGE))
        for language in LANGUAGES:
            await bot.set_my_commands(commands_for(language), language_code=language)
    except TelegramError:
        log.exception("could not publish the command menu; the bot works without it")
    try:
        await publish_staff(application)
    except Exception:  # start-up must not fail over a menu
        log.exception("could not publish the staff command menus")
