"""Old names of the manager-facing toolkit, kept until its handlers use `bot.ui` and
`context.staff_actor()` / `context.acting_session()` (`bot.context`) directly."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import Session
from telegram import Update

from bot.callbacks import callback_id
from bot.context import BotContext
from bot.members import Who
from bot.ui import answer as answer_query
from bot.ui import edit as edit_or_reply

Caller = Who
Context = BotContext

__all__ = [
    "Caller",
    "Context",
    "acting_session",
    "answer_query",
    "callback_id",
    "caller",
    "edit_or_reply",
]


def caller(update: Update, context: BotContext) -> Who:  # noqa: ARG001 (the old signature)
    return context.staff_actor()


@contextmanager
def acting_session(context: BotContext, who: Who) -> Iterator[Session]:  # noqa: ARG001
    with context.acting_session() as session:
        yield session
