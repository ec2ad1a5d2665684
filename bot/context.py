"""What handlers and jobs reach through `context`: settings, the database, the matcher.

Database work never runs on the event loop: while one update waits for a query, the others go
on. `Runtime.run` runs a function in the runtime's worker threads (as many as the connection
pool has connections, MAX_CONCURRENT_UPDATES), and `in_session` runs one service call there
inside its own session:

    summaries = await in_session(context, listings.matches_of, member_id=who.member_id)
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session
from telegram.ext import Application, CallbackContext

from kooperation.config import Settings
from kooperation.db import session_scope

T = TypeVar("T")


@dataclass
class Runtime:
    """Process-wide objects of a running bot, kept on `application.bot_data["runtime"]`."""

    settings: Settings
    engine: Engine
    extras: dict[str, Any] = field(default_factory=dict)
    executor: ThreadPoolExecutor | None = None

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.engine) as session:
            yield session

    async def run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`function(*args, **kwargs)` in a worker thread; the event loop serves others."""
        loop = asyncio.get_running_loop()
        call = functools.partial(function, *args, **kwargs)
        return await loop.run_in_executor(self.executor, call)

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=False)


def worker_threads(size: int) -> ThreadPoolExecutor:
    """The database worker threads: one per pooled connection, so none waits for the pool."""
    return ThreadPoolExecutor(max_workers=size, thread_name_prefix="db")


class BotContext(CallbackContext[Any, Any, Any, Any]):
    """PTB's context plus what is resolved once per update before any handler runs.

    `prefetched` holds the acting member (`bot.members.Who`), looked up in a worker thread by
    the update's first handler group (`bot.members.prefetch`); `bot.members.current` takes it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prefetched: Any = None


def runtime(
    context: CallbackContext[Any, Any, Any, Any] | Application[Any, Any, Any, Any, Any, Any],
) -> Runtime:
    app = context if isinstance(context, Application) else context.application
    return app.bot_data["runtime"]


async def in_session(
    context: CallbackContext[Any, Any, Any, Any], service: Callable[..., T], **kwargs: Any
) -> T:
    """`service(session=…, **kwargs)` in a worker thread, in a session of its own that rolls
    back on error (the service commits what it changes)."""
    rt = runtime(context)

    def call() -> T:
        with rt.session() as session:
            return service(session=session, **kwargs)

    return await rt.run(call)
