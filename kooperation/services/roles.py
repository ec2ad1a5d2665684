"""Who may do what: the permission checks for admins and cluster managers.

Admins come from `settings.admin_telegram_ids` and from `Member.role == "admin"`
(`matchbot admin add`). A manager reviews the clusters listed in `manager_cluster`; a
proposal belongs to a manager when either side's organization is in one of them. Every
check here is made on the server for each command and button press; a refusal is written
to the audit log and raised as `NotAllowed`.
"""

from __future__ import annotations

from typing import NoReturn

from sqlmodel import Session, col, select

from kooperation.config import Settings
from kooperation.models import (
    Listing,
    ManagerCluster,
    Match,
    Member,
    Organization,
    Role,
)
from kooperation.services import audit


class NotAllowed(Exception):
    """The member lacks the role for this action; the attempt has been audit-logged."""

    def __init__(self, action: str, reason: str) -> None:
        super().__init__(f"{action}: {reason}")
        self.action = action
        self.reason = reason


def is_admin(*, settings: Settings, member: Member | None) -> bool:
    if member is None:
        return False
    return member.role == Role.ADMIN or member.telegram_user_id in settings.admin_telegram_ids


def managed_cluster_ids(*, session: Session, settings: Settings, member: Member) -> set[int] | None:
    """The clusters a member reviews; None means all of them (an admin)."""
    if is_admin(settings=settings, member=member):
        return None
    rows = session.exec(
        select(ManagerCluster.cluster_id).where(ManagerCluster.member_id == member.id)
    ).all()
    return set(rows)


def is_staff(*, session: Session, settings: Settings, member: Member | None) -> bool:
    """An admin, or a manager of at least one cluster."""
    if member is None:
        return False
    clusters = managed_cluster_ids(session=session, settings=settings, member=member)
    return clusters is None or bool(clusters)


def match_cluster_ids(*, session: Session, match: Match) -> tuple[int, int]:
    """The clusters of the need's and the offer's organization."""
    need_cluster, offer_cluster = (
        session.exec(
            select(Organization.cluster_id)
            .join(Listing, col(Listing.organization_id) == col(Organization.id))
            .where(Listing.id == listing_id)
        ).one()
        for listing_id in (match.need_id, match.offer_id)
    )
    return need_cluster, offer_cluster


def can_review(
    *, session: Session, settings: Settings, member: Member | None, match: Match
) -> bool:
    """True when the member is an admin or manages the cluster of either side."""
    if member is None:
        return False
    clusters = managed_cluster_ids(session=session, settings=settings, member=member)
    if clusters is None:
        return True
    return bool(clusters & set(match_cluster_ids(session=session, match=match)))


def refuse(
    *,
    session: Session,
    member: Member | None,
    action: str,
    reason: str,
    target: str = "",
) -> NoReturn:
    """Writes the refused attempt to the audit log, then raises NotAllowed."""
    audit.record_refusal(
        session=session,
        actor=member,
        action=action,
        target=target,
        reason=reason,
    )
    raise NotAllowed(action, reason)


def require_staff(
    *,
    session: Session,
    settings: Settings,
    member: Member | None,
    action: str,
) -> set[int] | None:
    """Returns the member's clusters (None = all) or logs the refusal and raises NotAllowed."""
    if member is not None and is_staff(session=session, settings=settings, member=member):
        return managed_cluster_ids(session=session, settings=settings, member=member)
    refuse(
        session=session,
        member=member,
        action=action,
        reason="not a manager or admin",
    )


def require_admin(
    *,
    session: Session,
    settings: Settings,
    member: Member | None,
    action: str,
    target: str = "",
) -> None:
    if is_admin(settings=settings, member=member):
        return
    refuse(
        session=session,
        member=member,
        action=action,
        target=target,
        reason="not an admin",
    )


def require_review(
    *, session: Session, settings: Settings, member: Member | None, match: Match, action: str
) -> None:
    """Raises NotAllowed (audit-logged) unless the member may decide this proposal."""
    if can_review(session=session, settings=settings, member=member, match=match):
        return
    reason = (
        "not a manager or admin"
        if not is_staff(session=session, settings=settings, member=member)
        else "proposal outside the manager's clusters"
    )
    refuse(session=session, member=member, action=action, target=f"match:{match.id}", reason=reason)
