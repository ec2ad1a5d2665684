"""`matchbot run`: the bot itself, polling the Bot API."""

from __future__ import annotations

import typer

from bot.cli import database, fail, settings


def run() -> None:
    """Runs the Telegram bot with its schedules (needs TELEGRAM_BOT_TOKEN)."""
    loaded = settings()
    if not loaded.telegram_bot_token:
        raise fail("setting TELEGRAM_BOT_TOKEN is missing (create a bot with @BotFather)", 2)
    from bot.app import build_application

    database(loaded)
    application = build_application(loaded)
    application.run_polling(allowed_updates=None, drop_pending_updates=False)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
