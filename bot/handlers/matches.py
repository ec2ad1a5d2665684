"""/matches: my proposals and introductions with their state, as a contact may see them."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.callbacks import MENU_MATCHES
from bot.context import BotContext, in_session
from bot.texts import Markup, plain, t
from bot.ui import PRIVATE, answer, not_registered, reply, say
from kooperation.services import listings


async def my_matches(update: Update, context: BotContext) -> None:
    """Lists every proposal for my listings; a manager's reason is never shown."""
    who = context.actor
    await answer(update)
    if not who.registered or not who.has_organization:
        await not_registered(update, who)
        return
    summaries = await in_session(context, listings.matches_of, member_id=who.member_id)
    if not summaries:
        await say(update, who.language, "matches.none")
        return
    lines = [t(who.language, "matches.title", count=len(summaries))]
    for item in summaries:
        other = (
            t(
                who.language,
                "matches.other",
                organization=item.other_organization,
                cluster=item.other_cluster,
                title=item.other_title,
            )
            if item.other_organization
            else Markup("")
        )
        lines.append(
            t(
                who.language,
                "matches.item",
                kind=plain(who.language, f"listings.kind.{item.my_kind}"),
                title=item.my_title,
                state=plain(who.language, f"matches.state.{item.state}"),
                other=other,
            )
        )
    await reply(update, "\n\n".join(lines))


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Adds /matches and its menu button."""
    application.add_handler(CommandHandler("matches", my_matches, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(my_matches, pattern=MENU_MATCHES.pattern))
