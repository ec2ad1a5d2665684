"""The application factory: `matchbot run` and the end-to-end tests build the bot here."""

from __future__ import annotations

import importlib
import logging
from typing import Any

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, Application, ContextTypes, Defaults, TypeHandler

from bot.concurrency import ChatOrderedProcessor
from bot.context import BotContext, BotData, ChatData, Runtime, UserData, runtime, worker_threads
from kooperation.config import Settings
from kooperation.db import engine_for

log = logging.getLogger(__name__)

# Order matters: earlier modules win when two handlers could take the same update;
# `menu` holds the catch-all fallbacks and comes last.
HANDLER_MODULES = (
    "bot.handlers.errors",
    "bot.handlers.group",
    "bot.handlers.onboarding",
    "bot.handlers.listings",
    "bot.handlers.matches",
    "bot.handlers.introductions",
    "bot.handlers.review",
    "bot.handlers.managers",
    "bot.handlers.membership",
    "bot.handlers.stats",
    "bot.handlers.followup",
    "bot.handlers.settings",
    "bot.handlers.privacy",
    "bot.handlers.menu",
)
PREFETCH_GROUP = -1_000_000
"""Before every handler: the acting member, looked up in a worker thread (bot.members)."""
DEFAULTS = Defaults(
    parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
)
"""Every text the bot sends is rendered HTML (bot/texts); links never unfold into previews."""
CONTEXT_TYPES = ContextTypes(
    context=BotContext, user_data=UserData, chat_data=ChatData, bot_data=BotData
)


def build_application(settings: Settings) -> Application[Any, Any, Any, Any, Any, Any]:
    """Builds the bot with every handler, the outbox sender and the schedules."""
    from bot.members import prefetch
    from bot.persistence import DbPersistence, install_write_through

    # httpx logs every Bot API call at INFO: lines nobody reads, ~3 per update.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    bound = settings.max_concurrent_updates
    engine = engine_for(settings.database_url, pool_size=bound)
    executor = worker_threads(bound)
    application = (
        Application.builder()
        .token(settings.telegram_bot_token)
        .defaults(DEFAULTS)
        .base_url(settings.telegram_api_base_url)
        .rate_limiter(
            AIORateLimiter(overall_max_rate=settings.telegram_messages_per_second, max_retries=3)
        )
        .persistence(DbPersistence(engine, executor=executor))
        .context_types(CONTEXT_TYPES)
        .concurrent_updates(ChatOrderedProcessor(bound))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    application.bot_data["runtime"] = Runtime(settings=settings, engine=engine, executor=executor)
    application.add_handler(TypeHandler(Update, prefetch), group=PREFETCH_GROUP)
    for name in HANDLER_MODULES:
        importlib.import_module(name).register(application)
    install_write_through(application)
    return application


async def _post_init(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    from bot import commands, jobs

    await commands.publish(application)
    jobs.start(application)


async def _post_shutdown(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    from bot import jobs

    await jobs.stop(application)
    runtime(application).close()
