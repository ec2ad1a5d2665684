"""Appointing staff: admins, cluster managers, and the single-use links that make a manager.

Every change is audited; who may make it is checked with `roles` (an admin, or the CLI acting
for the operator).
"""

from __future__ import annotations

from datetime import timedelta
from typing import NoReturn

from sqlmodel import Session, col, select

from kooperation.config import Settings
from kooperation.models import (
    Cluster,
    ManagerCluster,
    ManagerInvite,
    Member,
    Role,
    utcnow,
)
from kooperation.services import audit, invites
from kooperation.services.audit import Action
from kooperation.services.roles import require_admin

INVITE_PREFIX = "mgr-"
INVITE_LIFETIME = timedelta(days=7)


class InviteInvalid(Exception):
    """A manager invite that is unknown, already used or expired (`reason` says which)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"manager invite {reason}")
        self.reason = reason


class UnknownCluster(Exception):
    def __init__(self, slug: str) -> None:
        super().__init__(f"unknown cluster {slug!r}")
        self.slug = slug


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
    *,
    session: Session,
    settings: Settings,
    actor: Member | None,
    cluster: Cluster,
    operator: bool = False,
) -> ManagerInvite:
    """A single-use code valid for 7 days; the link is `/start mgr-<code>`.

    Only an admin may; `operator=True` is the operator on the command line (no actor, no
    check). `actor` None without it is a stranger in the bot, refused like any non-admin.
    """
    if not operator:
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
