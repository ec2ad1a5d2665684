"""Placeholder until the contacts bot lands; replaced by a write-through database persistence."""

from typing import Any

from sqlalchemy.engine import Engine
from telegram.ext import DictPersistence, PersistenceInput


def DbPersistence(engine: Engine) -> Any:
    """In-memory only for now."""
    return DictPersistence(store_data=PersistenceInput(bot_data=False, callback_data=False))
