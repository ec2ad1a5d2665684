"""Scoring needs × offers: the pool of active listings in memory and its two ways to rank.

The score and its components are defined in `matching.score` (`combine`); this module holds
what they are computed from (`Pool`: vectors, lexical rows, tags, clusters, organizations) and
the pair path, which computes every component of given pairs and combines them. Around it:
- `matching.semantic`: language centring and each need's statistics (the semantic component);
- `matching.blocks`: the block path of `Pool.rank` (one matrix product per block of needs,
  the compiled candidate search of `matching.kernels`);
- `matching.reciprocity`: the last component, added to a ranking;
- `matching.ranking`: `Ranking` (pairs as arrays) and `Scored` (one pair).

Search is exact: `Pool.rank` keeps every offer within the reciprocity bonus of a need's k-th
best before adding reciprocity, so what it returns is what scoring every pair would give.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from scipy import sparse

from matching import blocks, reciprocity
from matching.embedders import normalise
from matching.lexical import LexicalIndex
from matching.ranking import Ranking, Scored, position_in_group, sorted_by_need
from matching.score import COMPONENTS, Parts, Weights, coefficients, combine
from matching.semantic import NeedStatistics, Reference, centre_languages, reference, standardise

# imported from here by the round modules (loading, proposals, rounds, candidates)
__all__ = ["Item", "Pool", "Ranking", "Scored", "Weights", "reference", "warm_up"]


@dataclass(frozen=True)
class Item:
    """What scoring needs to know about one listing."""

    id: int
    kind: str
    organization_id: int
    cluster_id: int
    text: str
    language: str = "de"
    kmu: bool = True
    tags: tuple[str, ...] = ()
    ref: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


def _positions_by(keys: np.ndarray) -> dict[int, np.ndarray]:
    if keys.size == 0:  # np.split of an empty array still yields one (empty) part
        return {}
    order = np.argsort(keys, kind="stable")
    values, starts = np.unique(keys[order], return_index=True)
    return {int(v): part for v, part in zip(values, np.split(order, starts[1:]), strict=True)}


def _tag_matrices(needs: list[Item], offers: list[Item]) -> tuple[np.ndarray, np.ndarray]:
    """Normalised tag rows (case and spaces ignored) of the needs and of the offers."""
    vocabulary: dict[str, int] = {}
    for item in [*needs, *offers]:
        for tag in item.tags:
            vocabulary.setdefault(tag.strip().lower(), len(vocabulary))

    def matrix(items: list[Item]) -> np.ndarray:
        out = np.zeros((len(items), max(len(vocabulary), 1)), dtype=np.float32)
        for row, item in enumerate(items):
            for tag in item.tags:
                out[row, vocabulary[tag.strip().lower()]] = 1.0
        return normalise(out)

    return matrix(needs), matrix(offers)


class Pool:
    """Active needs and offers in memory: vectors, lexical rows, tags, clusters, orgs.

    `rank` ranks offers for needs (the full round, the dry run, a new need);
    `rank_needs_for_offer` ranks needs for one offer (a new offer). Both give the same
    score for the same pair. `min_score` is the round's (`Settings.match_min_score`): the
    score from which a pair counts as a fit for reciprocity.
    """

    def __init__(
        self,
        *,
        needs: Sequence[Item],
        offers: Sequence[Item],
        need_vectors: np.ndarray,
        offer_vectors: np.ndarray,
        weights: Weights,
        reference: Reference,
        min_score: float,
    ) -> None:
        self.needs = list(needs)
        self.offers = list(offers)
        self.weights = weights
        self.coefficients = coefficients(weights)
        self.reference = reference
        self.min_score = min_score
        languages = [i.language for i in self.needs] + [i.language for i in self.offers]
        dim = need_vectors.shape[1] if len(need_vectors) else offer_vectors.shape[1]
        stacked = np.vstack([need_vectors.reshape(-1, dim), offer_vectors.reshape(-1, dim)]).astype(
            np.float32
        )
        centred = centre_languages(stacked, languages, reference)
        self.need_vectors = np.ascontiguousarray(centred[: len(self.needs)])
        self.offer_vectors = np.ascontiguousarray(centred[len(self.needs) :])
        self.statistics = NeedStatistics(self.need_vectors, self.offer_vectors, reference)
        self.lexicon = LexicalIndex([i.text for i in self.needs] + [i.text for i in self.offers])
        self.need_lex = sparse.csr_matrix(self.lexicon.matrix[: len(self.needs)])
        self.offer_lex = sparse.csr_matrix(self.lexicon.matrix[len(self.needs) :])
        self.offer_lex_t = sparse.csr_matrix(self.offer_lex.T)
        self.need_tags, self.offer_tags = _tag_matrices(self.needs, self.offers)
        self.need_cluster = np.array([i.cluster_id for i in self.needs], dtype=np.int64)
        self.offer_cluster = np.array([i.cluster_id for i in self.offers], dtype=np.int64)
        self.need_org = np.array([i.organization_id for i in self.needs], dtype=np.int64)
        self.offer_org = np.array([i.organization_id for i in self.offers], dtype=np.int64)
        self.need_kmu = np.array([i.kmu for i in self.needs], dtype=np.float32)
        self.offer_kmu = np.array([i.kmu for i in self.offers], dtype=np.float32)
        self.need_position = {item.id: n for n, item in enumerate(self.needs)}
        self.offer_position = {item.id: n for n, item in enumerate(self.offers)}
        self.needs_by_org: dict[int, np.ndarray] = _positions_by(self.need_org)
        self.offers_by_org: dict[int, np.ndarray] = _positions_by(self.offer_org)
        self.offer_side = blocks.OfferSide(self)

    def need_stats(self) -> tuple[np.ndarray, np.ndarray]:
        """μ, σ of every need, computed once per pool (the same numbers `rank` uses)."""
        return self.statistics.every()

    # ---- the pair path ------------------------------------------------------------------

    def parts(
        self, need: np.ndarray, offer: np.ndarray, *, semantic: np.ndarray, lexical: np.ndarray
    ) -> Parts[np.ndarray]:
        """The components of pairs (need[p], offer[p]), the semantic and lexical ones given,
        reciprocity 0."""
        return Parts(
            semantic=semantic,
            lexical=lexical,
            tags=np.einsum("pt,pt->p", self.need_tags[need], self.offer_tags[offer]),
            cross_cluster=(self.need_cluster[need] != self.offer_cluster[offer]).astype(np.float32),
            kmu=(self.need_kmu[need] + self.offer_kmu[offer]) / 2,
            reciprocity=np.zeros(len(need), np.float32),
        )

    def score_pairs(
        self,
        need: np.ndarray,
        offer: np.ndarray,
        *,
        cos: np.ndarray | None = None,
        lexical: np.ndarray | None = None,
    ) -> Ranking:
        """Every component of the pairs (need[p], offer[p]) and their score by `combine`
        (reciprocity 0). `cos` and `lexical`, when the caller has them, are the pairs' cosines
        of (centred) vectors and TF-IDF rows."""
        if cos is None:
            cos = np.einsum("pd,pd->p", self.need_vectors[need], self.offer_vectors[offer])
        if lexical is None:
            lexical = reciprocity.rowwise_dot(self.need_lex, need, self.offer_lex, offer)
        mean, std = self.statistics.every()
        semantic = standardise(cos, mean[need], std[need])
        parts = self.parts(need, offer, semantic=semantic, lexical=lexical)
        return Ranking.of(need, offer, combine(self.weights, parts), parts, self.weights)

    # ---- ranking ------------------------------------------------------------------------

    def rank(self, *, top_k: int, need_positions: Iterable[int] | None = None) -> Ranking:
        """The best `top_k` offers of other organizations per need, exact, best first.

        Reciprocity: ranking all needs reads it off the other needs' candidates; ranking a
        few needs scores B's needs × A's offers directly (`matching.reciprocity`).
        """
        rows = (
            np.arange(len(self.needs))
            if need_positions is None
            else np.fromiter(need_positions, dtype=np.int64)
        )
        everyone = need_positions is None
        if top_k <= 0 or len(rows) == 0 or len(self.offers) == 0:
            return Ranking.concat([])
        ranking = blocks.rank(self, rows, top_k)
        if everyone:
            reciprocity.from_candidates(self, ranking)
        else:
            reciprocity.direct(self, ranking)
        ranking = sorted_by_need(ranking)
        return ranking.take(position_in_group(ranking.need) < top_k)

    def rank_needs_for_offer(self, offer: int, *, top_k: int) -> Ranking:
        """The best `top_k` needs of other organizations for one offer (a new offer)."""
        if top_k <= 0 or len(self.needs) == 0:
            return Ranking.concat([])
        everyone = np.arange(len(self.needs))
        cos = self.need_vectors @ self.offer_vectors[offer]
        lexical = (self.need_lex @ self.offer_lex[offer].T).toarray().ravel()
        ranking = self.score_pairs(
            everyone, np.full(len(everyone), offer), cos=cos, lexical=lexical
        )
        valid = (self.need_org != self.offer_org[offer]) & np.isfinite(ranking.score)
        if not valid.any():
            return Ranking.concat([])
        score = np.where(valid, ranking.score, -np.inf)
        k = min(top_k, int(valid.sum()))
        kth = np.partition(score, len(score) - k)[len(score) - k]
        ranking = ranking.take(np.flatnonzero(score >= kth - self.coefficients.reciprocity))
        reciprocity.direct(self, ranking)
        return ranking.take(np.argsort(-ranking.score, kind="stable")[:top_k])

    def shared_terms(self, need: int, offer: int, language: str, limit: int = 4) -> list[str]:
        """Key terms the need and the offer both name, in the reader's language."""
        return self.lexicon.shared_terms(need, len(self.needs) + offer, language, limit)


def warm_up() -> None:
    """Ranks a pool of two needs and two offers, so the kernels of `matching.kernels` are
    compiled (first run after an install, ~5 s) or loaded from numba's cache before the first
    real round or posted listing of a process needs them. Goes the same way as a real round,
    so the argument types, and with them the compiled versions, are the same (the weights
    do not matter for that: all 1)."""
    rng = np.random.default_rng(0)
    texts = ("Batterie Recycling Logistik", "TISAX Beratung Software")
    items = [
        Item(id=n, kind=kind, organization_id=n, cluster_id=n % 2, text=texts[n % 2])
        for n, kind in enumerate(("need", "need", "offer", "offer"))
    ]
    vectors = normalise(rng.normal(size=(4, 8)).astype(np.float32))
    pool = Pool(
        needs=items[:2],
        offers=items[2:],
        need_vectors=vectors[:2],
        offer_vectors=vectors[2:],
        weights=Weights(**dict.fromkeys(COMPONENTS, 1.0)),
        reference=Reference(mean={}, cos_mean=0.0, cos_std=0.1),
        min_score=-1.0,
    )
    pool.rank(top_k=1)
