"""What the steps of /start share: the states, the stored sign-up, the signed-up guard."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import ConversationHandler

from bot.context import BotContext
from bot.drafts import CompanyDraft, OnboardingState
from bot.handlers.listings import posting as listing_steps
from bot.ui import answer, say
from kooperation.validation import InvalidInput

CONSENT, ORG_SEARCH, ORG_PICK, CLUSTER, SIZE, REGION, NAME = range(7)
END = ConversationHandler.END
State = listing_steps.State
Step = Callable[[Update, BotContext], Coroutine[Any, Any, State]]


def state_of(context: BotContext) -> OnboardingState:
    return OnboardingState.from_user_data(context.user_state)


def keep(context: BotContext, state: OnboardingState) -> None:
    state.to_user_data(context.user_state)


def forget_company(context: BotContext) -> None:
    state = state_of(context)
    state.company = CompanyDraft()
    keep(context, state)


def telegram_name(update: Update) -> str:
    user = update.effective_user
    return (user.full_name if user else "").strip()[:100]


def signed_up(step: Step) -> Step:
    """A registration step needs the member row: after /delete_me (or a restart of the data)
    an old question is answered with the way back to /start, not a traceback."""

    @functools.wraps(step)
    async def guarded(update: Update, context: BotContext) -> State:
        who = context.actor
        if who.member is None or who.member.consent_at is None:
            await answer(update)
            forget_company(context)
            await say(update, who.language, "common.not_registered")
            return END
        return await step(update, context)

    return guarded


async def say_invalid(update: Update, language: str, error: InvalidInput) -> None:
    await say(update, language, f"common.invalid.{error.code}", **error.params)
