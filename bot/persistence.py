"""Conversation states, user_data and chat_data in the `bot_state` table, written through.

PTB writes persistence only every `update_interval` seconds and on a clean stop, so a hard
kill would lose up to a minute of conversations. `install_write_through` adds a handler in
the last group that flushes the data touched by each update before the next one is read; the
interval run stays as a safety net. bot_data is never persisted: `bot_data["runtime"]` holds
live objects (engine, settings).

Rows: namespace "user_data" / "chat_data" with the id as key; namespace "conv:<name>" with
the conversation key joined by commas ("chat_id,user_id").

Under concurrent updates (bot/concurrency.py) the writes run in worker threads, off the event
loop, and must still leave each row with the value asked for last. PTB creates its write
coroutines in one place and runs them later (`asyncio.gather`), so a write started after a
newer one could overwrite it. Here the update methods are plain functions: the order of one
row's writes is fixed when they are *called*, and each write waits for the one before it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Executor
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

    def __init__(
        self, engine: Engine, update_interval: float = 60, executor: Executor | None = None
    ) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=True, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self.engine = engine
        self.executor = executor
        self._tails: dict[tuple[str, str], asyncio.Future[None]] = {}
        self._latest: dict[tuple[str, str], Any] = {}
        """The value each row holds, or will hold once its pending writes are done."""

    # ---- ordering
    def _submit(self, namespace: str, key: str, write: Callable[[], None]) -> asyncio.Future[None]:
        """Schedules `write` of one row after the writes of that row asked for before it."""
        row = (namespace, key)
        task = asyncio.ensure_future(self._after(self._tails.get(row), write))
        self._tails[row] = task

        def forget(done: asyncio.Future[None]) -> None:
            if self._tails.get(row) is done:
                del self._tails[row]

        task.add_done_callback(forget)
        return task

    async def _after(
        self, previous: asyncio.Future[None] | None, write: Callable[[], None]
    ) -> None:
        if previous is not None:
            await asyncio.wait([previous])  # its failure is reported to its own caller
        await asyncio.get_running_loop().run_in_executor(self.executor, write)

    async def _read(self, namespace: str) -> list[BotState]:
        rows = await asyncio.get_running_loop().run_in_executor(
            self.executor, self._load, namespace
        )
        # copies: the application changes what it was given in place
        self._latest.update({(namespace, row.key): deepcopy(row.data) for row in rows})
        return rows

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
            session.exec(
                delete(BotState).where(
                    col(BotState.namespace) == namespace, col(BotState.key) == key
                )
            )
            session.commit()

    # ---- reading at start-up
    async def get_user_data(self) -> dict[int, dict[str, Any]]:
        return defaultdict(
            dict, {int(row.key): dict(row.data or {}) for row in await self._read(USER_DATA)}
        )

    async def get_chat_data(self) -> dict[int, dict[str, Any]]:
        return defaultdict(
            dict, {int(row.key): dict(row.data or {}) for row in await self._read(CHAT_DATA)}
        )

    async def get_bot_data(self) -> dict[str, Any]:
        return {}

    async def get_callback_data(self) -> None:
        return None

    async def get_conversations(self, name: str) -> ConversationDict:
        return {
            parse_conversation_key(row.key): row.data
            for row in await self._read(CONVERSATION_PREFIX + name)
            if row.data is not None
        }

    # ---- writing: plain functions returning an awaitable (see the module docstring)
    def _put(self, namespace: str, key: str, data: Any) -> asyncio.Future[None]:
        """Writes `data` unless the row already holds it or is about to (PTB asks for every
        touched chat and user after every update, mostly unchanged); the caller still waits
        for a pending write of the same value."""
        row = (namespace, key)
        if row in self._latest and self._latest[row] == data:
            pending = self._tails.get(row)
            return pending if pending is not None else _done()
        self._latest[row] = data
        task = self._submit(namespace, key, lambda: self._write(namespace, key, data))

        def forget_on_failure(done: asyncio.Future[None]) -> None:
            if done.cancelled() or done.exception() is not None:
                self._latest.pop(row, None)  # unknown what the row holds now

        task.add_done_callback(forget_on_failure)
        return task

    def update_conversation(  # type: ignore[override]
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> asyncio.Future[None]:
        return self._put(CONVERSATION_PREFIX + name, conversation_key(key), new_state)

    def update_user_data(  # type: ignore[override]
        self, user_id: int, data: dict[str, Any]
    ) -> asyncio.Future[None]:
        return self._put(USER_DATA, str(user_id), deepcopy(data) or None)

    def update_chat_data(  # type: ignore[override]
        self, chat_id: int, data: dict[str, Any]
    ) -> asyncio.Future[None]:
        return self._put(CHAT_DATA, str(chat_id), deepcopy(data) or None)

    async def update_bot_data(self, data: dict[str, Any]) -> None:
        """bot_data holds live objects; never stored."""

    async def update_callback_data(self, data: Any) -> None:
        """Callback data are plain strings here; nothing to store."""

    def drop_chat_data(self, chat_id: int) -> asyncio.Future[None]:  # type: ignore[override]
        key = str(chat_id)
        self._latest[(CHAT_DATA, key)] = None
        return self._submit(CHAT_DATA, key, lambda: self._drop(CHAT_DATA, key))

    def drop_user_data(self, user_id: int) -> asyncio.Future[None]:  # type: ignore[override]
        key = str(user_id)
        self._latest[(USER_DATA, key)] = None
        return self._submit(USER_DATA, key, lambda: self._drop(USER_DATA, key))

    async def refresh_user_data(self, user_id: int, user_data: dict[str, Any]) -> None:
        """The in-memory copy is the current one: every change is written through."""

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[str, Any]) -> None:
        """See `refresh_user_data`."""

    async def refresh_bot_data(self, bot_data: dict[str, Any]) -> None:
        """bot_data is not persisted."""

    async def flush(self) -> None:
        """Every write was awaited by whoever asked for it; waits for any still running."""
        if self._tails:
            await asyncio.wait(list(self._tails.values()))


def _done() -> asyncio.Future[None]:
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    future.set_result(None)
    return future


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
