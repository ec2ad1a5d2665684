"""Updates of one chat in order, different chats at the same time.

PTB processes one update at a time by default: every update waits for all Bot API calls of the
ones before it, whoever sent them. `concurrent_updates(True)` removes the wait but also every
order, and `ConversationHandler` relies on the updates of one conversation arriving one by one
(it sets the new state only after the step returned). `ChatOrderedProcessor` gives the
guarantee in between, the one teloxide gives by default (PTB issue #3575):

- every update has *lane keys*: its chat and its user (a callback query's chat is the chat of
  the message its button belongs to; an update without a chat has only its user);
- an update starts only after every earlier update that shares one of its keys has finished;
- updates with no key in common run concurrently, at most `max_concurrent_updates` at a time.

A `ConversationHandler` keyed by (chat, user) therefore never sees two steps of one
conversation at once, and a user's `user_data` is never touched by two updates at once (a user
writing in a group and in private is one lane). Waiting for its turn does not take one of the
bounded slots, so one chat sending fifty updates in a burst does not stall the other chats.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Hashable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

log = logging.getLogger(__name__)

# PTB takes its own semaphore before `do_process_update`; an update waiting there for its
# chat's turn would hold a slot. It admits everything, the bound below applies once it is an
# update's turn.
_ADMIT_ALL = 1 << 30


def lane_keys(update: object) -> tuple[Hashable, ...]:
    """The lanes an update runs in: its chat and its user (none for non-Update objects)."""
    if not isinstance(update, Update):
        return ()
    keys: list[Hashable] = []
    if update.effective_chat is not None:
        keys.append(("chat", update.effective_chat.id))
    if update.effective_user is not None:
        keys.append(("user", update.effective_user.id))
    return tuple(keys)


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Runs updates of one chat (and of one user) in arrival order, others concurrently."""

    def __init__(self, max_concurrent_updates: int) -> None:
        if max_concurrent_updates < 1:
            raise ValueError("max_concurrent_updates must be at least 1")
        # The base class sizes its semaphore from the `max_concurrent_updates` property.
        self._bound = _ADMIT_ALL
        super().__init__(max_concurrent_updates=_ADMIT_ALL)
        self._bound = max_concurrent_updates
        self._slots: asyncio.Semaphore | None = None
        self._running = 0
        self._tails: dict[Hashable, asyncio.Future[None]] = {}

    @property
    def max_concurrent_updates(self) -> int:
        """How many updates run their handlers at the same time at most."""
        return self._bound

    @property
    def current_concurrent_updates(self) -> int:
        return self._running

    @property
    def waiting_lanes(self) -> int:
        """Lanes with an update running or queued (for tests and diagnostics)."""
        return len(self._tails)

    async def initialize(self) -> None:
        self._slots = asyncio.Semaphore(self._bound)

    async def shutdown(self) -> None:
        """Nothing to free; PTB waits for the updates in flight itself."""

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        # Everything up to the first `await` runs in arrival order (PTB starts one task per
        # update in the order they were fetched), so the lanes' tails are taken in that order.
        keys = lane_keys(update)
        earlier = {self._tails[key] for key in keys if key in self._tails}
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        for key in keys:
            self._tails[key] = done
        try:
            if earlier:
                await asyncio.wait(earlier)
            if self._slots is None:  # used without initialize(), e.g. in a test
                self._slots = asyncio.Semaphore(self._bound)
            async with self._slots:
                self._running += 1
                try:
                    await coroutine
                finally:
                    self._running -= 1
        finally:
            done.set_result(None)
            for key in keys:
                if self._tails.get(key) is done:
                    del self._tails[key]
            if asyncio.iscoroutine(coroutine):
                coroutine.close()  # never started (cancelled while waiting): no warning
