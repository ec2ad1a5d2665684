"""/mylistings: my open listings, one message each, with pause or resume, edit and close.

/mylistings | mn:mine ─► one message per listing ─ml:p|r|c:<id>─► that message redrawn
                                                 └ ml:e:<id> ─► the posting conversation
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import callbacks
from bot.context import AnyApplication, BotContext, in_session
from bot.handlers.listings.views import listing_view
from bot.texts import plain, t
from bot.ui import (
    PRIVATE,
    answer,
    edit,
    new_listing_buttons,
    not_registered,
    reply,
    say,
    stale,
)
from kooperation.services import listings


async def my_listings(update: Update, context: BotContext) -> None:
    """Lists my open listings, one message each with its own buttons (pause, edit and close
    act on that message); the title rides on the first one."""
    who = context.actor
    await answer(update)
    if not who.registered or not who.has_organization:
        await not_registered(update, who)
        return
    mine = await in_session(context, listings.listings_of, member_id=who.member_id)
    if not mine:
        await say(update, who.language, "listings.none", [new_listing_buttons(who.language)])
        return
    title = t(who.language, "listings.mine_title", count=len(mine))
    for index, listing in enumerate(mine):
        text, buttons = listing_view(who.language, listing, context.runtime.settings.tz)
        await reply(update, f"{title}\n\n{text}" if index == 0 else text, buttons)


async def change_status(update: Update, context: BotContext) -> None:
    """Pause, resume or close from /mylistings; someone else's or a stale button changes nothing."""
    who = context.actor
    pressed = callbacks.MY_LISTING_STATUS.pressed(update)
    if pressed is None:  # a forged id: refused like someone else's
        await stale(update, who, "listings.not_found")
        return
    action, listing_id = pressed
    try:
        with context.runtime.session() as session:
            listing = listings.change_status(
                session=session, member_id=who.member_id, listing_id=listing_id, action=action
            )
    except (listings.ListingNotFound, listings.NotRegistered):
        await stale(update, who, "listings.not_found")
        return
    except listings.ListingStateError:
        await stale(update, who)
        return
    await answer(update, plain(who.language, f"listings.done_{action}"))
    text, buttons = listing_view(who.language, listing, context.runtime.settings.tz)
    await edit(update, text, buttons)


def register(application: AnyApplication) -> None:
    """The /mylistings command and menu button, and the buttons under each listing."""
    status = callbacks.MY_LISTING_STATUS
    application.add_handler(CommandHandler("mylistings", my_listings, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(my_listings, pattern=callbacks.MENU_MINE.pattern))
    application.add_handler(CallbackQueryHandler(change_status, pattern=status.pattern))
