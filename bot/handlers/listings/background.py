"""Matching a just-saved listing while the contact goes on: the count of candidates follows."""

from __future__ import annotations

import asyncio
import logging

from telegram import Bot

from bot.context import Runtime
from bot.render import send_html
from bot.texts import t

log = logging.getLogger(__name__)


def _match_listing(state: Runtime, listing_id: int) -> int:
    """Runs in a worker thread (`usecases.rounds.match_posted_listing`)."""
    from usecases.rounds import match_posted_listing

    with state.session() as session:
        return match_posted_listing(session=session, settings=state.settings, listing_id=listing_id)


async def match_in_background(
    state: Runtime, bot: Bot, chat_id: int, language: str, listing_id: int
) -> None:
    """Tells the contact how many candidates matching found; on failure the listing stays and
    the nightly round picks it up."""
    from matching.embedders import EmbedderUnavailable

    try:
        found = await asyncio.to_thread(_match_listing, state, listing_id)
    except EmbedderUnavailable as error:  # a setting, not a bug: one line, no traceback
        log.error("incremental matching of listing %s is off: %s", listing_id, error)
        await send_html(bot, chat_id, t(language, "listings.match_failed"))
        return
    except Exception:
        log.exception("incremental matching failed for listing %s", listing_id)
        await send_html(bot, chat_id, t(language, "listings.match_failed"))
        return
    key = {0: "listings.no_candidates", 1: "listings.candidates_found_one"}.get(
        found, "listings.candidates_found"
    )
    await send_html(bot, chat_id, t(language, key, count=found))
