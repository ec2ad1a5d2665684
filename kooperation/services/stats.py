"""Programme statistics for managers (their clusters), admins and `matchbot stats`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from statistics import median

from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from kooperation.config import Settings
from kooperation.models import (
    Answer,
    Cluster,
    Feedback,
    Kind,
    Listing,
    ListingStatus,
    Match,
    MatchStatus,
    Member,
    Organization,
    Size,
    utcnow,
)
from kooperation.services import audit, privacy, roles
from kooperation.services.audit import Action

APPROVED_OR_LATER = (MatchStatus.APPROVED, MatchStatus.INTRODUCED, MatchStatus.DECLINED)


@dataclass(frozen=True)
class ClusterStats:
    slug: str
    name: str
    organizations: int
    members: int
    kmu_organizations: int
    active_needs: int
    active_offers: int

    @property
    def kmu_share(self) -> float | None:
        return self.kmu_organizations / self.organizations if self.organizations else None


@dataclass(frozen=True)
class Funnel:
    proposals: int
    pending: int
    rejected: int
    approved: int
    accepted_by_both: int
    introductions: int
    cooperations: int
    cross_cluster_introductions: int
    median_decision_hours: float | None

    @property
    def cross_cluster_share(self) -> float | None:
        if not self.introductions:
            return None
        return self.cross_cluster_introductions / self.introductions


@dataclass(frozen=True)
class Deleted:
    """What members took with them when they deleted their data (programme-wide counters:
    the rows are gone, so neither the clusters nor the funnel above count them)."""

    members: int
    needs: int
    offers: int
    matches: int
    introductions: int

    @property
    def any(self) -> bool:
        return self.members > 0

    @classmethod
    def read(cls, session: Session) -> Deleted:
        counts = privacy.deletion_counts(session=session)
        return cls(
            members=counts["members_deleted"],
            needs=counts["needs_deleted"],
            offers=counts["offers_deleted"],
            matches=counts["matches_deleted"],
            introductions=counts["introductions_deleted"],
        )


@dataclass(frozen=True)
class Stats:
    clusters: list[ClusterStats]
    funnel: Funnel
    all_clusters: bool
    deleted: Deleted | None = None  # the whole programme's view only

    @property
    def total(self) -> ClusterStats:
        """The sums over the clusters shown."""
        return ClusterStats(
            slug="",
            name="",
            organizations=sum(c.organizations for c in self.clusters),
            members=sum(c.members for c in self.clusters),
            kmu_organizations=sum(c.kmu_organizations for c in self.clusters),
            active_needs=sum(c.active_needs for c in self.clusters),
            active_offers=sum(c.active_offers for c in self.clusters),
        )


def _counts(session: Session, query: Select[int, int]) -> dict[int, int]:
    return dict(session.exec(query).all())


def cluster_stats(*, session: Session, cluster_ids: set[int] | None = None) -> list[ClusterStats]:
    clusters = session.exec(select(Cluster).order_by(col(Cluster.id))).all()
    organizations = _counts(
        session,
        select(Organization.cluster_id, func.count()).group_by(col(Organization.cluster_id)),
    )
    kmu = _counts(
        session,
        select(Organization.cluster_id, func.count())
        .where(col(Organization.size).in_(Size.kmu_sizes()))
        .group_by(col(Organization.cluster_id)),
    )
    members = _counts(
        session,
        select(Organization.cluster_id, func.count(col(Member.id)))
        .join(Member, col(Member.organization_id) == col(Organization.id))
        .group_by(col(Organization.cluster_id)),
    )
    active = {}
    now = utcnow()
    for kind in (Kind.NEED, Kind.OFFER):
        active[kind] = _counts(
            session,
            select(Organization.cluster_id, func.count(col(Listing.id)))
            .join(Listing, col(Listing.organization_id) == col(Organization.id))
            .where(
                Listing.kind == kind,
                Listing.status == ListingStatus.ACTIVE,
                col(Listing.expires_at) > now,
            )
            .group_by(col(Organization.cluster_id)),
        )
    return [
        ClusterStats(
            slug=c.slug,
            name=c.name,
            organizations=organizations.get(c.id or 0, 0),
            members=members.get(c.id or 0, 0),
            kmu_organizations=kmu.get(c.id or 0, 0),
            active_needs=active[Kind.NEED].get(c.id or 0, 0),
            active_offers=active[Kind.OFFER].get(c.id or 0, 0),
        )
        for c in clusters
        if cluster_ids is None or c.id in cluster_ids
    ]


def matches_with_clusters(
    *, session: Session, cluster_ids: set[int] | None = None
) -> list[tuple[Match, int, int]]:
    """Every match with the need's and the offer's cluster, limited to `cluster_ids`."""
    need, offer = aliased(Listing), aliased(Listing)
    need_org, offer_org = aliased(Organization), aliased(Organization)
    query = (
        select(Match, need_org.cluster_id, offer_org.cluster_id)
        .join(need, col(need.id) == col(Match.need_id))
        .join(need_org, col(need_org.id) == col(need.organization_id))
        .join(offer, col(offer.id) == col(Match.offer_id))
        .join(offer_org, col(offer_org.id) == col(offer.organization_id))
        .order_by(col(Match.id))
    )
    rows = session.exec(query).all()
    return [
        (m, a, b) for m, a, b in rows if cluster_ids is None or a in cluster_ids or b in cluster_ids
    ]


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def funnel(*, session: Session, cluster_ids: set[int] | None = None) -> Funnel:
    rows = matches_with_clusters(session=session, cluster_ids=cluster_ids)
    matches = [m for m, _, _ in rows]
    introduced = [(m, a, b) for m, a, b in rows if m.status == MatchStatus.INTRODUCED]
    decision_hours = [
        _hours(m.created_at, m.decided_at) for m in matches if m.decided_at is not None
    ]
    return Funnel(
        proposals=len(matches),
        pending=sum(1 for m in matches if m.status == MatchStatus.PROPOSED),
        rejected=sum(1 for m in matches if m.status == MatchStatus.REJECTED),
        approved=sum(1 for m in matches if m.status in APPROVED_OR_LATER),
        accepted_by_both=sum(
            1
            for m in matches
            if m.need_answer == Answer.ACCEPTED and m.offer_answer == Answer.ACCEPTED
        ),
        introductions=len(introduced),
        cooperations=sum(
            1
            for m, _, _ in introduced
            if Feedback.COOPERATING in (m.need_feedback, m.offer_feedback)
        ),
        cross_cluster_introductions=sum(1 for _, a, b in introduced if a != b),
        median_decision_hours=median(decision_hours) if decision_hours else None,
    )


def compute_stats(*, session: Session, cluster_ids: set[int] | None = None) -> Stats:
    """The statistics over `cluster_ids` (None = the whole programme)."""
    return Stats(
        clusters=cluster_stats(session=session, cluster_ids=cluster_ids),
        funnel=funnel(session=session, cluster_ids=cluster_ids),
        all_clusters=cluster_ids is None,
        deleted=Deleted.read(session) if cluster_ids is None else None,
    )


def stats_for(
    *,
    session: Session,
    settings: Settings,
    member: Member | None,
) -> Stats:
    """/stats: a manager sees their clusters, an admin everything; others are refused."""
    clusters = roles.require_staff(
        session=session,
        settings=settings,
        member=member,
        action=Action.STATS,
    )
    audit.record(session=session, actor=member, action=Action.STATS)
    session.commit()
    return compute_stats(session=session, cluster_ids=clusters)
