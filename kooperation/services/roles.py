"""Who may do what: admins, cluster managers and their invites.

Admins come from `settings.admin_telegram_ids` and from `Member.role == "admin"`
(`matchbot admin add`). A manager reviews the clusters listed in `manager_cluster`; a
proposal belongs to a manager when either side's organization is in one of them. Every
check here is made on the server for each command and button press; a refusal is written
to the audit log and raised as `NotAllowed`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import NoReturn

from sqlmodel import Session, col, select

from kooperation.config import Settings
from kooperation.models import (
    Cluster,
    Listing,
    ManagerCluster,
    ManagerInvite,
    Match,
    Member,
    Organization,
    Role,
    utcnow,
)
from kooperation.services import audit, invites
from kooperation.services.audit import Action

INVITE_PREFIX = "mgr-"
INVITE_LIFETIME = timedelta(days=7)


class NotAllowed(Exception):
    """The member lacks the role for this action; the attempt has been audit-logged."""

    def __init__(self, action: str, reason: str) -> None:
        super().__init__(f"{action}: {reason}")
        self.action = action
        self.reason = reason


class InviteInvalid(Exception):
    """A manager invite that is unknown, already used or expired (`reason` says which)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"manager invite {reason}")
        self.reason = reason


class UnknownCluster(Exception):
    def __init__(self, slug: str) -> None:
        super().__init__(f"unknown cluster {slug!r}")
        self.slug = slug


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


def add_admin(*, session: Session, member: Member, actor: Member | None = None) -> Member:
    """Makes the member an admin (the CLI creates the row of a new Telegram id first)."""
    member.role = Role.ADMIN
    session.add(member)
    audit.record(
        session=session,
        actor=actor,
        action=Action.ADD_ADMIN,
        target=f"tg:{member.telegram_user_id}",
    )
    session.commit()
    return member


def appoint_manager(
    *,
    session: Session,
    member: Member,
    cluster: Cluster,
    actor: Member | None = None,
    via: str = "",
) -> bool:
    """Makes `member` a manager of `cluster`; False when they already were. Does not check the
    actor's rights (callers do, see `appoint_manager_by_admin`)."""
    assert member.id is not None and cluster.id is not None, "both are stored rows"
    exists = session.get(ManagerCluster, (member.id, cluster.id))
    if member.role == Role.MEMBER:
        member.role = Role.MANAGER
        session.add(member)
    if exists is None:
        session.add(ManagerCluster(member_id=member.id, cluster_id=cluster.id))
    audit.record(
        session=session,
        actor=actor,
        action=Action.APPOINT_MANAGER,
        target=f"tg:{member.telegram_user_id}",
        detail={"cluster": cluster.slug, "via": via} if via else {"cluster": cluster.slug},
    )
    session.commit()
    return exists is None


def cluster_or_error(*, session: Session, slug: str) -> Cluster:
    cluster = session.exec(select(Cluster).where(Cluster.slug == slug.strip().lower())).first()
    if cluster is None:
        raise UnknownCluster(slug)
    return cluster


def appoint_manager_by_admin(
    *,
    session: Session,
    settings: Settings,
    actor: Member | None,
    member: Member,
    cluster_slug: str,
) -> tuple[Member, Cluster, bool]:
    """An admin appoints the member as manager of a cluster. A person named by Telegram id
    gets their row from `identity.ensure_member` after `require_admin` let the admin in."""
    require_admin(
        session=session,
        settings=settings,
        member=actor,
        action=Action.APPOINT_MANAGER,
        target=f"tg:{member.telegram_user_id}",
    )
    cluster = cluster_or_error(session=session, slug=cluster_slug)
    created = appoint_manager(session=session, member=member, cluster=cluster, actor=actor)
    return member, cluster, created


def remove_manager(
    *,
    session: Session,
    settings: Settings,
    actor: Member | None,
    member: Member | None,
    target: str,
    cluster_slug: str,
) -> tuple[Cluster, bool]:
    """An admin takes a cluster away from a manager; False when they did not manage it.
    `member` is None for an unknown person, `target` how the admin named them ("tg:<id>")."""
    require_admin(
        session=session,
        settings=settings,
        member=actor,
        action=Action.REMOVE_MANAGER,
        target=target,
    )
    cluster = cluster_or_error(session=session, slug=cluster_slug)
    row = session.get(ManagerCluster, (member.id, cluster.id)) if member else None
    if member is None or row is None:
        return cluster, False
    session.delete(row)
    session.flush()
    left = session.exec(select(ManagerCluster).where(ManagerCluster.member_id == member.id)).first()
    if left is None and member.role == Role.MANAGER:
        member.role = Role.MEMBER
        session.add(member)
    audit.record(
        session=session,
        actor=actor,
        action=Action.REMOVE_MANAGER,
        target=target,
        detail={"cluster": cluster.slug},
    )
    session.commit()
    return cluster, True


def managers_by_cluster(*, session: Session) -> dict[int, list[Member]]:
    """Every cluster id with its managers (by name)."""
    rows = session.exec(
        select(ManagerCluster.cluster_id, Member)
        .join(Member, col(Member.id) == col(ManagerCluster.member_id))
        .order_by(col(Member.display_name), col(Member.telegram_user_id))
    ).all()
    result: dict[int, list[Member]] = {}
    for cluster_id, member in rows:
        result.setdefault(cluster_id, []).append(member)
    return result


def create_manager_invite(
    *, session: Session, settings: Settings, actor: Member | None, cluster: Cluster
) -> ManagerInvite:
    """A single-use code valid for 7 days; the link is `/start mgr-<code>`.

    `actor` None means the operator on the command line (no check needed there).
    """
    if actor is not None:
        require_admin(
            session=session,
            settings=settings,
            member=actor,
            action=Action.CREATE_INVITE,
            target=f"cluster:{cluster.slug}",
        )
    assert cluster.id is not None, "a stored cluster"
    return invites.issue(
        session=session,
        invite=ManagerInvite(code=invites.new_code(), cluster_id=cluster.id),
        lifetime=INVITE_LIFETIME,
        actor=actor,
        action=Action.CREATE_INVITE,
        target=f"cluster:{cluster.slug}",
    )


def invite_payload(invite: ManagerInvite) -> str:
    """The /start payload (letters, digits, `-` and `_`, at most 64 characters)."""
    return f"{INVITE_PREFIX}{invite.code}"


def redeem_manager_invite(*, session: Session, member: Member, code: str) -> Cluster:
    """Uses an invite (with or without its `mgr-` prefix): `member` becomes a manager of its
    cluster. Single use even when two people open the link at the same moment: the code is
    claimed with one conditional UPDATE. Raises InviteInvalid ("unknown", "used", "expired").
    """
    code = code.strip().removeprefix(INVITE_PREFIX)
    now = utcnow()
    invite = session.get(ManagerInvite, code)
    if invite is None:
        _refuse_invite(session, member, code, "unknown")
    reason = None
    if invite.used_by_id is not None:
        reason = "used"
    elif invite.expires_at <= now:
        reason = "expired"
    if reason is None and not invites.claim(
        session=session, model=ManagerInvite, code=code, member=member, now=now
    ):
        reason = "used"
    if reason is not None:
        _refuse_invite(session, member, code, reason)
    cluster = session.get(Cluster, invite.cluster_id)
    assert cluster is not None
    appoint_manager(session=session, member=member, cluster=cluster, via=f"invite:{code[:8]}")
    return cluster


def _refuse_invite(session: Session, member: Member, code: str, reason: str) -> NoReturn:
    audit.record_refusal(
        session=session,
        actor=member,
        action=Action.REDEEM_INVITE,
        target=f"invite:{code[:8]}",
        reason=f"invite {reason}",
    )
    raise InviteInvalid(reason)
