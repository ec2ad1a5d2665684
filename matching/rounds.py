"""Matching rounds over the database: full, incremental, dry run, and digest candidates.

Public interface (all keyword-only, the session passed in; `embedder=None` loads the model
named by `settings.embedding_model` on first use):

- `run_round(session, settings, embedder=None, dry_run=False) -> RoundResult`
- `match_listing(session, settings, listing_id, embedder=None) -> list[Match]`
- `top_candidates(session, settings, listing_ids, limit, created_after=None,
  other_clusters_only=False, exclude_existing=True, embedder=None) -> list[Candidate]`
- `CandidateFinder(session, settings, exclude_existing=True, embedder=None)` and its
  `find(listing_ids, limit, created_after=None, other_clusters_only=False)`: the same
  answers as `top_candidates`, the pool loaded once for many members (the weekly digest)
- `ranked_pairs(session, settings, top_k, embedder=None) -> list[RankedPair]` (the dry run's
  list: every active need's best offers before the minimum score and the limits)
- `warm_up(session) -> int`: at a process's start, so its first posted listing is matched as
  fast as the next ones

Every function that writes (a round, a listing's matching, the digest's finder, which may
embed) holds `MATCHING_LOCK`, one per process: a contact posting during the nightly round
waits for it instead of embedding the same rows at the same time. Another process (the CLI
while the bot runs) is not excluded; for it embedding writes are insert-or-ignore and a pair
proposed twice is skipped.

Which listings take part: status active, not expired, and, when a member posted it, that
member neither paused nor inactive. Pairs are never within one organization and never a pair
that already has a `Match`, whatever its status.

A full round proposes only pairs that are new since the previous full round (a side created
or edited after it started), so a second round with no changes proposes nothing; the weekly
digest (`top_candidates`) shows the good pairs a round left out because of the limits.
These functions block (model, BLAS): the bot calls them in a worker thread.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ParamSpec, TypeVar

import numpy as np
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from kooperation.config import Settings
from kooperation.models import (
    Cluster,
    Kind,
    Listing,
    ListingStatus,
    Match,
    MatchRound,
    MatchStatus,
    Member,
    Organization,
    Size,
    utcnow,
)
from matching import scoring
from matching.embedders import Embedder, get_embedder
from matching.lexical import TERMS_CACHE, base_terms
from matching.reasons import ReasonFacts, reason_de, reason_en
from matching.scoring import Item, Pool, Ranking, Scored, Weights, reference
from matching.store import Progress, ToEmbed, ensure_vectors

log = logging.getLogger(__name__)

PER_OFFER_PASS_LIMIT = 500  # changed offers ranked against old needs one by one up to this

MATCHING_LOCK = threading.RLock()
"""One matching job at a time in this process (re-entrant: a finder inside a locked call)."""

_P = ParamSpec("_P")
_R = TypeVar("_R")


def exclusive(work: Callable[_P, _R]) -> Callable[_P, _R]:
    """Runs `work` holding `MATCHING_LOCK`."""

    @functools.wraps(work)
    def locked(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with MATCHING_LOCK:
            return work(*args, **kwargs)

    return locked


@dataclass
class RoundResult:
    """What a round did: its `MatchRound` (None in a dry run), the new matches and counts."""

    round: MatchRound | None
    matches: list[Match]
    embedded: int
    needs: int
    offers: int

    @property
    def proposed(self) -> int:
        return len(self.matches)


@dataclass(frozen=True)
class Candidate:
    """A counterpart for one of a member's own listings (the digest's new opportunities)."""

    own_listing_id: int
    other_listing_id: int
    need_id: int
    offer_id: int
    score: float
    reason_de: str
    reason_en: str
    shared_terms: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RankedPair:
    """One line of the dry run: a need's offer at `rank` (1 = best) with its components."""

    need_id: int
    offer_id: int
    need_ref: str | None
    offer_ref: str | None
    rank: int
    score: float
    components: dict[str, float]
    existing_status: str | None
    reason_de: str
    reason_en: str

    def as_json(self) -> dict[str, object]:
        return {
            "need_ref": self.need_ref,
            "offer_ref": self.offer_ref,
            "need_id": self.need_id,
            "offer_id": self.offer_id,
            "rank": self.rank,
            "score": round(self.score, 4),
            "components": self.components,
            "existing_status": self.existing_status,
            "reason_de": self.reason_de,
            "reason_en": self.reason_en,
        }


# ---- loading ------------------------------------------------------------------------------


def embedding_text(listing: Listing) -> str:
    """What is embedded and compared: the title (if any) and the text."""
    title = listing.title.strip()
    return f"{title}. {listing.text}" if title else listing.text


@dataclass
class Loaded:
    pool: Pool
    embedded: int
    listings: dict[int, Listing]
    cluster_names: dict[int, str]


def eligible_listings(session: Session, now: datetime) -> list[tuple[Listing, int, str]]:
    """Active, unexpired listings whose author (if any) is an active, unpaused member."""
    statement = (
        select(Listing, Organization.cluster_id, Organization.size)
        .join(Organization, Organization.id == Listing.organization_id)
        .outerjoin(Member, Member.id == Listing.member_id)
        .where(
            Listing.status == ListingStatus.ACTIVE,
            Listing.expires_at > now,
            or_(
                Listing.member_id.is_(None),
                and_(Member.paused.is_(False), Member.active.is_(True)),
            ),
        )
        .order_by(Listing.id)
    )
    return [(row[0], row[1], row[2]) for row in session.execute(statement)]


def warm_up(session: Session) -> int:
    """Compiles the round's kernels and tokenises the eligible listings into the terms cache;
    returns how many were tokenised. Without it the first listing posted after a start waits
    for both (~4 s at 10k listings instead of ~1 s)."""
    scoring.warm_up()
    rows = eligible_listings(session, utcnow())[-TERMS_CACHE:]
    for listing, _, _ in rows:
        base_terms(embedding_text(listing))
    return len(rows)


def load_pool(
    *,
    session: Session,
    settings: Settings,
    embedder: Embedder | None = None,
    now: datetime | None = None,
    write: bool = True,
    progress: Progress | None = None,
) -> Loaded:
    """Every eligible listing with its vector (embedding what changed) as a scoring `Pool`."""
    embedder = embedder or get_embedder(settings.embedding_model)
    rows = eligible_listings(session, now or utcnow())
    needs: list[Item] = []
    offers: list[Item] = []
    listings: dict[int, Listing] = {}
    for listing, cluster_id, size in rows:
        assert listing.id is not None
        listings[listing.id] = listing
        item = Item(
            id=listing.id,
            kind=listing.kind,
            organization_id=listing.organization_id,
            cluster_id=cluster_id,
            text=embedding_text(listing),
            language=listing.language or "de",
            kmu=size != Size.LARGE,
            tags=tuple(listing.tags or ()),
            ref=listing.ref,
            created_at=listing.created_at,
            updated_at=listing.updated_at,
        )
        (needs if listing.kind == Kind.NEED else offers).append(item)
    items = [*needs, *offers]
    vectors, embedded = ensure_vectors(
        session=session,
        embedder=embedder,
        items=[ToEmbed(i.id, i.text) for i in items],
        write=write,
        progress=progress,
    )
    if write and embedded:
        session.commit()
    pool = Pool(
        needs=needs,
        offers=offers,
        need_vectors=vectors[: len(needs)],
        offer_vectors=vectors[len(needs) :],
        weights=Weights.from_settings(settings),
        reference=reference(embedder),
        min_score=settings.match_min_score,
    )
    names = {c.id: c.name for c in session.execute(select(Cluster)).scalars()}
    return Loaded(pool=pool, embedded=embedded, listings=listings, cluster_names=names)


def existing_pairs(session: Session) -> dict[tuple[int, int], str]:
    """Every need↔offer pair that has a Match, with its status."""
    rows = session.execute(select(Match.need_id, Match.offer_id, Match.status))
    return {(need, offer): status for need, offer, status in rows}


def proposals_this_week(session: Session, now: datetime) -> Counter[int]:
    """New proposals per organization (either side) in the last seven days."""
    need = Listing.__table__.alias("need")
    offer = Listing.__table__.alias("offer")
    rows = session.execute(
        select(need.c.organization_id, offer.c.organization_id)
        .select_from(Match)
        .join(need, need.c.id == Match.need_id)
        .join(offer, offer.c.id == Match.offer_id)
        .where(Match.created_at >= now - timedelta(days=7))
    )
    counts: Counter[int] = Counter()
    for need_org, offer_org in rows:
        counts[need_org] += 1
        if offer_org != need_org:
            counts[offer_org] += 1
    return counts


# ---- building matches -------------------------------------------------------------------


def _facts(loaded: Loaded, scored: Scored) -> tuple[ReasonFacts, list[str]]:
    pool = loaded.pool
    need, offer = pool.needs[scored.need], pool.offers[scored.offer]
    terms_de = pool.shared_terms(scored.need, scored.offer, "de")
    terms_en = pool.shared_terms(scored.need, scored.offer, "en")
    facts = ReasonFacts(
        terms_de=terms_de,
        terms_en=terms_en,
        need_cluster=loaded.cluster_names.get(need.cluster_id, str(need.cluster_id)),
        offer_cluster=loaded.cluster_names.get(offer.cluster_id, str(offer.cluster_id)),
        need_language=need.language,
        offer_language=offer.language,
        reciprocal=scored.reciprocity > 0,
    )
    return facts, terms_de


def build_match(loaded: Loaded, scored: Scored, round_id: int | None) -> Match:
    facts, terms = _facts(loaded, scored)
    return Match(
        need_id=loaded.pool.needs[scored.need].id,
        offer_id=loaded.pool.offers[scored.offer].id,
        round_id=round_id,
        score=round(scored.score, 6),
        semantic=round(scored.semantic, 6),
        lexical=round(scored.lexical, 6),
        tags=round(scored.tags, 6),
        cross_cluster=round(scored.cross_cluster, 6),
        kmu=round(scored.kmu, 6),
        reciprocity=round(scored.reciprocity, 6),
        shared_terms=terms,
        reason_de=reason_de(facts),
        reason_en=reason_en(facts),
        status=MatchStatus.PROPOSED,
    )


def select_proposals(
    candidates: Iterable[Scored],
    *,
    pool: Pool,
    settings: Settings,
    existing: dict[tuple[int, int], str],
    org_counts: Counter[int],
) -> list[Scored]:
    """Best first: min score, no known pair, ≤ N per need, ≤ M per organization and week."""
    per_need: Counter[int] = Counter()
    chosen: list[Scored] = []
    seen: set[tuple[int, int]] = set()
    for scored in sorted(candidates, key=lambda s: s.score, reverse=True):
        need, offer = pool.needs[scored.need], pool.offers[scored.offer]
        key = (need.id, offer.id)
        if scored.score < settings.match_min_score or key in existing or key in seen:
            continue
        if per_need[need.id] >= settings.match_max_per_need:
            continue
        orgs = {need.organization_id, offer.organization_id}
        if any(org_counts[org] >= settings.match_max_per_org_week for org in orgs):
            continue
        seen.add(key)
        per_need[need.id] += 1
        for org in orgs:
            org_counts[org] += 1
        chosen.append(scored)
    return chosen


def _store(
    session: Session,
    loaded: Loaded,
    chosen: Sequence[Scored],
    mode: str,
    embedded: int,
    started: datetime,
) -> tuple[MatchRound, list[Match]]:
    match_round = MatchRound(started_at=started, mode=mode, embedded=embedded)
    session.add(match_round)
    session.flush()
    matches: list[Match] = []
    for scored in chosen:
        match = build_match(loaded, scored, match_round.id)
        try:
            with session.begin_nested():
                session.add(match)
        except IntegrityError:  # the same pair was proposed concurrently (incremental run)
            continue
        matches.append(match)
    match_round.proposed = len(matches)
    match_round.finished_at = utcnow()
    session.commit()
    return match_round, matches


# ---- public functions --------------------------------------------------------------------


def _last_full_round_start(session: Session) -> datetime | None:
    return session.execute(
        select(func.max(MatchRound.started_at)).where(
            MatchRound.mode == "full", MatchRound.finished_at.is_not(None)
        )
    ).scalar_one_or_none()


def _changed_since(item: Item, since: datetime | None) -> bool:
    if since is None:
        return True
    stamps = [t for t in (item.created_at, item.updated_at) if t is not None]
    return not stamps or max(stamps) >= since


@exclusive
def run_round(
    *,
    session: Session,
    settings: Settings,
    embedder: Embedder | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> RoundResult:
    """A full round: embeds what changed, scores every active need × offer, writes proposals.

    Applies every filter (see the module docstring), the minimum score, at most
    `match_max_per_need` new proposals per need and `match_max_per_org_week` per organization
    and week. Writes `Match` rows (status proposed, all components, shared terms, reasons in
    de and en) and a `MatchRound`. With `dry_run` nothing is written (not even embeddings)
    and the returned matches are unsaved. `progress(done, total)` hears how embedding goes.
    """
    started = utcnow()
    loaded = load_pool(
        session=session,
        settings=settings,
        embedder=embedder,
        now=started,
        write=not dry_run,
        progress=progress,
    )
    pool = loaded.pool
    since = _last_full_round_start(session)
    existing = existing_pairs(session)
    per_need_known = Counter(need for need, _ in existing)
    depth = settings.match_max_per_need + max(per_need_known.values(), default=0) + 8
    changed_need = np.array([_changed_since(i, since) for i in pool.needs], dtype=bool)
    changed_offer = np.array([_changed_since(i, since) for i in pool.offers], dtype=bool)
    candidates: list[Scored] = []
    if changed_need.any() or changed_offer.any():
        ranking = pool.rank(top_k=depth)
        fresh = changed_need[ranking.need] | changed_offer[ranking.offer]
        candidates.extend(ranking.take(fresh).pairs())
        changed_offers = np.flatnonzero(changed_offer)
        if 0 < len(changed_offers) <= PER_OFFER_PASS_LIMIT:
            # an older need may rank a new offer below its top `depth`: look from the offer
            for offer in changed_offers:
                candidates.extend(pool.rank_needs_for_offer(int(offer), top_k=depth).pairs())
    chosen = select_proposals(
        candidates,
        pool=pool,
        settings=settings,
        existing=existing,
        org_counts=proposals_this_week(session, started),
    )
    if dry_run:
        matches = [build_match(loaded, s, None) for s in chosen]
        return RoundResult(None, matches, loaded.embedded, len(pool.needs), len(pool.offers))
    match_round, matches = _store(session, loaded, chosen, "full", loaded.embedded, started)
    log.info(
        "matching round %s: %d needs, %d offers, embedded %d, proposed %d",
        match_round.id,
        len(pool.needs),
        len(pool.offers),
        loaded.embedded,
        len(matches),
    )
    return RoundResult(match_round, matches, loaded.embedded, len(pool.needs), len(pool.offers))


@exclusive
def match_listing(
    *,
    session: Session,
    settings: Settings,
    listing_id: int,
    embedder: Embedder | None = None,
) -> list[Match]:
    """Matches one new or edited listing against the pool and stores its proposals.

    Same score, filters and limits as a full round; recorded as a `MatchRound` with mode
    "listing". Returns the new matches (empty when the listing is not eligible). Blocking:
    the bot runs it in a worker thread right after a contact posts.
    """
    started = utcnow()
    loaded = load_pool(session=session, settings=settings, embedder=embedder, now=started)
    pool = loaded.pool
    existing = existing_pairs(session)
    known = sum(1 for pair in existing if listing_id in pair)
    depth = settings.match_max_per_need + known + 8
    if listing_id in pool.need_position:
        ranking = pool.rank(top_k=depth, need_positions=[pool.need_position[listing_id]])
    elif listing_id in pool.offer_position:
        ranking = pool.rank_needs_for_offer(pool.offer_position[listing_id], top_k=depth)
    else:
        return []
    chosen = select_proposals(
        ranking.pairs(),
        pool=pool,
        settings=settings,
        existing=existing,
        org_counts=proposals_this_week(session, started),
    )
    _, matches = _store(session, loaded, chosen, "listing", loaded.embedded, started)
    return matches


def ranked_pairs(
    *,
    session: Session,
    settings: Settings,
    top_k: int,
    embedder: Embedder | None = None,
) -> list[RankedPair]:
    """For every active need its best `top_k` offers, by the round's score, writing nothing.

    Ranked before the minimum score and the per-need/per-organization limits; pairs that
    already have a Match stay in the list with their status (`existing_status`).
    """
    loaded = load_pool(session=session, settings=settings, embedder=embedder, write=False)
    existing = existing_pairs(session)
    ranking: Ranking = loaded.pool.rank(top_k=top_k)
    out: list[RankedPair] = []
    rank = 0
    previous = -1
    for scored in ranking.pairs():
        rank = rank + 1 if scored.need == previous else 1
        previous = scored.need
        need, offer = loaded.pool.needs[scored.need], loaded.pool.offers[scored.offer]
        facts, _ = _facts(loaded, scored)
        out.append(
            RankedPair(
                need_id=need.id,
                offer_id=offer.id,
                need_ref=need.ref,
                offer_ref=offer.ref,
                rank=rank,
                score=scored.score,
                components=scored.as_dict(),
                existing_status=existing.get((need.id, offer.id)),
                reason_de=reason_de(facts),
                reason_en=reason_en(facts),
            )
        )
    return out


class CandidateFinder:
    """The digest's search for counterparts: the pool and the known pairs loaded once.

    Build it once per digest run and call `find` per member: each call gives exactly what
    `top_candidates` gives for the same arguments, without rebuilding the pool (vectors,
    lexicon, language centring) every time. Nothing is reloaded, so it sees the database as
    it was when it was built; use a new one per run.
    """

    def __init__(
        self,
        *,
        session: Session,
        settings: Settings,
        exclude_existing: bool = True,
        embedder: Embedder | None = None,
    ) -> None:
        self.settings = settings
        with MATCHING_LOCK:
            self.loaded = load_pool(session=session, settings=settings, embedder=embedder)
            self.existing = existing_pairs(session) if exclude_existing else {}
        self.known = Counter(side for pair in self.existing for side in pair)

    def find(
        self,
        *,
        listing_ids: Sequence[int],
        limit: int,
        created_after: datetime | None = None,
        other_clusters_only: bool = False,
    ) -> list[Candidate]:
        """The best counterparts for the given own listings (see `top_candidates`)."""
        if limit <= 0 or not listing_ids:
            return []
        loaded, existing = self.loaded, self.existing
        pool = loaded.pool
        known = max((self.known[i] for i in set(listing_ids)), default=0)
        depth = limit + 8 + known
        depth = min(depth, max(len(pool.offers), len(pool.needs), 1))
        found: list[tuple[int, Scored]] = []
        own_needs = [pool.need_position[i] for i in listing_ids if i in pool.need_position]
        if own_needs:
            ranking = pool.rank(top_k=depth, need_positions=own_needs)
            found.extend((pool.needs[s.need].id, s) for s in ranking.pairs())
        for listing_id in listing_ids:
            if listing_id in pool.offer_position:
                ranking = pool.rank_needs_for_offer(pool.offer_position[listing_id], top_k=depth)
                found.extend((listing_id, s) for s in ranking.pairs())
        results: list[Candidate] = []
        seen: set[tuple[int, int]] = set()
        for own_id, scored in sorted(found, key=lambda pair: pair[1].score, reverse=True):
            need, offer = pool.needs[scored.need], pool.offers[scored.offer]
            other = offer if own_id == need.id else need
            key = (need.id, offer.id)
            if scored.score < self.settings.match_min_score or key in existing or key in seen:
                continue
            if created_after is not None and (
                other.created_at is None or other.created_at <= created_after
            ):
                continue
            if other_clusters_only and need.cluster_id == offer.cluster_id:
                continue
            seen.add(key)
            facts, terms = _facts(loaded, scored)
            results.append(
                Candidate(
                    own_listing_id=own_id,
                    other_listing_id=other.id,
                    need_id=need.id,
                    offer_id=offer.id,
                    score=scored.score,
                    reason_de=reason_de(facts),
                    reason_en=reason_en(facts),
                    shared_terms=terms,
                )
            )
            if len(results) == limit:
                break
        return results


def top_candidates(
    *,
    session: Session,
    settings: Settings,
    listing_ids: Sequence[int],
    limit: int,
    created_after: datetime | None = None,
    other_clusters_only: bool = False,
    exclude_existing: bool = True,
    embedder: Embedder | None = None,
) -> list[Candidate]:
    """The best counterparts for the given own listings (need→offers, offer→needs).

    Only counterparts scoring at least the minimum score; optionally only those created after
    `created_after` and only from other clusters; pairs with a Match are left out unless
    `exclude_existing` is False. Best first, at most `limit` in total. Writes nothing but the
    embedding cache. Loads the whole pool: for many members use one `CandidateFinder`.
    """
    if limit <= 0 or not listing_ids:
        return []
    finder = CandidateFinder(
        session=session, settings=settings, exclude_existing=exclude_existing, embedder=embedder
    )
    return finder.find(
        listing_ids=listing_ids,
        limit=limit,
        created_after=created_after,
        other_clusters_only=other_clusters_only,
    )
