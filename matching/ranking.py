"""Ranked need↔offer pairs with their score and components, as arrays and as single pairs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from matching.score import Parts, Weights, shown


@dataclass
class Scored:
    """One need↔offer pair with every component of its score (positions into the pool),
    the components as `matching.score.shown` gives them."""

    need: int
    offer: int
    score: float
    semantic: float
    lexical: float
    tags: float
    cross_cluster: float
    kmu: float
    reciprocity: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {
            "semantic": round(self.semantic, 4),
            "lexical": round(self.lexical, 4),
            "tags": round(self.tags, 4),
            "cross_cluster": round(self.cross_cluster, 4),
            "kmu": round(self.kmu, 4),
            "reciprocity": round(self.reciprocity, 4),
        }


@dataclass
class Ranking:
    """Ranked need↔offer pairs as parallel arrays, grouped by need, best first per need.

    `need` and `offer` are positions into `Pool.needs` / `Pool.offers`; the components are
    as `matching.score.shown` gives them.
    """

    need: np.ndarray
    offer: np.ndarray
    score: np.ndarray
    semantic: np.ndarray
    lexical: np.ndarray
    tags: np.ndarray
    cross_cluster: np.ndarray
    kmu: np.ndarray
    reciprocity: np.ndarray

    @classmethod
    def of(
        cls,
        need: np.ndarray,
        offer: np.ndarray,
        score: np.ndarray,
        parts: Parts[np.ndarray],
        weights: Weights,
    ) -> Ranking:
        """Pairs with their score and their unweighted components."""
        show = shown(weights, parts)
        f32 = np.float32
        return cls(
            need=need.astype(np.int64),
            offer=offer.astype(np.int64),
            score=score.astype(f32),
            semantic=show.semantic.astype(f32),
            lexical=show.lexical.astype(f32),
            tags=show.tags.astype(f32),
            cross_cluster=show.cross_cluster.astype(f32),
            kmu=show.kmu.astype(f32),
            reciprocity=show.reciprocity.astype(f32),
        )

    def __len__(self) -> int:
        return len(self.need)

    def pairs(self) -> list[Scored]:
        return [
            Scored(
                need=int(self.need[i]),
                offer=int(self.offer[i]),
                score=float(self.score[i]),
                semantic=float(self.semantic[i]),
                lexical=float(self.lexical[i]),
                tags=float(self.tags[i]),
                cross_cluster=float(self.cross_cluster[i]),
                kmu=float(self.kmu[i]),
                reciprocity=float(self.reciprocity[i]),
            )
            for i in range(len(self.need))
        ]

    @classmethod
    def concat(cls, parts: Sequence[Ranking]) -> Ranking:
        names = [f.name for f in fields(cls)]
        if not parts:
            return cls(
                **{
                    n: np.zeros(0, np.int64 if n in {"need", "offer"} else np.float32)
                    for n in names
                }
            )
        return cls(**{n: np.concatenate([getattr(p, n) for p in parts]) for n in names})

    def take(self, keep: np.ndarray) -> Ranking:
        return Ranking(**{f.name: getattr(self, f.name)[keep] for f in fields(self)})


def sorted_by_need(ranking: Ranking) -> Ranking:
    """By need, best score first within a need (one float sort instead of a lexsort)."""
    spread = float(np.abs(ranking.score).max(initial=0.0)) * 2 + 1
    order = np.argsort(ranking.need * spread - ranking.score.astype(np.float64), kind="stable")
    return ranking.take(order)


def position_in_group(groups: np.ndarray) -> np.ndarray:
    """0, 1, 2, … within each run of equal values of a sorted array."""
    if len(groups) == 0:
        return np.zeros(0, np.int64)
    starts = np.r_[0, np.flatnonzero(np.diff(groups)) + 1]
    lengths = np.diff(np.r_[starts, len(groups)])
    return np.arange(len(groups)) - np.repeat(starts, lengths)
