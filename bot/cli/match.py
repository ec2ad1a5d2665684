"""Placeholder until its issue lands."""

import typer

from bot.cli import pending_command


def register(app: typer.Typer) -> None:
    pending_command(app, "match", "the matching engine (issue 3)")
