"""When each scheduled job last ran, kept in the database: the JobQueue forgets on restart.

A marker row per job in `bot_state` (namespace "jobs"); for the matching round the latest
`MatchRound` counts as well, so a round started by hand (`matchbot match`) is a run too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_
from sqlmodel import Session, col, func, select

from kooperation.config import Settings
from kooperation.dates import format_datetime
from kooperation.messages import JobFailed
from kooperation.models import BotState, MatchRound, Member, Role, utcnow
from kooperation.services.outbox import queue_message

NAMESPACE = "jobs"
MATCH = "match"
DIGEST = "digest"


def last_run(*, session: Session, job: str) -> datetime | None:
    """The latest recorded run of `job` (None: it never ran on this database)."""
    state = session.get(BotState, (NAMESPACE, job))
    moments: list[datetime] = []
    if state is not None and isinstance(state.data, dict) and state.data.get("at"):
        moments.append(datetime.fromisoformat(state.data["at"]))
    if job == MATCH:
        started = session.exec(select(func.max(col(MatchRound.started_at)))).one()
        if started is not None:
            moments.append(started if started.tzinfo else started.replace(tzinfo=utcnow().tzinfo))
    return max(moments) if moments else None


def record_run(*, session: Session, job: str, at: datetime) -> None:
    """Remembers that `job` ran (or was settled as not owed) at `at`; commits."""
    state = session.get(BotState, (NAMESPACE, job)) or BotState(namespace=NAMESPACE, key=job)
    state.data = {"at": at.isoformat()}
    state.updated_at = utcnow()
    session.add(state)
    session.commit()


def admins(*, session: Session, settings: Settings) -> list[Member]:
    """Members who are admins, by role or by ADMIN_TELEGRAM_IDS."""
    query = select(Member).where(
        col(Member.active).is_(True),
        or_(
            col(Member.role) == Role.ADMIN,
            col(Member.telegram_user_id).in_(list(settings.admin_telegram_ids)),
        ),
    )
    return list(session.exec(query.order_by(col(Member.id))).all())


def alert_admins(
    *, session: Session, settings: Settings, job: str, slot: datetime, attempts: int, error: str
) -> int:
    """Tells every admin, once per job and slot, that a scheduled job still failed after its
    last retry (dedupe key `job_failed:<job>:<slot>:<admin>`). Commits; returns how many
    messages were queued."""
    queued = 0
    for admin in admins(session=session, settings=settings):
        if queue_message(
            session=session,
            member=admin,
            dedupe_key=f"job_failed:{job}:{slot.isoformat(timespec='seconds')}:{admin.id}",
            payload=JobFailed(
                job=job,
                slot=format_datetime(slot, "en", settings.tz),
                attempts=attempts,
                error=error[:300],
            ),
        ):
            queued += 1
    session.commit()
    return queued
