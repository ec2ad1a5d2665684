"""The outbox sender: delivers queued messages one at a time, within Telegram's limits.

Each row is claimed (its attempt counted and committed), rendered in the member's current
language, sent, and marked sent in its own commit straight after. A crash therefore repeats at
most the one message in flight, and that row's `attempts` > 1 shows it happened. Rows queued by
other processes (the CLI) are picked up on the next poll.

Limits: `outbox_rate_per_second` overall (Telegram allows about 30/s) and one message per second
per chat, which python-telegram-bot's AIORateLimiter does not enforce for private chats.
Errors: 429 → wait `retry_after` and send again; 403 → the member is marked unreachable and the
row fails; anything else → retry with exponential backoff, up to `outbox_max_attempts`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine
from telegram.error import Forbidden, RetryAfter
from telegram.warnings import PTBDeprecationWarning

from bot.outbox_render import render
from bot.render import Buttons, send_html, split_message
from kooperation.db import session_scope
from kooperation.models import utcnow
from kooperation.services import outbox
from kooperation.services.members import mark_unreachable

log = logging.getLogger(__name__)

BATCH = 200
PER_CHAT_INTERVAL = 1.0
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
MAX_RETRY_AFTER_WAITS = 10


@dataclass
class DeliveryStats:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    rate_limited: int = 0


def _retry_after(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the int will become a timedelta
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class OutboxSender:
    """Sends due outbox rows through `bot` (an ExtBot or anything with `send_message`)."""

    def __init__(
        self,
        *,
        bot: Any,
        engine: Engine,
        rate_per_second: float,
        max_attempts: int,
        per_chat_interval: float = PER_CHAT_INTERVAL,
        poll_interval: float = 1.0,
        backoff_base: timedelta = BACKOFF_BASE,
        is_running: Callable[[], bool] | None = None,
        is_quiet: Callable[[], bool] | None = None,
    ) -> None:
        """`is_quiet`: whether messages should arrive silently now (quiet hours)."""
        self.bot = bot
        self.is_quiet = is_quiet or (lambda: False)
        self.engine = engine
        self.interval = 1.0 / rate_per_second
        self.max_attempts = max_attempts
        self.per_chat_interval = per_chat_interval
        self.poll_interval = poll_interval
        self.backoff_base = backoff_base
        self.is_running = is_running or (lambda: True)
        self.stats = DeliveryStats()
        self._chat_free_at: dict[int, float] = {}
        self._reread = False
        self._next_slot = 0.0
        self._wake = asyncio.Event()
        self._stopping = False

    # ------------------------------------------------------------------ control
    def wake(self) -> None:
        """Something was queued in this process: look at the outbox now, not at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    @property
    def active(self) -> bool:
        return not self._stopping and self.is_running()

    async def run(self) -> None:
        """Polls and sends until stopped; errors in one pass are logged, never fatal."""
        log.info("outbox sender started")
        while self.active:
            self._wake.clear()
            try:
                processed, retry_in = await self.send_due()
            except Exception:
                log.exception("outbox sender pass failed")
                processed, retry_in = 0, self.poll_interval
            if processed:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=min(retry_in, self.poll_interval))
        log.info("outbox sender stopped")

    async def drain(self, timeout: float = 60.0) -> DeliveryStats:
        """Sends until nothing is due any more (for the CLI, tests and the benchmark)."""
        deadline = time.monotonic() + timeout
        while self.active and time.monotonic() < deadline:
            processed, retry_in = await self.send_due()
            if not processed:
                if retry_in >= self.poll_interval:
                    break
                await asyncio.sleep(retry_in)
        return self.stats

    # ------------------------------------------------------------------ one pass
    async def send_due(self) -> tuple[int, float]:
        """One pass over the due rows; returns (rows handled, seconds until a busy chat frees)."""
        due = await asyncio.to_thread(self._due)
        processed = 0
        retry_in = self.poll_interval
        for row in due:
            if not self.active:
                break
            wait = self._chat_free_at.get(row.chat_id, 0.0) - time.monotonic()
            if wait > 0:
                retry_in = min(retry_in, wait)
                continue
            await self.deliver(row)
            processed += 1
            if self._reread:  # a member blocked the bot: later rows may be theirs, read afresh
                self._reread = False
                break
        return processed, max(retry_in, 0.01)

    def _due(self) -> list[outbox.DueMessage]:
        with session_scope(self.engine) as session:
            return outbox.due_messages(session=session, now=utcnow(), limit=BATCH)

    async def _pace(self) -> None:
        now = time.monotonic()
        if self._next_slot < now - self.interval:
            self._next_slot = now
        if self._next_slot > now:
            await asyncio.sleep(self._next_slot - now)
        self._next_slot = max(self._next_slot, now) + self.interval

    async def deliver(self, due: outbox.DueMessage) -> None:
        """Claims, renders, sends and marks one row."""
        message = await asyncio.to_thread(self._claim, due)
        if message is None:
            return
        self._chat_free_at[message.chat_id] = time.monotonic() + self.per_chat_interval
        if not message.reachable:
            await self._give_up(
                message, outbox.blocked_error("member unreachable (blocked the bot)")
            )
            return
        try:
            rendered = render(message.kind, message.language, message.payload)
        except Exception as error:
            log.exception("outbox %s (%s): rendering failed", message.id, message.kind)
            await self._failed(message, f"render: {error!r}")
            return
        parts = split_message(rendered.text)
        for index, part in enumerate(parts):
            if index:  # a long message goes out in parts, still one per second into a chat
                await asyncio.sleep(self.per_chat_interval)
            buttons = rendered.buttons if index == len(parts) - 1 else None
            if not await self._send(message, part, buttons):
                return
        self._chat_free_at[message.chat_id] = time.monotonic() + self.per_chat_interval
        await asyncio.to_thread(self._mark_sent, message.id)
        self.stats.sent += 1

    async def _send(self, message: outbox.DueMessage, text: str, buttons: Buttons | None) -> bool:
        """One API call with the error policy; False if the row was given up or postponed."""
        waits = 0
        while True:
            await self._pace()  # right before the API call, so the limit holds for calls
            try:
                await send_html(self.bot, message.chat_id, text, buttons, silent=self.is_quiet())
                return True
            except RetryAfter as error:
                waits += 1
                self.stats.rate_limited += 1
                pause = _retry_after(error)
                log.warning("outbox %s: flood control, waiting %.1f s", message.id, pause)
                if waits > MAX_RETRY_AFTER_WAITS or not self.active:
                    await self._failed(message, f"RetryAfter: {pause:.0f} s")
                    return False
                await asyncio.sleep(pause)
                self._next_slot = time.monotonic()
                if not self.active:  # shutting down: the row stays pending for the next start
                    return False
            except Forbidden as error:
                log.info("outbox %s: chat %s blocked the bot", message.id, message.chat_id)
                if message.member_id is not None:
                    await asyncio.to_thread(self._mark_unreachable, message.member_id)
                    self._reread = True
                await self._give_up(message, outbox.blocked_error(error.message))
                return False
            except Exception as error:
                log.warning("outbox %s: send failed: %r", message.id, error)
                await self._failed(message, f"{type(error).__name__}: {error}")
                return False

    # ------------------------------------------------------------------ database steps
    def _claim(self, due: outbox.DueMessage) -> outbox.DueMessage | None:
        with session_scope(self.engine) as session:
            return outbox.claim_message(session=session, due=due)

    def _mark_sent(self, message_id: int) -> None:
        with session_scope(self.engine) as session:
            outbox.mark_sent(session=session, message_id=message_id)

    def _mark_unreachable(self, member_id: int) -> None:
        with session_scope(self.engine) as session:
            mark_unreachable(session=session, member_id=member_id)

    async def _give_up(self, message: outbox.DueMessage, error: str) -> None:
        self.stats.failed += 1
        await asyncio.to_thread(self._record_failure, message.id, error, None)

    async def _failed(self, message: outbox.DueMessage, error: str) -> None:
        """Backs off exponentially; after `max_attempts` the row fails for good."""
        if message.attempts >= self.max_attempts:
            log.error(
                "outbox %s: giving up after %s attempts: %s", message.id, message.attempts, error
            )
            await self._give_up(message, error)
            return
        self.stats.retried += 1
        delay = min(self.backoff_base * 2 ** (message.attempts - 1), BACKOFF_MAX)
        await asyncio.to_thread(self._record_failure, message.id, error, utcnow() + delay)

    def _record_failure(self, message_id: int, error: str, retry_at: Any) -> None:
        with session_scope(self.engine) as session:
            outbox.mark_failed(
                session=session, message_id=message_id, error=error, retry_at=retry_at
            )
