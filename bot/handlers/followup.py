"""Buttons of the messages the bot sends on its own: follow-up answers, "extend 90 days",
pausing the weekly digest (the messages themselves: `bot/outbox_render.py`).

Callback data: `fu:<match>:<c|t|n>` (follow-up answer), `ex:<listing>` (extend),
`dg:p` / `dg:r` (digest pause / resume). Every press is checked in the service (the member's
own match or listing, the right state); a stale or forged button changes nothing and says so.
"""

from __future__ import annotations

import re
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes

from bot.callbacks import data_of, parse_id
from bot.context import runtime
from bot.outbox_render import FEEDBACK_CODES
from bot.render import edit_html, reply_html
from bot.texts import language_of, plain, t
from kooperation.dates import format_date
from kooperation.services import digest as digests
from kooperation.services import expiry, followups

FOLLOWUP_DATA = re.compile(r"^fu:(\d+):([ctn])$")
EXTEND_DATA = re.compile(r"^ex:(\d+)$")


def _fallback_language(update: Update) -> str:
    user = update.effective_user
    return language_of(user.language_code if user else None)


# ---------------------------------------------------------------------------- buttons
async def answer_followup(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stores the member's follow-up answer (counted in /stats) and thanks them."""
    query = update.callback_query
    assert query is not None
    parsed = FOLLOWUP_DATA.match(data_of(update))
    match_id = parse_id(parsed.group(1)) if parsed else None
    try:
        if parsed is None or match_id is None:
            raise followups.FollowupError("malformed callback data")
        with runtime(context).session() as session:
            result = followups.record_feedback(
                session=session,
                match_id=match_id,
                telegram_user_id=query.from_user.id,
                feedback=FEEDBACK_CODES[parsed.group(2)],
            )
    except followups.FollowupError:
        await query.answer(plain(_fallback_language(update), "followup.stale"), show_alert=True)
        return
    await query.answer()
    lang = result.language
    answer = plain(lang, f"followup.{result.feedback.value}")
    await edit_html(query, t(lang, "followup.thanks", own_title=result.own_title, answer=answer))


async def extend_listing(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Extends the listing by 90 days (reopens it if expiry closed it)."""
    query = update.callback_query
    assert query is not None
    parsed = EXTEND_DATA.match(data_of(update))
    listing_id = parse_id(parsed.group(1)) if parsed else None
    rt = runtime(context)
    try:
        if listing_id is None:
            raise expiry.ExtendError("malformed callback data")
        with rt.session() as session:
            result = expiry.extend_listing(
                session=session,
                settings=rt.settings,
                listing_id=listing_id,
                telegram_user_id=query.from_user.id,
            )
    except expiry.ExtendError:
        await query.answer(plain(_fallback_language(update), "expiry.stale"), show_alert=True)
        return
    await query.answer()
    lang = result.language
    day = format_date(result.expires_at, language_of(lang), rt.settings.tz)
    key = "expiry.reopened" if result.reopened else "expiry.extended"
    await edit_html(query, t(lang, key, title=result.title, date=day))


async def toggle_digest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`dg:p` pauses the weekly digest (offering to undo), `dg:r` switches it back on."""
    query = update.callback_query
    assert query is not None
    enable = data_of(update) == "dg:r"
    try:
        with runtime(context).session() as session:
            member = digests.set_digest(
                session=session, telegram_user_id=query.from_user.id, enabled=enable
            )
    except digests.DigestSettingError:
        await query.answer(plain(_fallback_language(update), "digest.stale"), show_alert=True)
        return
    await query.answer()
    lang = member.language
    if enable:
        await edit_html(query, t(lang, "digest.resumed"))
    else:
        await reply_html(
            update, t(lang, "digest.paused"), [[(plain(lang, "digest.resume_button"), "dg:r")]]
        )


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(CallbackQueryHandler(answer_followup, pattern=r"^fu:"))
    application.add_handler(CallbackQueryHandler(extend_listing, pattern=r"^ex:"))
    application.add_handler(CallbackQueryHandler(toggle_digest, pattern=r"^dg:[pr]$"))
