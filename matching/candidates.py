"""The weekly digest's new opportunities: the best counterparts for a member's own listings,
by the round's score, writing nothing but the embedding cache.

`CandidateFinder` loads the pool and the known pairs once for many members; `top_candidates`
is the same answer for one call.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from kooperation.config import Settings
from matching.embedders import Embedder
from matching.loading import existing_pairs, load_pool
from matching.proposals import reason_facts
from matching.reasons import reason_de, reason_en
from matching.rounds import MATCHING_LOCK
from matching.scoring import Scored


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


class CandidateFinder:
    """The digest's search for counterparts: the pool and the known pairs loaded once.

    Build it once per digest run and call `find` per member: each call gives exactly what
    `top_candidates` gives for the same arguments, without rebuilding the pool (vectors,
    lexicon, language centring) every time. Nothing is reloaded, so it sees the database as
    it was when it was built; use a new one per run. Building it holds `MATCHING_LOCK` (it
    may embed).
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
        pool = self.loaded.pool
        results: list[Candidate] = []
        seen: set[tuple[int, int]] = set()
        for own_id, scored in self._ranked(listing_ids, limit):
            key = (pool.needs[scored.need].id, pool.offers[scored.offer].id)
            if key in seen:
                continue
            candidate = self._candidate(own_id, scored, created_after, other_clusters_only)
            if candidate is None:
                continue
            seen.add(key)
            results.append(candidate)
            if len(results) == limit:
                break
        return results

    def _ranked(self, listing_ids: Sequence[int], limit: int) -> list[tuple[int, Scored]]:
        """(own listing id, scored pair) for every own listing's best pairs, best first."""
        pool = self.loaded.pool
        known = max((self.known[i] for i in set(listing_ids)), default=0)
        depth = min(limit + 8 + known, max(len(pool.offers), len(pool.needs), 1))
        found: list[tuple[int, Scored]] = []
        own_needs = [pool.need_position[i] for i in listing_ids if i in pool.need_position]
        if own_needs:
            ranking = pool.rank(top_k=depth, need_positions=own_needs)
            found.extend((pool.needs[s.need].id, s) for s in ranking.pairs())
        for listing_id in listing_ids:
            if listing_id in pool.offer_position:
                ranking = pool.rank_needs_for_offer(pool.offer_position[listing_id], top_k=depth)
                found.extend((listing_id, s) for s in ranking.pairs())
        return sorted(found, key=lambda pair: pair[1].score, reverse=True)

    def _candidate(
        self,
        own_id: int,
        scored: Scored,
        created_after: datetime | None,
        other_clusters_only: bool,
    ) -> Candidate | None:
        """The pair as a candidate, or None when a filter leaves it out."""
        pool = self.loaded.pool
        need, offer = pool.needs[scored.need], pool.offers[scored.offer]
        other = offer if own_id == need.id else need
        if scored.score < self.settings.match_min_score or (need.id, offer.id) in self.existing:
            return None
        if created_after is not None and (
            other.created_at is None or other.created_at <= created_after
        ):
            return None
        if other_clusters_only and need.cluster_id == offer.cluster_id:
            return None
        facts, terms = reason_facts(self.loaded, scored)
        return Candidate(
            own_listing_id=own_id,
            other_listing_id=other.id,
            need_id=need.id,
            offer_id=offer.id,
            score=scored.score,
            reason_de=reason_de(facts),
            reason_en=reason_en(facts),
            shared_terms=terms,
        )


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
