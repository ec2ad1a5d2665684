"""`matchbot match --dry-run`: every active need's best offers by the round's score, before
the minimum score and the limits, writing nothing (not even embeddings)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from kooperation.config import Settings
from matching.embedders import Embedder
from matching.loading import existing_pairs, load_pool
from matching.proposals import reason_facts
from matching.reasons import reason_de, reason_en


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
    ranking = loaded.pool.rank(top_k=top_k)
    out: list[RankedPair] = []
    rank = 0
    previous = -1
    for scored in ranking.pairs():
        rank = rank + 1 if scored.need == previous else 1
        previous = scored.need
        need, offer = loaded.pool.needs[scored.need], loaded.pool.offers[scored.offer]
        facts, _ = reason_facts(loaded, scored)
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
