"""Listings: writing and editing one (`posting`, a conversation) and managing mine (`mine`).

`views` draws the preview and a listing; `background` matches a saved listing while the
contact goes on.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import Application

from bot.handlers.listings import mine, posting


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Adds the listing conversation, then the /mylistings buttons."""
    application.add_handler(posting.build())
    mine.register(application)
