"""From scored pairs to stored proposals: the limits a round applies, the `Match` rows with
their components and reasons, and the `MatchRound` that records them.

Pairs are never a pair that already has a `Match`, whatever its status; a pair proposed twice
at the same moment (another process) is skipped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from kooperation.config import Settings
from kooperation.models import Match, MatchRound, MatchStatus, utcnow
from matching.loading import Loaded
from matching.reasons import ReasonFacts, reason_de, reason_en
from matching.scoring import Pool, Scored


def reason_facts(loaded: Loaded, scored: Scored) -> tuple[ReasonFacts, list[str]]:
    """What the reasons say about a pair, and its shared terms (German) as a Match stores them."""
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


def build_match(loaded: Loaded, scored: Scored, round_id: int) -> Match:
    facts, terms = reason_facts(loaded, scored)
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


def store_proposals(
    session: Session,
    loaded: Loaded,
    chosen: Sequence[Scored],
    mode: str,
    started: datetime,
) -> tuple[MatchRound, list[Match]]:
    """Writes the `MatchRound` and its proposals and commits."""
    match_round = MatchRound(started_at=started, mode=mode, embedded=loaded.embedded)
    session.add(match_round)
    session.flush()
    assert match_round.id is not None
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
