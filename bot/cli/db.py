"""`matchbot db upgrade|downgrade`."""

from __future__ import annotations

import typer

from bot.cli import settings
from kooperation import db as database

db_app = typer.Typer(help="Database schema (Alembic).", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Creates or migrates the schema and syncs the clusters from data."""
    url = settings().database_url
    database.upgrade(url, revision)
    typer.echo(f"Database at {revision}: {database.normalize_url(url)}")


@db_app.command("downgrade")
def downgrade(revision: str = typer.Argument(..., help="Target revision, e.g. base.")) -> None:
    """Rolls the schema back (development only)."""
    database.downgrade(settings().database_url, revision)
    typer.echo(f"Database at {revision}.")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
