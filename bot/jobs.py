"""Placeholder until the schedules issue lands; the schedules helper replaces this file."""

from typing import Any

from telegram.ext import Application


def start(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Starts the outbox sender and the scheduled jobs."""


async def stop(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Stops what `start` started."""
