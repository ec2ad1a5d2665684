"""When each scheduled job last ran, kept in the database: the JobQueue forgets on restart.

A marker row per job in `bot_state` (namespace "jobs"); for the matching round the latest
`MatchRound` counts as well, so a round started by hand (`matchbot match`) is a run too.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, func, select

from kooperation.models import BotState, MatchRound, utcnow

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
