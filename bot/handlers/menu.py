"""Placeholder until its issue lands; replaced by the real handlers."""

from typing import Any

from telegram.ext import Application


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Adds this module's handlers to the application."""
