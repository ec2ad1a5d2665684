"""Listings: writing and editing one (`posting`, a conversation) and managing mine (`mine`).

`views` draws the preview and a listing; `background` matches a saved listing while the
contact goes on.
"""

from __future__ import annotations

from bot.context import AnyApplication
from bot.handlers.listings import mine, posting


def register(application: AnyApplication) -> None:
    """Adds the listing conversation, then the /mylistings buttons."""
    application.add_handler(posting.build())
    mine.register(application)
