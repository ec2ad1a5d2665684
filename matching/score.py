"""The score of a need↔offer pair, defined once: named components times their weights.

    score = w_semantic · semantic + w_lexical · lexical + w_tags · tags
            + w_cross_cluster · cross_cluster + w_kmu · kmu + w_reciprocity · reciprocity

Each component on its own scale (`Parts`):
- semantic: the cosine of the two embeddings, standardised per need (`matching.semantic`);
- lexical: the cosine of their TF-IDF word features (`matching.lexical`);
- tags: the cosine of their tag sets;
- cross_cluster: 1 when the two organizations belong to different clusters, else 0;
- kmu: the share of small and mid-sized firms (KMU) among the two organizations (0, ½ or 1);
- reciprocity: 1 when the two organizations also fit the other way round (the offer's
  organization needs what the need's organization offers), else 0.

`combine` is the only place that adds them up. The pair path (`Pool.score_pairs`) calls it on
each pair's parts; the block path (`matching.blocks`) multiplies whole blocks and takes its
coefficients from `coefficients`, which reads them off `combine` itself; `matching.reciprocity`
adds the last component the same way. tests/matching/test_score.py checks that all of them
give what `combine` gives.

The weights come from `Settings` (`WEIGHT_SEMANTIC`, `WEIGHT_LEXICAL`, `WEIGHT_TAGS`,
`CROSS_CLUSTER_BONUS`, `KMU_BONUS`, `RECIPROCITY_BONUS`) and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Generic, TypeVar

import numpy as np

from kooperation.config import Settings

COMPONENTS = ("semantic", "lexical", "tags", "cross_cluster", "kmu", "reciprocity")
BONUSES = ("cross_cluster", "kmu", "reciprocity")  # stored and shown as the points they add

Value = TypeVar("Value", float, np.ndarray)


@dataclass(frozen=True)
class Weights:
    """How much each component counts (see `Settings` for where the numbers come from)."""

    semantic: float
    lexical: float
    tags: float
    cross_cluster: float
    kmu: float
    reciprocity: float

    @classmethod
    def from_settings(cls, settings: Settings) -> Weights:
        return cls(
            semantic=settings.weight_semantic,
            lexical=settings.weight_lexical,
            tags=settings.weight_tags,
            cross_cluster=settings.cross_cluster_bonus,
            kmu=settings.kmu_bonus,
            reciprocity=settings.reciprocity_bonus,
        )


@dataclass(frozen=True)
class Parts(Generic[Value]):
    """The components of one pair (floats) or of many pairs (parallel arrays), unweighted."""

    semantic: Value
    lexical: Value
    tags: Value
    cross_cluster: Value
    kmu: Value
    reciprocity: Value


def combine(weights: Weights, parts: Parts[Value]) -> Value:
    """The score: every component times its weight, added up."""
    return (
        weights.semantic * parts.semantic
        + weights.lexical * parts.lexical
        + weights.tags * parts.tags
        + weights.cross_cluster * parts.cross_cluster
        + weights.kmu * parts.kmu
        + weights.reciprocity * parts.reciprocity
    )


def coefficients(weights: Weights) -> Parts[float]:
    """Each component's coefficient in `combine`, read off `combine` itself: the score of parts
    that are 1 for that component and 0 for the others.

    The block path builds its matrix product from these instead of restating the formula.
    That needs `combine` to be linear; parts of all zeros scoring 0 and all ones scoring the
    sum of the coefficients are checked here.
    """
    zero = Parts(**dict.fromkeys(COMPONENTS, 0.0))
    found = {name: float(combine(weights, replace(zero, **{name: 1.0}))) for name in COMPONENTS}
    ones = Parts(**dict.fromkeys(COMPONENTS, 1.0))
    if combine(weights, zero) != 0 or not np.isclose(combine(weights, ones), sum(found.values())):
        raise ValueError("combine() is not linear: the block path cannot reproduce it")
    return Parts(**found)


def shown(weights: Weights, parts: Parts[Value]) -> Parts[Value]:
    """The components as a `Match` stores them and a manager reads them: semantic, lexical
    and tags as the similarities they are, the bonuses as the points they add to the score."""
    return replace(
        parts, **{name: getattr(weights, name) * getattr(parts, name) for name in BONUSES}
    )
