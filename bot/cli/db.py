"""`matchbot db upgrade|downgrade`."""

from __future__ import annotations

import typer

from bot.cli import database, database_errors, settings
from kooperation import db

db_app = typer.Typer(help="Database schema (Alembic).", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Creates or migrates the schema and syncs the clusters from data."""
    loaded = settings()
    database(loaded, revision)
    typer.echo(f"Database at {revision}: {db.normalize_url(loaded.database_url)}")


@db_app.command("downgrade")
def downgrade(revision: str = typer.Argument(..., help="Target revision, e.g. base.")) -> None:
    """Rolls the schema back (development only)."""
    loaded = settings()
    with database_errors(loaded.database_url):
        db.downgrade(loaded.database_url, revision)
    typer.echo(f"Database at {revision}.")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
