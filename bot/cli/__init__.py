"""`matchbot`: one console script, one short function per subcommand (see `--help`)."""

from __future__ import annotations

import logging
import os
import sys

import typer
from sqlalchemy.engine import Engine

from kooperation.config import Settings, SettingsError, load_settings

app = typer.Typer(
    help="Kooperationsbörse – matchmaking bot of the MoLeWa clusters.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def settings() -> Settings:
    """Reads the settings; a bad one ends the command with one line and exit code 2."""
    try:
        loaded = load_settings()
    except SettingsError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(2) from None
    logging.basicConfig(
        level=loaded.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if loaded.log_level != "DEBUG":
        logging.getLogger("alembic").setLevel(logging.WARNING)
    return loaded


def database(loaded: Settings) -> Engine:
    """The engine for DATABASE_URL, its schema brought to head first (a no-op when current),
    so that no command meets a missing table on a fresh machine."""
    from kooperation import db

    db.upgrade(loaded.database_url)
    return db.engine_for(loaded.database_url)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Prints one clear line to stderr; `raise fail(...)` ends the command."""
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(code)


def pending_command(app: typer.Typer, name: str, feature: str) -> None:
    """A subcommand whose feature has not landed yet: says so and exits 2, faking nothing."""

    def command() -> None:
        raise fail(f"`matchbot {name}` needs {feature}, which has not landed yet", 2)

    command.__doc__ = f"(not available yet: {feature})"
    app.command(name, context_settings={"ignore_unknown_options": True, "allow_extra_args": True})(
        command
    )


def _register() -> None:
    from bot.cli import data, db, demo, invite, manage, match, run, schedule

    for module in (db, run, data, match, schedule, manage, invite, demo):
        module.register(app)


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    _register()
    try:
        app()
    except SettingsError as error:
        typer.echo(f"Error: {error}", err=True)
        sys.exit(2)
