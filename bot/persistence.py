"""Conversation states, user_data and chat_data in the `bot_state` table, written through.

PTB writes persistence only every `update_interval` seconds and on a clean stop, so a hard
kill would lose up to a minute of conversations. `install_write_through` adds a handler in
the last group that flushes the data touched by each update before the next one is read; the
interval run stays as a safety net. bot_data is never persisted: `bot_data["runtime"]` holds
live objects (engine, settings).

Rows: namespace "user_data" / "chat_data" with the id as key; namespace "conv:<name>" with
the conversation key joined by commas ("chat_id,user_id").
"""

from __future__ import annotations

import logging
from collections import defaultdict
from copy import deepcopy
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, select
from telegram import Update
from telegram.ext import (
    Application,
    BasePersistence,
    ContextTypes,
    PersistenceInput,
    TypeHandler,
)
from telegram.ext._utils.types import ConversationDict, ConversationKey

from kooperation.models import BotState, utcnow

log = logging.getLogger(__name__)

USER_DATA = "user_data"
CHAT_DATA = "chat_data"
CONVERSATION_PREFIX = "conv:"
WRITE_THROUGH_GROUP = 1_000_000


def conversation_key(key: ConversationKey) -> str:
    return ",".join(str(part) for part in key)


def parse_conversation_key(text: str) -> ConversationKey:
    parts: list[str | int] = []
    for part in text.split(","):
        try:
            parts.append(int(part))
        except ValueError:
            parts.append(part)
    return tuple(parts)


class DbPersistence(BasePersistence[dict[str, Any], dict[str, Any], dict[str, Any]]):
    """PTB persistence on the `bot_state` table of the project database."""

    def __init__(self, engine: Engine, update_interval: float = 60) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=True, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self.engine = engine

    # ---- storage
    def _load(self, namespace: str) -> list[BotState]:
        with Session(self.engine) as session:
            return list(session.exec(select(BotState).where(BotState.namespace == namespace)))

    def _write(self, namespace: str, key: str, data: Any) -> None:
        with Session(self.engine) as session:
            row = session.get(BotState, (namespace, key))
            if data is None:
                if row is not None:
                    session.delete(row)
                    session.commit()
                return
            if row is None:
                row = BotState(namespace=namespace, key=key, data=data)
            else:
                row.data = data
                row.updated_at = utcnow()
            session.add(row)
            session.commit()

    def _drop(self, namespace: str, key: str) -> None:
        with Session(self.engine) as session:
            session.exec(  # type: ignore[call-overload]
                delete(BotState).where(
                    col(BotState.namespace) == namespace, col(BotState.key) == key
                )
            )
            session.commit()

    # ---- reading at start-up
    async def get_user_data(self) -> dict[int, dict[str, Any]]:
        return defaultdict(
            dict, {int(row.key): dict(row.data or {}) for row in self._load(USER_DATA)}
        )

    async def get_chat_data(self) -> dict[int, dict[str, Any]]:
        return defaultdict(
            dict, {int(row.key): dict(row.data or {}) for row in self._load(CHAT_DATA)}
        )

    async def get_bot_data(self) -> dict[str, Any]:
        return {}

    async def get_callback_data(self) -> None:
        return None

    async def get_conversations(self, name: str) -> ConversationDict:
        return {
            parse_conversation_key(row.key): row.data
            for row in self._load(CONVERSATION_PREFIX + name)
            if row.data is not None
        }

    # ---- writing
    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        self._write(CONVERSATION_PREFIX + name, conversation_key(key), new_state)

    async def update_user_data(self, user_id: int, data: dict[str, Any]) -> None:
        self._write(USER_DATA, str(user_id), deepcopy(data) or None)

    async def update_chat_data(self, chat_id: int, data: dict[str, Any]) -> None:
        self._write(CHAT_DATA, str(chat_id), deepcopy(data) or None)

    async def update_bot_data(self, data: dict[str, Any]) -> None:
        """bot_data holds live objects; never stored."""

    async def update_callback_data(self, data: Any) -> None:
        """Callback data are plain strings here; nothing to store."""

    async def drop_chat_data(self, chat_id: int) -> None:
        self._drop(CHAT_DATA, str(chat_id))

    async def drop_user_data(self, user_id: int) -> None:
        self._drop(USER_DATA, str(user_id))

    async def refresh_user_data(self, user_id: int, user_data: dict[str, Any]) -> None:
        """The in-memory copy is the current one: every change is written through."""

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[str, Any]) -> None:
        """See `refresh_user_data`."""

    async def refresh_bot_data(self, bot_data: dict[str, Any]) -> None:
        """bot_data is not persisted."""

    async def flush(self) -> None:
        """Everything is already written."""


async def _write_through(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs after every other handler: stores what this update changed before the next one."""
    application = context.application
    if isinstance(update, Update):
        application.mark_data_for_update_persistence(
            chat_ids=update.effective_chat.id if update.effective_chat else None,
            user_ids=update.effective_user.id if update.effective_user else None,
        )
    await application.update_persistence()


def install_write_through(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    if application.persistence is not None:
        application.add_handler(TypeHandler(object, _write_through), group=WRITE_THROUGH_GROUP)
