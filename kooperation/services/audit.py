"""The audit log: every manager/admin action and every refused attempt, who, when, what, why.

`record` adds the row to the caller's transaction, so a decision and its log entry are
committed together; `record_refusal` commits at once, because the refused action itself
writes nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from kooperation.models import AuditLog, Member
from kooperation.services.identity import stranger_telegram_id


class Action:
    """The names stored in `AuditLog.action`."""

    APPROVE = "match.approve"
    REJECT = "match.reject"
    REVIEW = "review.open"
    APPOINT_MANAGER = "manager.appoint"
    REMOVE_MANAGER = "manager.remove"
    CREATE_INVITE = "manager.invite"
    REDEEM_INVITE = "manager.redeem_invite"
    ADD_ADMIN = "admin.add"
    STATS = "stats.view"
    MANAGERS = "managers.view"


DECISIONS = (Action.APPROVE, Action.REJECT)


def record(
    *,
    session: Session,
    actor: Member | None,
    action: str,
    target: str = "",
    allowed: bool = True,
    detail: dict[str, Any] | None = None,
) -> AuditLog:
    """Adds one entry to the session; the caller commits it with the change it describes.
    Without an acting member the entry names the stranger `identity.as_stranger` gave the
    session, if any."""
    entry = AuditLog(
        actor_id=actor.id if actor else None,
        actor_telegram_id=actor.telegram_user_id if actor else stranger_telegram_id(session),
        action=action,
        target=target,
        allowed=allowed,
        detail=detail or {},
    )
    session.add(entry)
    return entry


def record_refusal(
    *,
    session: Session,
    actor: Member | None,
    action: str,
    target: str = "",
    reason: str,
) -> AuditLog:
    """Logs a refused attempt and commits it (the attempt itself changed nothing)."""
    session.rollback()
    entry = record(
        session=session,
        actor=actor,
        action=action,
        target=target,
        allowed=False,
        detail={"refused": reason},
    )
    session.commit()
    return entry


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    actor_telegram_id: int | None
    action: str
    target: str
    allowed: bool
    reason: str
    detail: dict[str, Any]


def actor_label(member: Member | None) -> str:
    """How a person appears in logs and messages: name, @username or Telegram id."""
    if member is None:
        return "cli"
    if member.display_name:
        return member.display_name
    if member.username:
        return f"@{member.username}"
    return f"tg:{member.telegram_user_id}"


def _logged_actor(member: Member | None, stranger: int | None) -> str:
    """An entry's actor: the member, else the stranger's Telegram id, else the CLI."""
    if member is None and stranger:
        return f"tg:{stranger}"
    return actor_label(member)


def audit_entries(
    *, session: Session, limit: int | None = None, decisions_only: bool = False
) -> list[AuditEntry]:
    """The log, newest first; `decisions_only` keeps approvals and rejections."""
    query = select(AuditLog, Member).join(
        Member, col(AuditLog.actor_id) == col(Member.id), isouter=True
    )
    if decisions_only:
        query = query.where(col(AuditLog.action).in_(DECISIONS))
    query = query.order_by(col(AuditLog.at).desc(), col(AuditLog.id).desc())
    if limit:
        query = query.limit(limit)
    entries = []
    for log, member in session.exec(query).all():
        detail = dict(log.detail or {})
        entries.append(
            AuditEntry(
                at=log.at,
                actor=_logged_actor(member, log.actor_telegram_id),
                actor_telegram_id=log.actor_telegram_id,
                action=log.action,
                target=log.target,
                allowed=log.allowed,
                reason=str(detail.get("reason") or detail.get("refused") or ""),
                detail=detail,
            )
        )
    return entries
