"""The weekly digest, composed per member as data.

What a member hears about: introductions of their listings that moved since their last digest
(and their state), approved matches still waiting for their answer, and up to five new
opportunities from other clusters. The opportunities come from matching, which this package
must not import: the caller passes them in (`find_opportunities`), see `bot/jobs.py`.
Nothing to say → no digest. The payload is data; `bot/` renders it in the member's language.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from kooperation.messages import OutboxKind, WeeklyDigest, read
from kooperation.models import (
    Answer,
    Cluster,
    Listing,
    ListingStatus,
    Match,
    MatchStatus,
    Member,
    Organization,
    Outbox,
    UTCDateTime,
    utcnow,
)
from kooperation.services import members
from kooperation.services.introductions import listing_title
from kooperation.services.outbox import queue_message

MAX_OPPORTUNITIES = 5
DEFAULT_WINDOW = timedelta(days=7)
COMMIT_EVERY = 200


@dataclass(frozen=True)
class Opportunity:
    """A listing from elsewhere that fits one of the member's own listings (from matching)."""

    own_listing_id: int
    other_listing_id: int
    score: float
    reason_de: str = ""
    reason_en: str = ""


OpportunityFinder = Callable[[Member, list[int], datetime], Sequence[Opportunity]]
"""(member, ids of their active own listings, new since) → the best candidates, best first."""


@dataclass
class Digest:
    member_id: int
    week: str
    language: str = "de"
    member_name: str = ""
    waiting: list[dict[str, Any]] = field(default_factory=list)
    introductions: list[dict[str, Any]] = field(default_factory=list)
    opportunities: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.waiting or self.introductions or self.opportunities)

    def payload(self) -> WeeklyDigest:
        """The message to queue; the items are composed in the shape the rows store."""
        data = {
            "week": self.week,
            "waiting": self.waiting,
            "introductions": self.introductions,
            "opportunities": self.opportunities,
        }
        return read(WeeklyDigest, data)


@dataclass
class DigestRun:
    week: str
    members: int = 0
    queued: int = 0
    empty: int = 0
    already_queued: int = 0
    digests: list[Digest] = field(default_factory=list)


def iso_week(moment: datetime, tz: ZoneInfo) -> str:
    """The ISO week of `moment` in the programme's time zone, e.g. "2026-W48"."""
    year, week, _ = moment.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


class DigestSettingError(Exception):
    """The digest button was pressed by someone who is not a known member."""


def set_digest(*, session: Session, member: Member | None, enabled: bool) -> Member:
    """Turns the digest on or off for the member behind a digest button (None: a stranger)."""
    if member is None or member.id is None:
        raise DigestSettingError("unknown member")
    return members.set_digest(session=session, member_id=member.id, enabled=enabled)


def digest_key(member_id: int, week: str) -> str:
    return f"digest:{member_id}:{week}"


def digest_recipients(*, session: Session, member_id: int | None = None) -> list[Member]:
    """Members who get digests: consented, reachable, digest on, not paused, in an organization."""
    statement = select(Member).where(
        col(Member.digest_enabled).is_(True),
        col(Member.paused).is_(False),
        col(Member.active).is_(True),
        col(Member.chat_id).is_not(None),
        col(Member.consent_at).is_not(None),
        col(Member.organization_id).is_not(None),
    )
    if member_id is not None:
        statement = statement.where(Member.id == member_id)
    return list(session.exec(statement.order_by(col(Member.id))).all())


CHUNK = 2000
DIGEST_STATUSES = (MatchStatus.APPROVED, MatchStatus.INTRODUCED, MatchStatus.DECLINED)


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    unique = sorted(set(ids))
    for index in range(0, len(unique), CHUNK):
        yield unique[index : index + CHUNK]


@dataclass
class DigestData:
    """Everything the digests of a set of members need, read in a few queries per run.

    Composing 10,000 digests one query at a time costs minutes; this keeps it to seconds.
    """

    own: dict[int, list[Listing]]
    listings: dict[int, Listing]
    matches: dict[int, list[Match]]
    organizations: dict[int, Organization]
    clusters: dict[int, Cluster]
    last_digest: dict[int, datetime]

    @classmethod
    def load(cls, session: Session, members: Sequence[Member]) -> DigestData:
        member_ids = [m.id for m in members if m.id is not None]
        org_ids = [m.organization_id for m in members if m.organization_id is not None]
        listings: dict[int, Listing] = {}
        for chunk in _chunks(org_ids):
            for listing in session.exec(
                select(Listing).where(col(Listing.organization_id).in_(chunk))
            ).all():
                listings[listing.id or 0] = listing
        own: dict[int, list[Listing]] = {}
        speaker = {m.id: m for m in members}
        by_org: dict[int, list[Member]] = {}
        for member in members:
            by_org.setdefault(member.organization_id or 0, []).append(member)
        for listing in sorted(listings.values(), key=lambda item: item.id or 0):
            if listing.member_id is not None:
                if listing.member_id in speaker:
                    own.setdefault(listing.member_id, []).append(listing)
            else:
                for member in by_org.get(listing.organization_id, []):
                    own.setdefault(member.id or 0, []).append(listing)
        own_ids = [i for mine in own.values() for i in (x.id for x in mine) if i is not None]
        matches: dict[int, list[Match]] = {}
        found: dict[int, Match] = {}
        for chunk in _chunks(own_ids):
            for column in (Match.need_id, Match.offer_id):
                for match in session.exec(
                    select(Match).where(
                        col(column).in_(chunk), col(Match.status).in_(DIGEST_STATUSES)
                    )
                ).all():
                    found[match.id or 0] = match
        for match in sorted(found.values(), key=lambda item: item.id or 0):
            for listing_id in (match.need_id, match.offer_id):
                matches.setdefault(listing_id, []).append(match)
        missing = [i for m in found.values() for i in (m.need_id, m.offer_id) if i not in listings]
        for chunk in _chunks(missing):
            for listing in session.exec(select(Listing).where(col(Listing.id).in_(chunk))).all():
                listings[listing.id or 0] = listing
        organizations = {
            o.id or 0: o
            for chunk in _chunks([x.organization_id for x in listings.values()])
            for o in session.exec(select(Organization).where(col(Organization.id).in_(chunk))).all()
        }
        clusters = {c.id or 0: c for c in session.exec(select(Cluster)).all()}
        last_digest: dict[int, datetime] = {}
        for chunk in _chunks(member_ids):
            for member_id, created in session.exec(
                select(Outbox.member_id, func.max(Outbox.created_at))
                .where(Outbox.kind == OutboxKind.DIGEST, col(Outbox.member_id).in_(chunk))
                .group_by(col(Outbox.member_id))
            ).all():
                stamp = UTCDateTime().process_result_value(created, None)
                if member_id is not None and stamp is not None:
                    last_digest[member_id] = stamp
        return cls(own, listings, matches, organizations, clusters, last_digest)

    def cluster_name(self, organization_id: int) -> str:
        organization = self.organizations.get(organization_id)
        cluster = self.clusters.get(organization.cluster_id) if organization else None
        return (cluster.short_name or cluster.name) if cluster else ""


def digest_since(data: DigestData, member: Member, now: datetime) -> datetime:
    """The start of "new": the member's last digest, or a week ago for the first one."""
    last = data.last_digest.get(member.id or 0)
    return last if last is not None and last < now else now - DEFAULT_WINDOW


def _last_change(match: Match) -> datetime | None:
    moments = [
        moment
        for moment in (
            match.decided_at,
            match.need_answered_at,
            match.offer_answered_at,
            match.introduced_at,
        )
        if moment is not None
    ]
    return max(moments) if moments else None


def _match_items(
    data: DigestData, own: dict[int, Listing], since: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(approved matches waiting for the member's answer, introductions that moved since)."""
    matches = {m.id: m for listing_id in own for m in data.matches.get(listing_id, [])}
    waiting: list[dict[str, Any]] = []
    introductions: list[dict[str, Any]] = []
    for match in sorted(matches.values(), key=lambda item: item.id or 0):
        is_need = match.need_id in own
        mine = own[match.need_id] if is_need else own[match.offer_id]
        other = data.listings.get(match.offer_id if is_need else match.need_id)
        if other is None:
            continue
        own_answer = match.need_answer if is_need else match.offer_answer
        other_org = data.organizations.get(other.organization_id)
        item: dict[str, Any] = {
            "match_id": match.id,
            "own_title": listing_title(mine),
            "other_title": listing_title(other),
            "other_cluster": data.cluster_name(other.organization_id),
        }
        if match.status == MatchStatus.APPROVED and own_answer is None:
            item["reason_de"], item["reason_en"] = match.reason_de, match.reason_en
            waiting.append(item)
            continue
        changed = _last_change(match)
        if changed is None or changed < since:
            continue
        if match.status == MatchStatus.INTRODUCED:
            item["state"] = "introduced"
            item["other_org"] = other_org.name if other_org else ""
        elif match.status == MatchStatus.DECLINED:
            item["state"] = "closed"  # neutral: the other side is not told who declined
        elif own_answer == Answer.ACCEPTED:
            item["state"] = "waiting_other"
        else:
            continue
        introductions.append(item)
    return waiting, introductions


def _opportunity_items(
    session: Session,
    data: DigestData,
    member: Member,
    own: dict[int, Listing],
    found: Sequence[Opportunity],
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    seen: set[int] = set()
    for candidate in found:
        if len(items) >= MAX_OPPORTUNITIES:
            break
        mine = own.get(candidate.own_listing_id)
        other = data.listings.get(candidate.other_listing_id) or session.get(
            Listing, candidate.other_listing_id
        )
        if (
            mine is None
            or other is None
            or other.id in seen
            or other.status != ListingStatus.ACTIVE
            or other.organization_id == member.organization_id
        ):
            continue
        seen.add(candidate.other_listing_id)
        if other.organization_id not in data.organizations:
            organization = session.get(Organization, other.organization_id)
            if organization is not None:
                data.organizations[other.organization_id] = organization
        items.append(
            {
                "listing_id": other.id,
                "kind": other.kind,
                "title": listing_title(other),
                "cluster": data.cluster_name(other.organization_id),
                "own_title": listing_title(mine),
                "score": round(float(candidate.score), 3),
                "reason_de": candidate.reason_de,
                "reason_en": candidate.reason_en,
            }
        )
    return items


def compose_digest(
    *,
    session: Session,
    member: Member,
    week: str,
    since: datetime,
    find_opportunities: OpportunityFinder | None = None,
    data: DigestData | None = None,
) -> Digest:
    """What this member's digest would say this week (possibly nothing: `is_empty`)."""
    data = data or DigestData.load(session, [member])
    own = {listing.id: listing for listing in data.own.get(member.id or 0, []) if listing.id}
    waiting, introductions = _match_items(data, own, since)
    found: Sequence[Opportunity] = ()
    active_ids = [i for i, listing in own.items() if listing.status == ListingStatus.ACTIVE]
    if find_opportunities is not None and active_ids:
        found = find_opportunities(member, active_ids, since)
    return Digest(
        member_id=member.id or 0,
        week=week,
        language=member.language,
        member_name=member.display_name or member.username,
        waiting=waiting,
        introductions=introductions,
        opportunities=_opportunity_items(session, data, member, own, found),
    )


def run_digest(
    *,
    session: Session,
    tz: ZoneInfo,
    now: datetime | None = None,
    find_opportunities: OpportunityFinder | None = None,
    member_id: int | None = None,
    dry_run: bool = False,
) -> DigestRun:
    """Composes this week's digest for every recipient and queues the non-empty ones.

    Safe to run again in the same week (after a crash, by hand): a member whose digest for the
    week is already queued is skipped before anything is composed. With `dry_run` nothing is
    queued and the digests are returned instead: exactly those a real run would queue now
    (members already served this week count as `already_queued`, as in a real run).
    """
    now = now or utcnow()
    week = iso_week(now, tz)
    run = DigestRun(week=week)
    queued_keys = set(
        session.exec(
            select(Outbox.dedupe_key).where(
                Outbox.kind == OutboxKind.DIGEST,
                col(Outbox.dedupe_key).like(f"digest:%:{week}"),
            )
        ).all()
    )
    recipients = digest_recipients(session=session, member_id=member_id)
    owed = [m for m in recipients if digest_key(m.id or 0, week) not in queued_keys]
    run.already_queued = run.members = len(recipients) - len(owed)
    recipients = owed
    data = DigestData.load(session, recipients)
    composed: list[tuple[Member, Digest]] = []
    for member in recipients:  # compose everything first: reading only, no locks held
        run.members += 1
        digest = compose_digest(
            session=session,
            member=member,
            week=week,
            since=digest_since(data, member, now),
            find_opportunities=find_opportunities,
            data=data,
        )
        if digest.is_empty:
            run.empty += 1
        elif dry_run:
            run.digests.append(digest)
        else:
            composed.append((member, digest))
    for member, digest in composed:
        queued = queue_message(
            session=session,
            member=member,
            dedupe_key=digest_key(member.id or 0, week),
            payload=digest.payload(),
            due_at=now,
        )
        if queued is None:
            run.already_queued += 1
            continue
        run.queued += 1
        if run.queued % COMMIT_EVERY == 0:  # the sender can start on the first ones
            session.commit()
    session.commit()
    return run
