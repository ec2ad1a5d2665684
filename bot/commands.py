"""Placeholder until the contacts bot lands; replaced by setMyCommands in de and en."""

from typing import Any

from telegram.ext import Application


async def publish(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Registers the command menu."""
