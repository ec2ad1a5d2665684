"""/privacy, /export (JSON of everything stored about me) and /delete_me (with confirmation)."""

from __future__ import annotations

import html
import json
import logging
from typing import Any

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.callbacks import (
    MENU_PRIVACY,
    PRIVACY_DELETE,
    PRIVACY_DELETE_NO,
    PRIVACY_DELETE_YES,
    PRIVACY_EXPORT,
)
from bot.context import BotContext
from bot.texts import plain, t
from bot.ui import PRIVATE, answer, edit, reply, say, stale
from kooperation.services import identity, members, privacy

log = logging.getLogger(__name__)

EXPORT_FILENAME = "kooperationsboerse-meine-daten.json"
CHUNK = 3500
DELETE_ASKED = "delete_asked"


async def overview(update: Update, context: BotContext) -> None:
    """What the bot stores and why, with buttons to export or delete."""
    who = context.actor
    await answer(update)
    buttons = (
        [
            [
                (plain(who.language, "privacy.button_export"), PRIVACY_EXPORT.data()),
                (plain(who.language, "privacy.button_delete"), PRIVACY_DELETE.data()),
            ]
        ]
        if who.member is not None
        else None
    )
    await say(update, who.language, "privacy.overview", buttons)


def export_chunks(document: str, limit: int = CHUNK) -> list[str]:
    """The JSON split at line breaks so that each escaped part fits a `<pre>` message."""
    parts: list[str] = []
    current_part: list[str] = []
    size = 0
    for line in document.split("\n"):
        escaped = len(html.escape(line, quote=False)) + 1
        while escaped > limit:  # one huge line (a long listing text): cut it
            cut = limit // 6
            parts.extend(["\n".join(current_part)] if current_part else [])
            current_part, size = [], 0
            parts.append(line[:cut])
            line = line[cut:]
            escaped = len(html.escape(line, quote=False)) + 1
        if size + escaped > limit and current_part:
            parts.append("\n".join(current_part))
            current_part, size = [], 0
        current_part.append(line)
        size += escaped
    if current_part:
        parts.append("\n".join(current_part))
    return parts


async def export(update: Update, context: BotContext) -> None:
    """Sends everything stored about me as a JSON file (as text if files are refused)."""
    who = context.actor
    await answer(update)
    try:
        with context.runtime.session() as session:
            member = identity.require_member(session=session, telegram_user_id=who.telegram_user_id)
            data = privacy.export_member_data(session=session, member=member)
    except members.NotRegistered:
        await say(update, who.language, "privacy.nothing_stored")
        return
    data["conversation"] = dict(context.user_data or {})
    document = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    if update.effective_chat is None:
        return
    try:
        await context.bot.send_document(
            chat_id=update.effective_chat.id,
            document=document.encode("utf-8"),
            filename=EXPORT_FILENAME,
            caption=t(who.language, "privacy.export_caption"),  # HTML, as the Defaults send it
        )
        return
    except BadRequest as error:
        log.info("sendDocument refused (%s); sending the export as text", error)
    await say(update, who.language, "privacy.export_as_text")
    for part in export_chunks(document):
        await reply(update, t(who.language, "privacy.export_part", json=part))


async def ask_delete(update: Update, context: BotContext) -> None:
    """Asks to confirm the deletion; only a confirmation after this question counts."""
    who = context.actor
    await answer(update)
    if who.member is None:
        await say(update, who.language, "privacy.nothing_stored")
        return
    context.user_state[DELETE_ASKED] = True
    await say(
        update,
        who.language,
        "privacy.confirm_delete",
        [
            [
                (plain(who.language, "privacy.button_delete_yes"), PRIVACY_DELETE_YES.data()),
                (plain(who.language, "privacy.button_delete_no"), PRIVACY_DELETE_NO.data()),
            ]
        ],
    )


async def delete(update: Update, context: BotContext) -> None:
    """Deletes my personal data and listings; anonymous counts stay."""
    who = context.actor
    asked = context.user_state.get(DELETE_ASKED) is True  # as ask_delete left it, nothing else
    if who.member is None or not asked:
        await stale(update, who)
        return
    await answer(update)
    user_id = who.telegram_user_id
    with context.runtime.session() as session:
        member = identity.require_member(session=session, telegram_user_id=user_id)
        result = privacy.delete_member_data(session=session, member=member)
    context.user_state.clear()
    context.application.drop_user_data(user_id)
    await edit(update, t(who.language, "privacy.deleted", listings=result.listings))


async def keep(update: Update, context: BotContext) -> None:
    """No at the confirmation: nothing deleted."""
    who = context.actor
    context.user_state.pop(DELETE_ASKED, None)
    await answer(update)
    await edit(update, t(who.language, "privacy.kept"))


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Adds /privacy, /export, /delete_me and their buttons."""
    application.add_handler(CommandHandler("privacy", overview, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(overview, pattern=MENU_PRIVACY.pattern))
    application.add_handler(CommandHandler("export", export, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(export, pattern=PRIVACY_EXPORT.pattern))
    application.add_handler(CommandHandler("delete_me", ask_delete, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(ask_delete, pattern=PRIVACY_DELETE.pattern))
    application.add_handler(CallbackQueryHandler(delete, pattern=PRIVACY_DELETE_YES.pattern))
    application.add_handler(CallbackQueryHandler(keep, pattern=PRIVACY_DELETE_NO.pattern))
