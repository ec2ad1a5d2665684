"""Placeholder until its issue lands."""

import typer

from bot.cli import pending_command


def register(app: typer.Typer) -> None:
    pending_command(app, "import", "the CSV import (issue 2)")
