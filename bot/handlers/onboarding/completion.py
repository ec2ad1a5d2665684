"""The end of the sign-up: what is still missing, the contact's name, the first listing."""

from __future__ import annotations

from telegram import Update

from bot import callbacks
from bot.context import BotContext
from bot.drafts import ListingDraft
from bot.handlers.listings import posting as listing_steps
from bot.handlers.listings.views import ask_first
from bot.handlers.onboarding.common import (
    END,
    NAME,
    ORG_SEARCH,
    say_invalid,
    signed_up,
    telegram_name,
)
from bot.members import Who
from bot.texts import plain, t
from bot.ui import answer, reply, say, show_menu, text_of
from kooperation.services import organizations
from kooperation.validation import InvalidInput


async def next_step(update: Update, who: Who) -> int:
    """Asks for whatever is still missing: the company, then the name; else the menu."""
    needs_name = who.member is not None and not who.member.display_name
    if not who.has_organization and not who.is_manager and not (who.pending and needs_name):
        if who.pending:  # they may register a new company instead of waiting
            await say(update, who.language, "membership.pending", organization=who.pending)
        await say(update, who.language, "onboarding.ask_organization")
        return ORG_SEARCH
    if needs_name:
        name = telegram_name(update)
        label = plain(who.language, "onboarding.button_use_name", name=name)
        buttons = [[(label, callbacks.ONBOARDING_TELEGRAM_NAME.data())]]
        key = (
            "onboarding.ask_name"
            if who.has_organization or who.pending
            else "membership.ask_name_staff"
        )
        await say(update, who.language, key, buttons if len(name) >= 2 else None)
        return NAME
    await show_menu(update, who, t(who.language, "onboarding.welcome_back"))
    return END


@signed_up
async def name(update: Update, context: BotContext) -> int | str:
    """Stores the contact's name (typed, or Telegram's); registration is complete. A company
    contact is invited to write the first listing right away, a manager gets the menu."""
    who = context.actor
    if callbacks.ONBOARDING_TELEGRAM_NAME.pressed(update):
        await answer(update)
        value = telegram_name(update)
    else:
        value = text_of(update)
    try:
        with context.runtime.session() as session:
            done = organizations.complete_registration(
                session=session, member_id=who.member_id, name=value
            )
    except InvalidInput as error:
        await say_invalid(update, who.language, error)
        return NAME
    member = done.member
    who = context.refresh_actor()
    if not done.invite_code:
        key = "membership.done_pending" if who.pending else "onboarding.done"
        await show_menu(update, who, t(who.language, key, name=member.display_name))
        return END
    link = f"https://t.me/{context.bot.username}?start={done.invite_code}"
    lead = t(who.language, "onboarding.done_with_invite", name=member.display_name, link=link)
    ListingDraft(guess=True, organization_id=member.organization_id).to_user_data(
        context.user_state
    )
    later = [[(plain(who.language, "onboarding.button_later"), callbacks.ONBOARDING_LATER.data())]]
    await reply(update, f"{lead}\n\n{ask_first(who.language)}", later)
    return listing_steps.TEXT_STATE


async def later(update: Update, context: BotContext) -> int:
    """ "Later" instead of a first listing: the main menu."""
    who = context.actor
    await answer(update)
    ListingDraft.drop(context.user_state)
    await show_menu(update, who)
    return END
