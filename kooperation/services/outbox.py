"""The transactional outbox: messages the system sends on its own initiative.

A service that causes a message (an approval, a digest, a follow-up) writes the row in its
own transaction; the bot's sender (`bot/delivery.py`) renders and sends it later. The payload
is data, not text: `bot/` renders it per `kind` in the member's language at send time, so
this package stays free of Telegram and of the message catalogue.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from kooperation.models import Member, Outbox, utcnow


def queue_message(
    *,
    session: Session,
    member: Member,
    kind: str,
    dedupe_key: str,
    payload: dict[str, Any] | None = None,
    due_at: datetime | None = None,
) -> Outbox | None:
    """Adds a message unless one with the same `dedupe_key` exists; does not commit.

    Returns the new row, or None when the key was already queued (or the member cannot be
    reached: no chat yet, blocked the bot).
    """
    if member.chat_id is None or not member.active:
        return None
    if session.exec(select(Outbox.id).where(Outbox.dedupe_key == dedupe_key)).first():
        return None
    message = Outbox(
        member_id=member.id,
        chat_id=member.chat_id,
        kind=kind,
        payload=payload or {},
        dedupe_key=dedupe_key,
        due_at=due_at or utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:  # a concurrent writer queued the same key first
        return None
    return message
