"""The managers' review queue: proposed matches → approved (introduction starts) or rejected.

The first decision wins. Two managers pressing at the same moment both run
`UPDATE match SET status=… WHERE id=… AND status='proposed'`; the database lets exactly one
of them change the row (PostgreSQL re-checks the condition after the row lock, SQLite takes
the write lock before the statement), the other sees rowcount 0 and gets
`MatchAlreadyDecided` naming who decided what and when.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from kooperation.config import Settings
from kooperation.messages import NewProposals
from kooperation.models import (
    Listing,
    ManagerCluster,
    Match,
    MatchStatus,
    Member,
    Organization,
    Role,
    Size,
    utcnow,
)
from kooperation.services import audit, roles
from kooperation.services.audit import Action
from kooperation.services.introductions import SideInfo, sides, start_introduction
from kooperation.services.outbox import queue_message

REASON_MAX = 300
COMPONENTS = ("semantic", "lexical", "tags", "cross_cluster", "kmu", "reciprocity")


class ReviewError(Exception):
    """Base of the review errors the bot turns into a friendly text."""


class MatchNotFound(ReviewError):
    pass


class ReasonTooLong(ReviewError):
    pass


class MatchAlreadyDecided(ReviewError):
    """Somebody decided first; says who, what and when."""

    def __init__(self, match_id: int, status: str, by: str, at: datetime | None) -> None:
        super().__init__(f"match {match_id} already {status} by {by}")
        self.match_id = match_id
        self.status = status
        self.by = by
        self.at = at


@dataclass(frozen=True)
class CardSide:
    listing_id: int
    kind: str
    title: str
    text: str
    tags: list[str]
    organization: str
    cluster_slug: str
    cluster_name: str
    size: str
    is_kmu: bool
    region: str


@dataclass(frozen=True)
class ReviewCard:
    """Everything a manager sees about one proposal, as plain data."""

    match_id: int
    status: str
    score: float
    components: dict[str, float]
    reason_de: str
    reason_en: str
    shared_terms: list[str]
    need: CardSide
    offer: CardSide
    cross_cluster: bool
    reciprocal: bool
    created_at: datetime

    def reason(self, language: str) -> str:
        return (self.reason_en if language == "en" else self.reason_de) or self.reason_de


@dataclass(frozen=True)
class QueuePosition:
    card: ReviewCard | None
    pending: int
    skipped: int


@dataclass(frozen=True)
class Decision:
    match: Match
    status: str
    unreachable: list[str] = field(default_factory=list)


def _side(info: SideInfo) -> CardSide:
    size = info.organization.size
    return CardSide(
        listing_id=info.listing.id or 0,
        kind=info.listing.kind,
        title=info.title,
        text=info.listing.text,
        tags=list(info.listing.tags or []),
        organization=info.organization.name,
        cluster_slug=info.cluster.slug,
        cluster_name=info.cluster.name,
        size=size,
        is_kmu=Size(size).is_kmu,
        region=info.organization.region,
    )


def card(*, session: Session, match: Match) -> ReviewCard:
    both = sides(session=session, match=match)
    need, offer = _side(both["need"]), _side(both["offer"])
    return ReviewCard(
        match_id=match.id or 0,
        status=match.status,
        score=match.score,
        components={name: float(getattr(match, name)) for name in COMPONENTS},
        reason_de=match.reason_de,
        reason_en=match.reason_en,
        shared_terms=list(match.shared_terms or []),
        need=need,
        offer=offer,
        cross_cluster=need.cluster_slug != offer.cluster_slug,
        reciprocal=match.reciprocity > 0,
        created_at=match.created_at,
    )


def _scoped(query: Any, cluster_ids: set[int] | None) -> Any:
    """Restricts a Match query to proposals with either side in `cluster_ids` (None = all)."""
    if cluster_ids is None:
        return query
    need, offer = aliased(Listing), aliased(Listing)
    need_org, offer_org = aliased(Organization), aliased(Organization)
    return (
        query.join(need, col(need.id) == col(Match.need_id))
        .join(need_org, col(need_org.id) == col(need.organization_id))
        .join(offer, col(offer.id) == col(Match.offer_id))
        .join(offer_org, col(offer_org.id) == col(offer.organization_id))
        .where(
            or_(
                col(need_org.cluster_id).in_(cluster_ids),
                col(offer_org.cluster_id).in_(cluster_ids),
            )
        )
    )


def pending_matches(*, session: Session, cluster_ids: set[int] | None) -> list[Match]:
    """Proposals waiting for a decision in these clusters, best score first."""
    query = _scoped(select(Match).where(Match.status == MatchStatus.PROPOSED), cluster_ids)
    return list(session.exec(query.order_by(col(Match.score).desc(), col(Match.id))).all())


def review_queue(*, session: Session, settings: Settings, member: Member) -> list[ReviewCard]:
    """The member's whole queue as plain data (for `matchbot demo` and tests).

    Raises NotAllowed (audit-logged) for a member who is neither manager nor admin.
    """
    clusters = roles.require_staff(
        session=session, settings=settings, member=member, action=Action.REVIEW
    )
    return [
        card(session=session, match=m)
        for m in pending_matches(session=session, cluster_ids=clusters)
    ]


def next_card(
    *,
    session: Session,
    settings: Settings,
    member: Member | None,
    skipped: Collection[int] = (),
    after: int | None = None,
) -> QueuePosition:
    """The best pending proposal the manager has not skipped, and how many are pending.

    `after`: browse on from this proposal (the one following it in the queue, wrapping
    around) instead of starting at the best one.
    """
    clusters = roles.require_staff(
        session=session,
        settings=settings,
        member=member,
        action=Action.REVIEW,
    )
    pending = pending_matches(session=session, cluster_ids=clusters)
    skipped_set = set(skipped)
    ids = [m.id for m in pending]
    start = ids.index(after) + 1 if after in ids else 0
    rotated = pending[start:] + pending[:start]
    first = next((m for m in rotated if m.id not in skipped_set), None)
    return QueuePosition(
        card=card(session=session, match=first) if first else None,
        pending=len(pending),
        skipped=sum(1 for m in pending if m.id in skipped_set),
    )


def _decide(
    *,
    session: Session,
    settings: Settings,
    member: Member | None,
    match_id: int,
    status: MatchStatus,
    action: str,
    reason: str = "",
) -> Decision:
    target = f"match:{match_id}"
    match = session.get(Match, match_id)
    if match is None:
        audit.record_refusal(
            session=session,
            actor=member,
            action=action,
            target=target,
            reason="unknown proposal",
        )
        raise MatchNotFound(str(match_id))
    if member is None:
        roles.refuse(
            session=session,
            member=None,
            action=action,
            target=target,
            reason="not a member",
        )
    roles.require_review(
        session=session, settings=settings, member=member, match=match, action=action
    )
    decided = session.exec(
        update(Match)
        .where(col(Match.id) == match_id, col(Match.status) == MatchStatus.PROPOSED)
        .values(
            status=status,
            decided_by_id=member.id,
            decided_at=utcnow(),
            rejection_reason=reason,
        )
        .execution_options(synchronize_session=False)
    )
    if decided.rowcount != 1:
        session.rollback()
        session.refresh(match)
        winner = session.get(Member, match.decided_by_id) if match.decided_by_id else None
        by = audit.actor_label(winner)
        audit.record_refusal(
            session=session,
            actor=member,
            action=action,
            target=target,
            reason=f"already {match.status} by {by}",
        )
        raise MatchAlreadyDecided(match_id, match.status, by, match.decided_at)
    session.refresh(match)
    audit.record(
        session=session,
        actor=member,
        action=action,
        target=target,
        detail={"reason": reason} if reason else {},
    )
    unreachable = (
        start_introduction(session=session, match=match) if status == MatchStatus.APPROVED else []
    )
    session.commit()
    return Decision(match=match, status=match.status, unreachable=unreachable)


def approve_match(
    *,
    session: Session,
    settings: Settings,
    member: Member | None,
    match_id: int,
) -> Decision:
    """Approves a proposal and asks both sides (introduction opt-in), in one transaction."""
    return _decide(
        session=session,
        settings=settings,
        member=member,
        match_id=match_id,
        status=MatchStatus.APPROVED,
        action=Action.APPROVE,
    )


def reject_match(
    *,
    session: Session,
    settings: Settings,
    member: Member | None,
    match_id: int,
    reason: str = "",
) -> Decision:
    """Rejects a proposal with an optional short reason (never shown to the companies)."""
    reason = " ".join(reason.split())
    if len(reason) > REASON_MAX:
        raise ReasonTooLong(str(len(reason)))
    return _decide(
        session=session,
        settings=settings,
        member=member,
        match_id=match_id,
        status=MatchStatus.REJECTED,
        action=Action.REJECT,
        reason=reason,
    )


def check_reviewable(
    *, session: Session, settings: Settings, member: Member | None, match_id: int
) -> Match:
    """For the Reject button before the reason is asked: exists, allowed, still proposed."""
    match = session.get(Match, match_id)
    if match is None:
        raise MatchNotFound(str(match_id))
    roles.require_review(
        session=session, settings=settings, member=member, match=match, action=Action.REJECT
    )
    if match.status != MatchStatus.PROPOSED:
        winner = session.get(Member, match.decided_by_id) if match.decided_by_id else None
        raise MatchAlreadyDecided(
            match_id, match.status, audit.actor_label(winner), match.decided_at
        )
    return match


def reviewers(*, session: Session, settings: Settings | None = None) -> list[Member]:
    """Everybody who reviews: managers with clusters and admins (by role or settings)."""
    manager_ids = select(ManagerCluster.member_id)
    admin_ids = list(settings.admin_telegram_ids) if settings else []
    query = select(Member).where(
        or_(
            col(Member.id).in_(manager_ids),
            col(Member.role) == Role.ADMIN,
            col(Member.telegram_user_id).in_(admin_ids),
        )
    )
    return list(session.exec(query.order_by(col(Member.id))).all())


DEFAULT_NOTICE_INTERVAL = timedelta(minutes=60)


def unannounced_proposals(*, session: Session) -> list[Match]:
    """Pending proposals the managers were not told of yet, whatever made them (a full
    round, `matchbot match`, or a contact posting a listing), oldest first."""
    return list(
        session.exec(
            select(Match)
            .where(Match.status == MatchStatus.PROPOSED, col(Match.announced_at).is_(None))
            .order_by(col(Match.id))
        ).all()
    )


def last_announcement(*, session: Session) -> datetime | None:
    """When the managers were last told of new proposals (None: never)."""
    return session.exec(select(func.max(col(Match.announced_at)))).one()


def announcement_due(*, session: Session, settings: Settings | None, now: datetime) -> bool:
    """Whether the batched notice may go out now: the last one is at least the interval old."""
    last = last_announcement(session=session)
    if last is None:
        return True
    interval = (
        timedelta(minutes=settings.manager_notice_interval_minutes)
        if settings is not None
        else DEFAULT_NOTICE_INTERVAL
    )
    return now - last >= interval


def _review_scope(
    *, session: Session, settings: Settings | None, member: Member
) -> set[int] | None:
    """The clusters a reviewer reviews (None = all)."""
    if settings is not None:
        return roles.managed_cluster_ids(session=session, settings=settings, member=member)
    if member.role == Role.ADMIN:
        return None
    return set(
        session.exec(
            select(ManagerCluster.cluster_id).where(ManagerCluster.member_id == member.id)
        ).all()
    )


def _claim(session: Session, ids: set[int], now: datetime) -> set[int]:
    """Marks the proposals announced, skipping those another caller marked meanwhile (its
    UPDATE went first: SQLite's write lock, PostgreSQL's row locks); returns those marked."""
    ordered = sorted(ids)
    for start in range(0, len(ordered), 900):  # SQLite's older limit of bound parameters
        chunk = ordered[start : start + 900]
        session.exec(
            update(Match)
            .where(col(Match.id).in_(chunk), col(Match.announced_at).is_(None))
            .values(announced_at=now)
            .execution_options(synchronize_session=False)
        )
    claimed: set[int | None] = set()
    for start in range(0, len(ordered), 900):
        chunk = ordered[start : start + 900]
        claimed.update(
            session.exec(
                select(Match.id).where(col(Match.id).in_(chunk), Match.announced_at == now)
            ).all()
        )
    return {i for i in claimed if i is not None}


def notify_managers_of_new_proposals(
    *,
    session: Session,
    settings: Settings | None = None,
    now: datetime | None = None,
    force: bool = False,
) -> int:
    """Tells each reviewer, in ONE message ("7 new proposals to review"), of the proposals in
    their clusters nobody was told of yet; returns how many messages were queued. Commits.

    Batched: at most one notice per `MANAGER_NOTICE_INTERVAL_MINUTES`, unless `force` (the
    notice right after a full round). Whether a proposal was announced is stored on it
    (`Match.announced_at`) in the same transaction as the queued messages, so a restart
    neither repeats nor loses a notice; a proposal in no reviewer's clusters waits for one.
    """
    now = now or utcnow()
    if not force and not announcement_due(session=session, settings=settings, now=now):
        return 0
    new = unannounced_proposals(session=session)
    if not new:
        return 0
    clusters_of = {m.id or 0: set(roles.match_cluster_ids(session=session, match=m)) for m in new}
    audience: list[tuple[Member, set[int] | None, set[int]]] = []
    for member in reviewers(session=session, settings=settings):
        scope = _review_scope(session=session, settings=settings, member=member)
        mine = {mid for mid, cl in clusters_of.items() if scope is None or cl & scope}
        if mine:
            audience.append((member, scope, mine))
    claimed = _claim(session, set().union(*(mine for _, _, mine in audience)), now)
    batch = f"{max(claimed, default=0)}.{len(claimed)}"
    queued = 0
    for member, scope, mine in audience:
        mine &= claimed
        if not mine:
            continue
        pending = len(pending_matches(session=session, cluster_ids=scope))
        if queue_message(
            session=session,
            member=member,
            dedupe_key=f"mgr_new:{member.id}:{batch}",
            payload=NewProposals(count=len(mine), pending=pending),
        ):
            queued += 1
    session.commit()
    return queued
