"""Single-use invite links, both kinds: a cluster's manager invite (`roles`) and a company's
contact invite (`membership`). Issued with a fresh code and an expiry and audit-logged;
claimed once, even when two people open the link at the same moment."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import and_, update
from sqlmodel import Session, col

from kooperation.models import CompanyInvite, ManagerInvite, Member, utcnow
from kooperation.services import audit

Invite = TypeVar("Invite", ManagerInvite, CompanyInvite)


def new_code() -> str:
    """An unguessable code for a `/start` payload (16 URL-safe characters)."""
    return secrets.token_urlsafe(12)


def issue(
    *,
    session: Session,
    invite: Invite,
    lifetime: timedelta,
    actor: Member | None,
    action: str,
    target: str,
) -> Invite:
    """Gives `invite` (its code and its cluster or company set) its creator and its expiry,
    stores it and audit-logs `action` on `target`; commits. The caller has checked that
    `actor` may (None: the operator on the command line)."""
    now = utcnow()
    invite.created_by_id = actor.id if actor else None
    invite.created_at = now
    invite.expires_at = now + lifetime
    session.add(invite)
    audit.record(
        session=session,
        actor=actor,
        action=action,
        target=target,
        detail={"expires_at": invite.expires_at.isoformat()},
    )
    session.commit()
    session.refresh(invite)
    return invite


def claim(
    *, session: Session, model: type[Invite], code: str, member: Member, now: datetime
) -> bool:
    """Marks the invite used by `member` if it is still unused and unexpired; True when this
    call did. One conditional UPDATE: of two simultaneous claims exactly one wins."""
    claimed = session.exec(
        update(model)
        .where(
            and_(
                col(model.code) == code,
                col(model.used_by_id).is_(None),
                col(model.expires_at) > now,
            )
        )
        .values(used_by_id=member.id, used_at=now)
    )
    return claimed.rowcount == 1
