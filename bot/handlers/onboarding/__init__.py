"""/start: welcome and consent, the company (pick or register), the contact's name, and right
away the first listing.

    /start ─► CONSENT ─ob:ok─► ORG_SEARCH ─"name[, region]"─┬─ hits ─► ORG_PICK ─ob:org:<id>─► NAME
                                                            └─ none ─► CLUSTER
    ORG_PICK | CLUSTER ─ob:cl:<slug>─► SIZE ─ob:sz:<size>─► REGION (unless given) ─► NAME
    NAME ─text | ob:tgname─► listing TEXT ─text─► listing PREVIEW ─ls:ok─► published
                                  └─ ob:later ─► main menu   (a manager without company: the menu)

`welcome` holds /start, consent and deep links; `company` finding or registering the company;
`completion` the name and the invitation to a first listing; `common` what they share (the
states, the stored sign-up: `bot.drafts.OnboardingState`).

The first listing runs the listing module's own steps (`listings.posting.steps()`) inside this
conversation, so a new contact gets from /start to a posted need in 8 messages or taps: /start,
consent, "Zellwerk GmbH, 04356 Leipzig", cluster, size, name, the text, publish.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
)

from bot import callbacks
from bot.context import AnyApplication, BotContext
from bot.drafts import CompanyDraft, ListingDraft
from bot.handlers.listings import posting as listing_steps
from bot.handlers.onboarding.common import (
    CLUSTER,
    CONSENT,
    END,
    NAME,
    ORG_PICK,
    ORG_SEARCH,
    REGION,
    SIZE,
    keep,
    state_of,
)
from bot.handlers.onboarding.company import choose_cluster, choose_size, pick, region, search
from bot.handlers.onboarding.completion import later, name
from bot.handlers.onboarding.welcome import consent, start, switch_language
from bot.texts import t
from bot.ui import NOT_TEXT, PRIVATE, TEXT, answer, conversation, say, show_menu, stale


async def hint_text(update: Update, context: BotContext) -> int | None:
    """A sticker, photo or file where text is expected: say so, stay in the state."""
    await say(update, context.actor.language, "common.text_expected")
    return None


async def cancel(update: Update, context: BotContext) -> int:
    """Leaves the registration; what was stored so far stays."""
    who = context.actor
    await answer(update)
    state = state_of(context)
    state.company, state.start_payload = CompanyDraft(), ""
    keep(context, state)
    ListingDraft.drop(context.user_state)
    if who.registered:
        await show_menu(update, who, t(who.language, "common.cancelled"))
    else:
        await say(update, who.language, "onboarding.cancelled")
    return END


async def stale_button(update: Update, context: BotContext) -> None:
    """A button of another step: changes nothing."""
    await stale(update, context.actor)


def build() -> ConversationHandler[BotContext]:
    hint = MessageHandler(NOT_TEXT, hint_text)
    cluster = CallbackQueryHandler(choose_cluster, pattern=callbacks.ONBOARDING_CLUSTER.pattern)
    first_listing = listing_steps.steps()
    first_listing[listing_steps.TEXT_STATE].append(
        CallbackQueryHandler(later, pattern=callbacks.ONBOARDING_LATER.pattern)
    )
    for state_handlers in first_listing.values():  # /need, /offer … stay in this conversation
        state_handlers.extend(listing_steps.entry_points())
    return conversation(
        entry_points=[CommandHandler("start", start, filters=PRIVATE)],
        states={
            CONSENT: [
                CallbackQueryHandler(consent, pattern=callbacks.ONBOARDING_CONSENT.pattern),
                CallbackQueryHandler(
                    switch_language, pattern=callbacks.ONBOARDING_LANGUAGE.pattern
                ),
            ],
            ORG_SEARCH: [MessageHandler(TEXT, search), hint],
            ORG_PICK: [
                CallbackQueryHandler(pick, pattern=callbacks.ONBOARDING_ORGANIZATION.pattern),
                cluster,
                MessageHandler(TEXT, search),
                hint,
            ],
            CLUSTER: [
                cluster,
                MessageHandler(TEXT, search),
                hint,
            ],
            SIZE: [
                CallbackQueryHandler(choose_size, pattern=callbacks.ONBOARDING_SIZE.pattern),
                hint,
            ],
            REGION: [MessageHandler(TEXT, region), hint],
            NAME: [
                MessageHandler(TEXT, name),
                CallbackQueryHandler(name, pattern=callbacks.ONBOARDING_TELEGRAM_NAME.pattern),
                hint,
            ],
            **first_listing,
        },
        fallbacks=[
            CommandHandler("cancel", cancel, filters=PRIVATE),
            CallbackQueryHandler(
                stale_button, pattern=callbacks.any_of(callbacks.ONBOARDING, callbacks.DRAFT)
            ),
        ],
        name="onboarding",
        persistent=True,
        allow_reentry=True,
    )


def register(application: AnyApplication) -> None:
    """Adds the /start conversation."""
    application.add_handler(build())
