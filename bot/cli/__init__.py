"""`matchbot`: one console script, one short function per subcommand (see `--help`)."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

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


def database(loaded: Settings, revision: str = "head") -> Engine:
    """The engine for DATABASE_URL, its schema brought to head first (a no-op when current),
    so that no command meets a missing table on a fresh machine. A database that cannot be
    reached or a URL that cannot be read ends the command with one line and exit code 2."""
    from kooperation import db

    with database_errors(loaded.database_url):
        db.upgrade(loaded.database_url, revision)
    return db.engine_for(loaded.database_url)


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """Turns "cannot connect" and "cannot parse the URL" into one line and exit code 2."""
    try:
        yield
    except (SQLAlchemyError, ImportError) as error:  # ImportError: a driver we do not install
        typer.echo(
            f"Error: setting DATABASE_URL is invalid: {database_problem(url, error)}", err=True
        )
        raise typer.Exit(2) from None


def database_problem(url: str, error: BaseException) -> str:
    """One line on why the database cannot be used, with the URL's password hidden."""
    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return f"{url!r} is not a database URL (e.g. sqlite:///matchbot.db or postgresql://…)"
    if isinstance(error, NoSuchModuleError | ImportError):
        return f"{shown}: unsupported database (use sqlite:/// or postgresql://)"
    parsed = make_url(url)
    folder = Path(parsed.database or "").parent
    if parsed.get_backend_name() == "sqlite" and parsed.database and not folder.is_dir():
        return f"cannot use {shown}: the folder {folder} does not exist"
    if isinstance(error, DBAPIError) and error.orig is not None:
        reason = str(error.orig)
    else:
        reason = str(error)
    first = next(
        (line.strip() for line in reason.splitlines() if line.strip()), type(error).__name__
    )
    return f"cannot use {shown}: {first}"


def fail(message: str, code: int = 1) -> typer.Exit:
    """Prints one clear line to stderr; `raise fail(...)` ends the command."""
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(code)


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
