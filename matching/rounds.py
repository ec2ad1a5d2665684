"""Matching rounds over the database: the nightly full round and one new listing's matching.

Public interface (keyword-only, the session passed in; `embedder=None` loads the model named
by `settings.embedding_model` on first use):

- `run_round(session, settings, embedder=None, progress=None) -> RoundResult`
- `match_listing(session, settings, listing_id, embedder=None) -> list[Match]`
- `warm_up(session) -> int`: at a process's start, so its first posted listing is matched as
  fast as the next ones

Beside them: `matching.loading` (the eligible listings as a pool, the known pairs),
`matching.proposals` (limits, `Match` rows, the `MatchRound`), `matching.candidates` (the
digest's counterparts) and `matching.dry_run` (the ranking `matchbot match --dry-run` prints).

Every function that writes (a round, a listing's matching, the digest's finder, which may
embed) holds `MATCHING_LOCK`, one per process: a contact posting during the nightly round
waits for it instead of embedding the same rows at the same time. Another process (the CLI
while the bot runs) is not excluded; for it embedding writes are insert-or-ignore and a pair
proposed twice is skipped.

Pairs are never within one organization and never a pair that already has a `Match`,
whatever its status. A full round proposes only pairs that are new since the previous full
round (a side created or edited after it started), so a second round with no changes
proposes nothing; the weekly digest (`matching.candidates`) shows the good pairs a round left
out because of the limits. These functions block (model, BLAS): the bot calls them in a
worker thread.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import ParamSpec, TypeVar

import numpy as np
from sqlalchemy import func, select
from sqlmodel import Session, col

from kooperation.config import Settings
from kooperation.models import Match, MatchRound, utcnow
from matching import scoring
from matching.embedders import Embedder
from matching.lexical import TERMS_CACHE, base_terms
from matching.loading import (
    eligible_listings,
    embedding_text,
    existing_pairs,
    load_pool,
    proposals_this_week,
)
from matching.proposals import select_proposals, store_proposals
from matching.scoring import Item, Scored
from matching.store import Progress

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
    """What a round did: its `MatchRound`, the new matches and counts."""

    round: MatchRound
    matches: list[Match]
    embedded: int
    needs: int
    offers: int

    @property
    def proposed(self) -> int:
        return len(self.matches)


def warm_up(session: Session) -> int:
    """Compiles the round's kernels and tokenises the eligible listings into the terms cache;
    returns how many were tokenised. Without it the first listing posted after a start waits
    for both (~4 s at 10k listings instead of ~1 s)."""
    scoring.warm_up()
    rows = eligible_listings(session, utcnow())[-TERMS_CACHE:]
    for listing, _, _ in rows:
        base_terms(embedding_text(listing))
    return len(rows)


def _last_full_round_start(session: Session) -> datetime | None:
    return session.execute(
        select(func.max(MatchRound.started_at)).where(
            col(MatchRound.mode) == "full", col(MatchRound.finished_at).is_not(None)
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
    progress: Progress | None = None,
) -> RoundResult:
    """A full round: embeds what changed, scores every active need × offer, writes proposals.

    Applies every filter (see the module docstring), the minimum score, at most
    `match_max_per_need` new proposals per need and `match_max_per_org_week` per organization
    and week. Writes `Match` rows (status proposed, all components, shared terms, reasons in
    de and en) and a `MatchRound`. `progress(done, total)` hears how embedding goes.
    """
    started = utcnow()
    loaded = load_pool(
        session=session, settings=settings, embedder=embedder, now=started, progress=progress
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
    match_round, matches = store_proposals(session, loaded, chosen, "full", started)
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
    _, matches = store_proposals(session, loaded, chosen, "listing", started)
    return matches
