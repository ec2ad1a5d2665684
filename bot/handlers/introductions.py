"""The introduction opt-in: Accept / Decline on the offer message.

Offers, contact details, the neutral "not this time" and the manager's result are queued by
`kooperation.services.introductions` and rendered by `bot/outbox_render.py` at send time.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

from bot.callbacks import data_of
from bot.context import runtime
from bot.staff import Context, answer_query, callback_id, edit_or_reply
from bot.texts import language_of, plain, t
from kooperation.models import MatchStatus
from kooperation.services import introductions
from kooperation.services.members import member_by_telegram_id


async def answer_pressed(update: Update, context: Context) -> None:
    """in:a:<id> / in:d:<id> – this side accepts or declines; the buttons go away."""
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None:
        return
    accept = data_of(update).startswith("in:a:")
    match_id = callback_id(update) or 0
    with runtime(context).session() as session:
        member = member_by_telegram_id(session=session, telegram_user_id=user.id)
        language = language_of(member.language if member else user.language_code)
        try:
            if member is None:
                raise introductions.NotASide(str(match_id))
            result = introductions.answer_introduction(
                session=session, member=member, match_id=match_id, accept=accept
            )
        except introductions.AlreadyAnswered as error:
            answer = plain(language, f"introductions.answer_{error.answer}")
            await answer_query(update)
            await edit_or_reply(
                update, t(language, "introductions.already_answered", answer=answer)
            )
            return
        except introductions.IntroductionClosed:
            await answer_query(update)
            await edit_or_reply(update, t(language, "introductions.closed"))
            return
        except introductions.IntroductionError:
            await answer_query(update, plain(language, "introductions.stale"), alert=True)
            await edit_or_reply(update, t(language, "introductions.stale"))
            return
    if not accept:
        key = "introductions.declined"
    elif result.status == MatchStatus.INTRODUCED:
        key = "introductions.accepted_done"
    else:
        key = "introductions.accepted_waiting"
    await answer_query(update)
    await edit_or_reply(update, t(language, key, other_organization=result.other_organization))


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Adds the Accept / Decline buttons of introduction offers."""
    application.add_handler(CallbackQueryHandler(answer_pressed, pattern=r"^in:[ad]:\d+$"))
