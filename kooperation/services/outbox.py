"""The transactional outbox: messages the system sends on its own initiative.

A service that causes a message (an approval, a digest, a follow-up) writes the row in its
own transaction; the bot's sender (`bot/delivery.py`) renders and sends it later. The payload
is one of the typed payloads of `kooperation.messages`, stored as data, not text: `bot/`
renders it per kind in the member's language at send time, so this package stays free of
Telegram and of the message catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

from kooperation.messages import OutboxPayload, to_data
from kooperation.models import Member, Outbox, OutboxStatus, utcnow


def queue_message(
    *,
    session: Session,
    member: Member,
    payload: OutboxPayload,
    dedupe_key: str,
    due_at: datetime | None = None,
) -> Outbox | None:
    """Adds a message of the payload's kind unless one with the same `dedupe_key` exists;
    does not commit.

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
        kind=payload.KIND.value,
        payload=to_data(payload),
        dedupe_key=dedupe_key,
        due_at=due_at or utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:  # a concurrent writer queued the same key first
        return None
    return message


# --------------------------------------------------------------------------- the sender's side
#
# The sender (bot/delivery.py) takes one row at a time: `claim_message` counts the attempt in
# its own commit, then the message goes to Telegram, then `mark_sent` commits at once. A crash
# between the two repeats at most that one message, and its `attempts` > 1 shows it.


_table = SQLModel.metadata.tables["outbox"]
# Built once: the sender runs these for every message, and a prebuilt Core statement skips
# most of SQLAlchemy's per-call work (about a third of the sender's CPU time with the ORM).
_CLAIM = (
    _table.update()
    .where(
        _table.c.id == bindparam("message_id"),
        _table.c.status == OutboxStatus.PENDING.value,
        _table.c.attempts == bindparam("seen"),
    )
    .values(attempts=_table.c.attempts + 1)
)
_SENT = (
    _table.update()
    .where(_table.c.id == bindparam("message_id"))
    .values(status=OutboxStatus.SENT.value, sent_at=bindparam("at"), last_error="")
)


@dataclass(frozen=True)
class DueMessage:
    """A pending row with what the sender needs to send it.

    `language` and `reachable` are the member's at the time the batch was read (seconds ago).
    """

    id: int
    member_id: int | None
    chat_id: int
    kind: str
    payload: dict[str, Any]
    language: str
    attempts: int
    reachable: bool


def due_messages(*, session: Session, now: datetime, limit: int = 200) -> list[DueMessage]:
    """Pending rows whose time has come, oldest first, from any process that queued them."""
    # sqlalchemy's select: sqlmodel's is typed for at most four columns
    rows = session.execute(
        sa_select(
            col(Outbox.id),
            col(Outbox.member_id),
            col(Outbox.chat_id),
            col(Outbox.kind),
            col(Outbox.payload),
            col(Outbox.attempts),
            col(Member.chat_id),
            col(Member.language),
            col(Member.active),
        )
        .outerjoin(Member, col(Member.id) == col(Outbox.member_id))
        .where(col(Outbox.status) == OutboxStatus.PENDING, col(Outbox.due_at) <= now)
        .order_by(col(Outbox.due_at), col(Outbox.id))
        .limit(limit)
    ).all()
    return [
        DueMessage(
            id=r[0],
            member_id=r[1],
            chat_id=r[6] if r[6] is not None else r[2],
            kind=r[3],
            payload=dict(r[4] or {}),
            language=r[7] or "de",
            attempts=r[5],
            reachable=r[8] is None or bool(r[8]),
        )
        for r in rows
    ]


def claim_message(*, session: Session, due: DueMessage) -> DueMessage | None:
    """Counts one attempt and commits; None if another sender took the row or it is done.

    The conditional UPDATE (still pending, attempts unchanged) makes two senders on one
    database never send the same row twice, on SQLite and PostgreSQL alike. Returns the row
    with its new attempt count.
    """
    claimed = session.connection().execute(_CLAIM, {"message_id": due.id, "seen": due.attempts})
    session.commit()
    if claimed.rowcount != 1:
        return None
    return replace(due, attempts=due.attempts + 1)


def mark_sent(*, session: Session, message_id: int, now: datetime | None = None) -> None:
    session.connection().execute(_SENT, {"message_id": message_id, "at": now or utcnow()})
    session.commit()


BLOCKED = "Forbidden"
"""How the last error of a message to a member who blocked the bot starts (Telegram's 403)."""


def blocked_error(description: str) -> str:
    """The last error for Telegram's 403, e.g. "Forbidden: bot was blocked by the user".

    Telegram's description already starts with "Forbidden: "; it is not prefixed twice.
    """
    return description if description.startswith(BLOCKED) else f"{BLOCKED}: {description}"


def mark_failed(
    *, session: Session, message_id: int, error: str, retry_at: datetime | None
) -> None:
    """Records the error; `retry_at` None gives up (status failed), else the row waits."""
    values: dict[str, Any] = {"last_error": error[:500]}
    if retry_at is None:
        values["status"] = OutboxStatus.FAILED
    else:
        values["due_at"] = retry_at
    session.exec(update(Outbox).where(col(Outbox.id) == message_id).values(**values))
    session.commit()


def retry_failed(*, session: Session, message_ids: list[int] | None = None) -> int:
    """Puts failed rows back in the queue (all, or the given ids); returns how many."""
    statement = update(Outbox).where(col(Outbox.status) == OutboxStatus.FAILED)
    if message_ids is not None:
        statement = statement.where(col(Outbox.id).in_(message_ids))
    result = session.exec(
        statement.values(status=OutboxStatus.PENDING, attempts=0, due_at=utcnow())
    )
    session.commit()
    return result.rowcount


def messages_by_status(*, session: Session, status: OutboxStatus, limit: int = 50) -> list[Outbox]:
    """Rows in one state, the most urgent (pending) or most recent (failed) first."""
    order = col(Outbox.due_at) if status == OutboxStatus.PENDING else col(Outbox.id).desc()
    return list(
        session.exec(
            select(Outbox).where(Outbox.status == status).order_by(order).limit(limit)
        ).all()
    )


def status_counts(*, session: Session) -> dict[str, int]:
    """Rows per status, and `blocked`: the failed ones whose member blocked the bot (a normal
    event, not a delivery problem)."""
    rows = session.exec(select(Outbox.status, func.count()).group_by(Outbox.status)).all()
    counts = {status.value: 0 for status in OutboxStatus}
    counts.update(dict(rows))
    counts["blocked"] = session.exec(
        select(func.count())
        .select_from(Outbox)
        .where(
            Outbox.status == OutboxStatus.FAILED,
            col(Outbox.last_error).like(f"{BLOCKED}:%"),
        )
    ).one()
    return counts
