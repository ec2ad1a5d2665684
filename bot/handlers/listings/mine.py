"""/mylistings: my open listings, one message each, with pause or resume, edit and close.

/mylistings | mn:mine ─► one message per listing ─ml:p|r|c:<id>─► that message redrawn
                                                 └ ml:e:<id> ─► the posting conversation
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.callbacks import callback_id, parts
from bot.context import in_session, runtime
from bot.handlers.listings.views import listing_view
from bot.members import current
from bot.texts import plain, t
from bot.ui import PRIVATE, Context, answer, edit, not_registered, reply, say, stale
from kooperation.services import listings

ACTIONS = {"p": "pause", "r": "resume", "c": "close"}


async def my_listings(update: Update, context: Context) -> None:
    """Lists my open listings, one message each with its own buttons (pause, edit and close
    act on that message); the title rides on the first one."""
    who = current(update, context)
    await answer(update)
    if not who.registered or not who.has_organization:
        await not_registered(update, who)
        return
    mine = await in_session(context, listings.listings_of, member_id=who.member_id)
    if not mine:
        new = [
            (plain(who.language, "menu.button_need"), "mn:need"),
            (plain(who.language, "menu.button_offer"), "mn:offer"),
        ]
        await say(update, who.language, "listings.none", [new])
        return
    title = t(who.language, "listings.mine_title", count=len(mine))
    for index, listing in enumerate(mine):
        text, buttons = listing_view(who.language, listing, runtime(context).settings.tz)
        await reply(update, f"{title}\n\n{text}" if index == 0 else text, buttons)


async def change_status(update: Update, context: Context) -> None:
    """Pause, resume or close from /mylistings; someone else's or a stale button changes nothing."""
    who = current(update, context)
    action = ACTIONS[parts(update)[1]]  # ^ml:[prc]:\d+$
    try:
        with runtime(context).session() as session:
            listing = listings.change_status(
                session=session,
                member_id=who.member_id,
                listing_id=callback_id(update) or 0,
                action=action,
            )
    except (listings.ListingNotFound, listings.NotRegistered):
        await stale(update, who, "listings.not_found")
        return
    except listings.ListingStateError:
        await stale(update, who)
        return
    await answer(update, plain(who.language, f"listings.done_{action}"))
    text, buttons = listing_view(who.language, listing, runtime(context).settings.tz)
    await edit(update, text, buttons)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """The /mylistings command and menu button, and the buttons under each listing."""
    application.add_handler(CommandHandler("mylistings", my_listings, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(my_listings, pattern=r"^mn:mine$"))
    application.add_handler(CallbackQueryHandler(change_status, pattern=r"^ml:[prc]:\d+$"))
