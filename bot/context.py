"""What handlers and jobs reach through `context`: settings, the database, the acting member.

Every handler has the signature `(update: Update, context: BotContext)`:

    who = context.actor                       # the acting member, resolved once per update
    settings = context.runtime.settings
    with context.acting_session() as session: # a service call on the actor's behalf
        review.approve_match(session=session, settings=settings, member=who.member, …)

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
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session
from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot

from kooperation.config import Settings
from kooperation.db import session_scope
from kooperation.services import identity

if TYPE_CHECKING:
    from bot.delivery import OutboxSender
    from bot.members import Prefetched, Who

T = TypeVar("T")

UserData = dict[Any, Any]
"""Per user, persisted (`bot/persistence.py`): conversation steps' state."""
ChatData = dict[Any, Any]
BotData = dict[str, Any]
"""Holds only `"runtime"`; never persisted."""

CommandMenu = tuple[tuple[str, str], ...] | None
"""A chat's command menu as (command, description) pairs; None: the public menu."""


@dataclass
class Runtime:
    """Process-wide objects of a running bot, kept on `application.bot_data["runtime"]`."""

    settings: Settings
    engine: Engine
    executor: ThreadPoolExecutor | None = None
    sender: OutboxSender | None = None
    """Delivers the outbox (started by `bot.jobs.start`)."""
    sender_task: asyncio.Task[None] | None = None
    staff_menus: dict[int, CommandMenu] = field(default_factory=dict)
    """Each staff chat's command menu as this process last set it (`bot.commands`)."""

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.engine) as session:
            yield session

    async def run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`function(*args, **kwargs)` in a worker thread; the event loop serves others."""
        loop = asyncio.get_running_loop()
        call = functools.partial(function, *args, **kwargs)
        return await loop.run_in_executor(self.executor, call)

    def wake_sender(self) -> None:
        """Has queued outbox rows sent at once (else the sender's next poll, within ~1 s)."""
        if self.sender is not None:
            self.sender.wake()

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=False)


def worker_threads(size: int) -> ThreadPoolExecutor:
    """The database worker threads: one per pooled connection, so none waits for the pool."""
    return ThreadPoolExecutor(max_workers=size, thread_name_prefix="db")


AnyApplication = Application[Any, Any, Any, Any, Any, Any]


class BotContext(CallbackContext[ExtBot[None], UserData, ChatData, BotData]):
    """PTB's context plus the runtime and the acting member, resolved once per update.

    The first handler group (`bot.members.prefetch`) reads the member in a worker thread;
    `actor` (or `known_actor`, `staff_actor()`) takes that on first use (or looks the user up
    itself) and keeps it for every later handler of the update. After a handler changed the
    member, `refresh_actor()`."""

    def __init__(
        self, application: AnyApplication, chat_id: int | None = None, user_id: int | None = None
    ) -> None:
        super().__init__(application, chat_id=chat_id, user_id=user_id)
        self.prefetched: Prefetched | None = None
        self._update: Update | None = None
        self._actor: Who | None = None

    @classmethod
    def from_update(cls, update: object, application: AnyApplication) -> BotContext:
        """PTB's constructor for handlers (and, through `from_error`, error handlers); the
        context keeps the update so that `actor` can look its user up."""
        if not isinstance(update, Update):
            return cls(application)
        chat, user = update.effective_chat, update.effective_user
        context = cls(
            application, chat_id=chat.id if chat else None, user_id=user.id if user else None
        )
        context._update = update
        return context

    @property
    def runtime(self) -> Runtime:
        return runtime(self.application)

    @property
    def user_state(self) -> UserData:
        """`user_data`, for the updates every handler here gets (they all have a user)."""
        if self.user_data is None:
            raise LookupError("an update without a user has no user data")
        return self.user_data

    @property
    def actor(self) -> Who:
        """The member behind the update (None before consent) and the language to answer in,
        as a contact's own message or menu button meets them: a member who had blocked the bot
        is reachable again, a changed @username or chat is stored (`identity.seen`)."""
        if self._actor is None:
            from bot.members import first_look

            self._actor = first_look(self._update, self)
        return self._actor

    @property
    def known_actor(self) -> Who:
        """The same member as read before any handler, changing nothing: for staff commands
        and the buttons of messages the bot sent on its own (introductions, follow-ups)."""
        if self._actor is None:
            from bot.members import as_read

            self._actor = as_read(self._update, self)
        return self._actor

    def refresh_actor(self) -> Who:
        """Looks the actor up again (after a handler changed the member) and keeps that."""
        from bot.members import look_up

        self._actor = look_up(self._update, self)
        return self._actor

    def staff_actor(self) -> Who:
        """`known_actor` for a manager's or admin's command: an admin listed in the settings
        who has no member row yet gets one now (`identity.staff_member`)."""
        from bot.members import with_staff_row

        self._actor = with_staff_row(self._update, self, self.known_actor)
        return self._actor

    @contextmanager
    def acting_session(self) -> Iterator[Session]:
        """A session for one service call on the actor's behalf: the services take the member,
        and a refusal of an actor without a member row is audited under their Telegram id."""
        who = self.known_actor  # the actor already resolved, or read without a change
        with self.runtime.session() as session:
            if who.member is None and who.telegram_user_id:
                identity.as_stranger(session=session, telegram_user_id=who.telegram_user_id)
            yield session

    def wake_sender(self) -> None:
        self.runtime.wake_sender()


def runtime(context: BotContext | AnyApplication) -> Runtime:
    """The runtime of an application (jobs, start-up) or of any context."""
    app = context if isinstance(context, Application) else context.application
    state: Runtime = app.bot_data["runtime"]
    return state


async def in_session(context: BotContext, service: Callable[..., T], **kwargs: Any) -> T:
    """`service(session=…, **kwargs)` in a worker thread, in a session of its own that rolls
    back on error (the service commits what it changes)."""
    rt = runtime(context)

    def call() -> T:
        with rt.session() as session:
            return service(session=session, **kwargs)

    return await rt.run(call)
