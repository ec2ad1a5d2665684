"""The introduction opt-in: Accept / Decline on the offer message.

Offers, contact details, the neutral "not this time" and the manager's result are queued by
`kooperation.services.introductions` and rendered by `bot/outbox_render.py` at send time.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

from bot.callbacks import INTRODUCTION_ANSWER
from bot.context import BotContext
from bot.texts import plain, t
from bot.ui import answer, edit
from kooperation.models import MatchStatus
from kooperation.services import introductions


async def answer_pressed(update: Update, context: BotContext) -> None:
    """in:a:<id> / in:d:<id> – this side accepts or declines; the buttons go away."""
    if update.callback_query is None or update.effective_user is None:
        return
    accept, match_id = INTRODUCTION_ANSWER.pressed(update) or (False, 0)
    who = context.known_actor
    language = who.language
    with context.runtime.session() as session:
        try:
            if who.member is None:
                raise introductions.NotASide(str(match_id))
            result = introductions.answer_introduction(
                session=session, member=who.member, match_id=match_id, accept=accept
            )
        except introductions.AlreadyAnswered as error:
            given = plain(language, f"introductions.answer_{error.answer}")
            await answer(update)
            await edit(update, t(language, "introductions.already_answered", answer=given))
            return
        except introductions.IntroductionClosed:
            await answer(update)
            await edit(update, t(language, "introductions.closed"))
            return
        except introductions.IntroductionError:
            await answer(update, plain(language, "introductions.stale"), alert=True)
            await edit(update, t(language, "introductions.stale"))
            return
    if not accept:
        key = "introductions.declined"
    elif result.status == MatchStatus.INTRODUCED:
        key = "introductions.accepted_done"
    else:
        key = "introductions.accepted_waiting"
    await answer(update)
    await edit(update, t(language, key, other_organization=result.other_organization))


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Adds the Accept / Decline buttons of introduction offers."""
    application.add_handler(
        CallbackQueryHandler(answer_pressed, pattern=INTRODUCTION_ANSWER.pattern)
    )
