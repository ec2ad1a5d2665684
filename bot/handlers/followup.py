"""Buttons of the messages the bot sends on its own: follow-up answers, "extend 90 days",
pausing the weekly digest (the messages themselves: `bot/outbox_render.py`).

Callback data (`bot.callbacks`): FOLLOWUP_ANSWER `fu:<match>:<c|t|n>`, EXTEND_LISTING
`ex:<listing>`, DIGEST_PAUSE / DIGEST_RESUME `dg:p` / `dg:r`. Every press is checked in the
service (the member's own match or listing, the right state); a stale or forged button changes
nothing and says so.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

from bot.callbacks import (
    DIGEST_PAUSE,
    DIGEST_RESUME,
    EXTEND,
    EXTEND_LISTING,
    FOLLOWUP,
    FOLLOWUP_ANSWER,
    any_of,
)
from bot.context import BotContext
from bot.texts import language_of, plain, t
from bot.ui import answer, edit, reply
from kooperation.dates import format_date
from kooperation.services import digest as digests
from kooperation.services import expiry, followups


def _fallback_language(update: Update) -> str:
    """A stale button is answered in the language of the Telegram client."""
    user = update.effective_user
    return language_of(user.language_code if user else None)


async def _stale(update: Update, key: str) -> None:
    await answer(update, plain(_fallback_language(update), key), alert=True)


# ---------------------------------------------------------------------------- buttons
async def answer_followup(update: Update, context: BotContext) -> None:
    """Stores the member's follow-up answer (counted in /stats) and thanks them."""
    pressed = FOLLOWUP_ANSWER.pressed(update)
    try:
        if pressed is None:
            raise followups.FollowupError("malformed callback data")
        match_id, feedback = pressed
        with context.runtime.session() as session:
            result = followups.record_feedback(
                session=session,
                match_id=match_id,
                member=context.known_actor.member,
                feedback=feedback,
            )
    except followups.FollowupError:
        await _stale(update, "followup.stale")
        return
    await answer(update)
    lang = result.language
    chosen = plain(lang, f"followup.{result.feedback.value}")
    await edit(update, t(lang, "followup.thanks", own_title=result.own_title, answer=chosen))


async def extend_listing(update: Update, context: BotContext) -> None:
    """Extends the listing by 90 days (reopens it if expiry closed it)."""
    listing_id = EXTEND_LISTING.pressed(update)
    rt = context.runtime
    try:
        if listing_id is None:
            raise expiry.ExtendError("malformed callback data")
        with rt.session() as session:
            result = expiry.extend_listing(
                session=session,
                settings=rt.settings,
                listing_id=listing_id,
                member=context.known_actor.member,
            )
    except expiry.ExtendError:
        await _stale(update, "expiry.stale")
        return
    await answer(update)
    lang = result.language
    day = format_date(result.expires_at, language_of(lang), rt.settings.tz)
    key = "expiry.reopened" if result.reopened else "expiry.extended"
    await edit(update, t(lang, key, title=result.title, date=day))


async def toggle_digest(update: Update, context: BotContext) -> None:
    """`dg:p` pauses the weekly digest (offering to undo), `dg:r` switches it back on."""
    enable = DIGEST_RESUME.pressed(update)
    try:
        with context.runtime.session() as session:
            member = digests.set_digest(
                session=session, member=context.known_actor.member, enabled=enable
            )
    except digests.DigestSettingError:
        await _stale(update, "digest.stale")
        return
    await answer(update)
    lang = member.language
    if enable:
        await edit(update, t(lang, "digest.resumed"))
    else:
        buttons = [[(plain(lang, "digest.resume_button"), DIGEST_RESUME.data())]]
        await reply(update, t(lang, "digest.paused"), buttons)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Every `fu:` and `ex:` button reaches its handler, which refuses what it cannot read."""
    application.add_handler(CallbackQueryHandler(answer_followup, pattern=FOLLOWUP.pattern))
    application.add_handler(CallbackQueryHandler(extend_listing, pattern=EXTEND.pattern))
    application.add_handler(
        CallbackQueryHandler(toggle_digest, pattern=any_of(DIGEST_PAUSE, DIGEST_RESUME))
    )
