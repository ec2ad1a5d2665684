"""Scoring needs × offers: one matrix product per block, components named and kept.

score(need i, offer j) = w_sem · semantic + w_lex · lexical + w_tags · tags
                         + cross_cluster + kmu + reciprocity

- semantic: cosine of the embeddings after removing each language's mean offset (so a German
  need does not prefer German offers for being German), standardised per need:
  (cos − μ_i) / (SEMANTIC_Z · σ_i), where μ_i, σ_i describe need i's similarity to the offer
  pool. A score therefore means the same for every need and every language: "how far this offer
  stands out for this need". Statistics of small pools are shrunk towards reference statistics
  of the model, so a pool of three offers does not make a mediocre offer look outstanding.
- lexical: cosine of TF-IDF word features (`matching.lexical`), rescues exact terms.
- tags: cosine of the listings' tag sets.
- cross_cluster: the bonus when the two organizations belong to different clusters.
- kmu: the bonus times the share of KMU (small and medium firms) among the two organizations.
- reciprocity: the bonus when the offer's organization also needs what the need's
  organization offers (one of its needs has one of their offers among its candidates).

Search is exact: `Pool.rank` does one dense product per block of needs (semantic part, tags,
cluster bonus and KMU share in one), then `matching.kernels.block_candidates` adds the sparse
lexical part row by row and keeps every offer within the reciprocity bonus of the need's k-th
best; the components of those candidates are then read back out of their score.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import lru_cache

import numpy as np
from scipy import sparse
from threadpoolctl import threadpool_limits

from matching import kernels
from matching.embedders import Embedder, normalise
from matching.lexical import LexicalIndex

SEMANTIC_Z = 4.0  # a need's offer 4 standard deviations above its average one scores 1.0
PRIOR_WEIGHT = 10  # how many pool rows the reference statistics count as
BLOCK_ROWS = 1024
BLOCK_BYTES = 192 * 2**20  # one worker's product buffer at most, for large pools
ROUNDING_SLACK = 1e-4  # the kernel keeps this much more than the bonus (see _rank_block)
STATS_SAMPLE = 256
# BLAS thread limits are process-wide: two rounds at once must not restore each other's limit
_ONE_BLAS_THREAD = threading.Lock()

# Everyday listings of industrial firms on unrelated topics: the model's reference statistics
# (mean vector per language, a need's similarity to offers that do not fit) for small pools.
REFERENCE_TEXTS = {
    "de": [
        "Wir suchen einen Lieferanten für Verpackungsmaterial wie Kartons und Stretchfolie.",
        "Wir bieten die Reinigung von Produktionshallen und Industrieanlagen im Schichtbetrieb an.",
        "Gesucht wird ein Dienstleister für die Kalibrierung unserer Messmittel.",
        "Wir übernehmen die Ortung von Druckluftleckagen und senken so Ihre Energiekosten.",
        "Für unsere Werkskantine suchen wir einen Caterer mit Frühstück und Mittagessen.",
        "Wir vermitteln Montagehelfer und Elektriker in Arbeitnehmerüberlassung.",
        "Wir suchen Beratung zur Arbeitssicherheit und zur Gefährdungsbeurteilung.",
        "Unser Betrieb bietet Pulverbeschichtung von Stahl- und Aluminiumteilen an.",
        "Wir suchen einen Partner für die Wartung unserer Hallentore und Rampen.",
        "Wir bieten Fotografie und Filmproduktion für Industrie- und Recruitingvideos.",
    ],
    "en": [
        "We are looking for a supplier of packaging material such as boxes and stretch film.",
        "We clean production halls and industrial equipment around the clock.",
        "We need a service provider to calibrate our measuring equipment.",
        "We find compressed air leaks in your plant and cut your energy bill.",
        "Our works canteen needs a caterer for breakfast and lunch.",
        "We provide temporary assembly workers and electricians.",
        "We are looking for advice on occupational safety and risk assessments.",
        "Our shop offers powder coating of steel and aluminium parts.",
        "We need a partner to maintain our hall doors and loading ramps.",
        "We produce photos and films for industrial and recruiting videos.",
    ],
}


@dataclass(frozen=True)
class Weights:
    """How the components add up; defaults come from Settings (chosen by bench/quality.py)."""

    semantic: float = 0.5
    lexical: float = 0.4
    tags: float = 0.1
    cross_cluster: float = 0.05
    kmu: float = 0.02
    reciprocity: float = 0.05

    @classmethod
    def from_settings(cls, settings: object) -> Weights:
        return cls(
            semantic=float(getattr(settings, "weight_semantic", cls.semantic)),
            lexical=float(getattr(settings, "weight_lexical", cls.lexical)),
            tags=float(getattr(settings, "weight_tags", cls.tags)),
            cross_cluster=float(getattr(settings, "cross_cluster_bonus", cls.cross_cluster)),
            kmu=float(getattr(settings, "kmu_bonus", cls.kmu)),
            reciprocity=float(getattr(settings, "reciprocity_bonus", cls.reciprocity)),
        )


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


@dataclass
class Scored:
    """One need↔offer pair with every component of its score (positions into the pool)."""

    need: int
    offer: int
    score: float
    semantic: float
    lexical: float
    tags: float
    cross_cluster: float
    kmu: float
    reciprocity: float = 0.0
    components: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, float]:
        return {
            "semantic": round(self.semantic, 4),
            "lexical": round(self.lexical, 4),
            "tags": round(self.tags, 4),
            "cross_cluster": round(self.cross_cluster, 4),
            "kmu": round(self.kmu, 4),
            "reciprocity": round(self.reciprocity, 4),
        }


@dataclass(frozen=True)
class Reference:
    """A model's reference statistics: language mean vectors and unrelated-pair cosines."""

    mean: dict[str, np.ndarray]
    cos_mean: float
    cos_std: float


@lru_cache(maxsize=8)
def _reference_for(embedder: Embedder) -> Reference:
    vectors = {lang: embedder.encode(texts) for lang, texts in REFERENCE_TEXTS.items()}
    mean = {lang: v.mean(axis=0) for lang, v in vectors.items()}
    overall = np.mean(list(mean.values()), axis=0)
    centred = normalise(np.vstack([v - (mean[lang] - overall) for lang, v in vectors.items()]))
    cos = centred @ centred.T
    others = ~np.eye(len(cos), dtype=bool)
    rows = [cos[i][others[i]] for i in range(len(cos))]
    # within-row statistics: what one need's cosines to unrelated offers look like
    return Reference(
        mean=mean,
        cos_mean=float(np.mean([r.mean() for r in rows])),
        cos_std=float(np.sqrt(np.mean([r.var() for r in rows]))),
    )


def reference(embedder: Embedder) -> Reference:
    """Reference statistics of `embedder`, computed once per process (16 short texts)."""
    return _reference_for(embedder)


def centre_languages(vectors: np.ndarray, languages: Sequence[str], ref: Reference) -> np.ndarray:
    """Removes each language's offset from the overall mean, then renormalises.

    A language's mean over the pool is shrunk towards the model's reference mean, so a pool
    with one English listing does not subtract that listing from itself.
    """
    if len(vectors) == 0:
        return vectors
    langs = np.asarray(languages)
    means: dict[str, np.ndarray] = {}
    for lang in sorted(set(languages)):
        rows = vectors[langs == lang]
        prior = ref.mean.get(lang, vectors.mean(axis=0))
        means[lang] = (rows.sum(axis=0) + PRIOR_WEIGHT * prior) / (len(rows) + PRIOR_WEIGHT)
    overall = np.mean(list(means.values()), axis=0)
    shifted = vectors.copy()
    for lang, mean in means.items():
        shifted[langs == lang] -= (mean - overall).astype(np.float32)
    return normalise(shifted)


@dataclass
class Ranking:
    """Ranked need↔offer pairs as parallel arrays, grouped by need, best first per need.

    `need` and `offer` are positions into `Pool.needs` / `Pool.offers`.
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

    def by_need(self) -> dict[int, list[Scored]]:
        grouped: dict[int, list[Scored]] = {}
        for scored in self.pairs():
            grouped.setdefault(scored.need, []).append(scored)
        return grouped

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


def _sorted_by_need(ranking: Ranking) -> Ranking:
    """By need, best score first within a need (one float sort instead of a lexsort)."""
    spread = float(np.abs(ranking.score).max(initial=0.0)) * 2 + 1
    order = np.argsort(ranking.need * spread - ranking.score.astype(np.float64), kind="stable")
    return ranking.take(order)


def _position_in_group(groups: np.ndarray) -> np.ndarray:
    """0, 1, 2, … within each run of equal values of a sorted array."""
    if len(groups) == 0:
        return np.zeros(0, np.int64)
    starts = np.r_[0, np.flatnonzero(np.diff(groups)) + 1]
    lengths = np.diff(np.r_[starts, len(groups)])
    return np.arange(len(groups)) - np.repeat(starts, lengths)


def rowwise_dot(
    left: sparse.csr_matrix, left_rows: np.ndarray, right: sparse.csr_matrix, right_rows: np.ndarray
) -> np.ndarray:
    """left[left_rows[p]] · right[right_rows[p]] for every p (sparse rows)."""
    product = left[left_rows].multiply(right[right_rows])
    return np.asarray(product.sum(axis=1), dtype=np.float32).ravel()


def _cores() -> int:
    """CPU cores this process may run on (a container's limit, not the host's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _positions_by(keys: np.ndarray) -> dict[int, np.ndarray]:
    if keys.size == 0:  # np.split of an empty array still yields one (empty) part
        return {}
    order = np.argsort(keys, kind="stable")
    values, starts = np.unique(keys[order], return_index=True)
    return {int(v): part for v, part in zip(values, np.split(order, starts[1:]), strict=True)}


@dataclass(frozen=True)
class _Scores:
    """A block as `Pool._block` leaves it."""

    values: np.ndarray  # (needs, offers): score minus `constant`, the lexical part still missing
    constant: np.ndarray  # per need


class _Scratch:
    """One worker's buffers, reused for every block (fresh ones per block cost page faults).

    `product` receives a block's scores; `lexical` and `touched` are the kernel's per-need
    scratch space (all zeros between needs).
    """

    def __init__(self, rows: int, offers: int) -> None:
        self.product = np.empty((rows, offers), np.float32)
        self.lexical = np.zeros(offers, np.float32)
        self.touched = np.empty(offers, np.int64)


class Pool:
    """Active needs and offers in memory: vectors, lexical rows, tags, clusters, orgs.

    `rank` ranks offers for needs (the full round, the dry run, a new need);
    `rank_needs_for_offer` ranks needs for one offer (a new offer). Both give the same
    score for the same pair.
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
        min_score: float = 0.35,
    ) -> None:
        self.needs = list(needs)
        self.offers = list(offers)
        self.weights = weights
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
        self.lexicon = LexicalIndex([i.text for i in self.needs] + [i.text for i in self.offers])
        self.need_lex = sparse.csr_matrix(self.lexicon.matrix[: len(self.needs)])
        self.offer_lex = sparse.csr_matrix(self.lexicon.matrix[len(self.needs) :])
        self.offer_lex_t = sparse.csr_matrix(self.offer_lex.T)
        self.need_tags, self.offer_tags = self._tag_matrices()
        self.need_cluster = np.array([i.cluster_id for i in self.needs], dtype=np.int64)
        self.offer_cluster = np.array([i.cluster_id for i in self.offers], dtype=np.int64)
        self.need_org = np.array([i.organization_id for i in self.needs], dtype=np.int64)
        self.offer_org = np.array([i.organization_id for i in self.offers], dtype=np.int64)
        self.need_kmu = np.array([i.kmu for i in self.needs], dtype=np.float32)
        self.offer_kmu = np.array([i.kmu for i in self.offers], dtype=np.float32)
        self.need_position = {item.id: n for n, item in enumerate(self.needs)}
        self.offer_position = {item.id: n for n, item in enumerate(self.offers)}
        m = len(self.offers)
        self.stats_columns = np.linspace(0, m - 1, min(m, STATS_SAMPLE)).round().astype(np.int64)
        self.stats_sample = np.ascontiguousarray(self.offer_vectors[self.stats_columns])
        self._need_stats: tuple[np.ndarray, np.ndarray] | None = None
        clusters = sorted(set(self.need_cluster.tolist()) | set(self.offer_cluster.tolist()))
        cluster_index = {c: n for n, c in enumerate(clusters)}
        self.cluster_onehot = np.eye(max(len(clusters), 1), dtype=np.float32)
        self.need_cluster_index = np.array(
            [cluster_index[c] for c in self.need_cluster.tolist()], dtype=np.int64
        )
        offer_cluster_index = np.array(
            [cluster_index[c] for c in self.offer_cluster.tolist()], dtype=np.int64
        )
        # the offers' side of the block product: [vector | tags | cluster one-hot | KMU]
        dim, tags = self.offer_vectors.shape[1], self.offer_tags.shape[1]
        self.offer_aug = np.zeros((m, dim + tags + self.cluster_onehot.shape[1] + 1), np.float32)
        self.offer_aug[:, :dim] = self.offer_vectors
        self.offer_aug[:, dim : dim + tags] = self.offer_tags
        self.offer_aug[:, dim + tags : -1] = self.cluster_onehot[offer_cluster_index]
        self.offer_aug[:, -1] = self.offer_kmu
        self.offer_aug_t = np.ascontiguousarray(self.offer_aug.T)  # BLAS is fastest on this
        self.needs_by_org: dict[int, np.ndarray] = _positions_by(self.need_org)
        self.offers_by_org: dict[int, np.ndarray] = _positions_by(self.offer_org)

    def _tag_matrices(self) -> tuple[np.ndarray, np.ndarray]:
        vocabulary: dict[str, int] = {}
        for item in [*self.needs, *self.offers]:
            for tag in item.tags:
                vocabulary.setdefault(tag.strip().lower(), len(vocabulary))

        def matrix(items: list[Item]) -> np.ndarray:
            out = np.zeros((len(items), max(len(vocabulary), 1)), dtype=np.float32)
            for row, item in enumerate(items):
                for tag in item.tags:
                    out[row, vocabulary[tag.strip().lower()]] = 1.0
            return normalise(out)

        return matrix(self.needs), matrix(self.offers)

    # ---- statistics ---------------------------------------------------------------------

    def _shrink(self, mean: np.ndarray, var: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        prior_mean, prior_var = self.reference.cos_mean, self.reference.cos_std**2
        mean = (n * mean + PRIOR_WEIGHT * prior_mean) / (n + PRIOR_WEIGHT)
        var = (n * var + PRIOR_WEIGHT * prior_var) / (n + PRIOR_WEIGHT)
        return mean.astype(np.float32), np.sqrt(np.maximum(var, 1e-6)).astype(np.float32)

    def _stats_for(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Median and MAD-based σ of each need's cosines to a fixed sample of ≤ 256 offers
        (robust: a need's few fitting offers do not count), shrunk towards the reference."""
        n = len(self.stats_columns)
        if n == 0:
            zeros = np.zeros(len(rows), np.float32)
            return self._shrink(zeros, zeros, 0)
        sample = self.need_vectors[rows] @ self.stats_sample.T
        middle = (n - 1) // 2
        median = np.partition(sample, middle, axis=1)[:, middle]
        deviation = np.abs(sample - median[:, None])
        mad = np.partition(deviation, middle, axis=1)[:, middle]
        return self._shrink(median, (1.4826 * mad) ** 2, n)

    def need_stats(self) -> tuple[np.ndarray, np.ndarray]:
        """μ, σ of every need, computed once per pool (the same numbers `rank` uses)."""
        if self._need_stats is None:
            parts = [
                self._stats_for(np.arange(start, min(start + BLOCK_ROWS, len(self.needs))))
                for start in range(0, len(self.needs), BLOCK_ROWS)
            ]
            self._need_stats = (
                np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.float32),
                np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.float32),
            )
        return self._need_stats

    # ---- scoring ------------------------------------------------------------------------

    def _pairs(
        self,
        need: np.ndarray,
        offer: np.ndarray,
        cos: np.ndarray,
        lexical: np.ndarray,
        mean: np.ndarray,
        std: np.ndarray,
    ) -> Ranking:
        """Every component for the given pairs (reciprocity still zero)."""
        w = self.weights
        semantic = (cos - mean) / (SEMANTIC_Z * std)
        tags = np.einsum("pt,pt->p", self.need_tags[need], self.offer_tags[offer])
        cross = np.where(self.need_cluster[need] != self.offer_cluster[offer], w.cross_cluster, 0)
        kmu = w.kmu * (self.need_kmu[need] + self.offer_kmu[offer]) / 2
        score = w.semantic * semantic + w.lexical * lexical + w.tags * tags + cross + kmu
        f32 = np.float32
        return Ranking(
            need=need.astype(np.int64),
            offer=offer.astype(np.int64),
            score=score.astype(f32),
            semantic=semantic.astype(f32),
            lexical=lexical.astype(f32),
            tags=tags.astype(f32),
            cross_cluster=cross.astype(f32),
            kmu=kmu.astype(f32),
            reciprocity=np.zeros(len(need), f32),
        )

    def _block(self, rows: np.ndarray, scratch: _Scratch) -> _Scores:
        """Dense scores of needs `rows` × all offers, minus a per-need constant.

        One matrix product carries the scaled semantic part, tags, the same-cluster
        correction and the offer's KMU share; the lexical part is added by the kernel.
        """
        w = self.weights
        mean, std = self._stats_for(rows)
        scale = (w.semantic / (SEMANTIC_Z * std)).astype(np.float32)
        n = len(rows)
        left = np.empty((n, self.offer_aug.shape[1]), dtype=np.float32)
        dim = self.need_vectors.shape[1]
        left[:, :dim] = self.need_vectors[rows] * scale[:, None]
        tags_end = dim + self.need_tags.shape[1]
        left[:, dim:tags_end] = w.tags * self.need_tags[rows]
        clusters_end = tags_end + self.cluster_onehot.shape[1]
        left[:, tags_end:clusters_end] = (
            -w.cross_cluster * self.cluster_onehot[self.need_cluster_index[rows]]
        )
        left[:, clusters_end] = w.kmu / 2
        block = np.matmul(left, self.offer_aug_t, out=scratch.product[:n])
        constant = -scale * mean + w.cross_cluster + w.kmu / 2 * self.need_kmu[rows]
        return _Scores(block, constant)

    def _rank_block(self, rows: np.ndarray, top_k: int, scratch: _Scratch) -> Ranking:
        """Top offers of other organizations for a block of needs, exactly.

        Keeps every pair within reciprocity of its need's k-th best (it can still reach the
        top `top_k` once reciprocity is added). The kernel's cut-off is a little wider than
        that, so that rounding in `value + constant` cannot drop a pair; the exact cut is made
        here on the scores.
        """
        w = self.weights
        scores = self._block(rows, scratch)
        cand_r, cand_c, value, lexical = kernels.block_candidates(
            scores.values,
            rows,
            self.need_org,
            self.offer_org,
            (self.need_lex.indptr, self.need_lex.indices, self.need_lex.data),
            (self.offer_lex_t.indptr, self.offer_lex_t.indices, self.offer_lex_t.data),
            np.float32(w.lexical),
            top_k,
            np.float32(w.reciprocity + ROUNDING_SLACK),
            scratch.lexical,
            scratch.touched,
        )
        ranking = self._candidates(rows, cand_r, cand_c, value, lexical, scores.constant)
        ranking, kth_score = self._kth_scores(ranking, len(rows), top_k)
        ranking = ranking.take(ranking.score >= kth_score[ranking.need] - w.reciprocity)
        ranking.need = rows[ranking.need]
        return ranking

    @staticmethod
    def _kth_scores(ranking: Ranking, n: int, top_k: int) -> tuple[Ranking, np.ndarray]:
        """`ranking` by need, best first, and each block row's `top_k`-th best score in it
        (−∞ for a row with fewer pairs)."""
        ranking = _sorted_by_need(ranking)
        position = _position_in_group(ranking.need)
        kth_score = np.full(n, -np.inf, dtype=np.float32)
        at_k = position == top_k - 1
        kth_score[ranking.need[at_k]] = ranking.score[at_k]
        return ranking, kth_score

    def _candidates(
        self,
        rows: np.ndarray,
        cand_r: np.ndarray,
        cand_c: np.ndarray,
        value: np.ndarray,
        lexical: np.ndarray,
        constant: np.ndarray,
    ) -> Ranking:
        """Components of candidate pairs (block row, offer column), read out of their value."""
        w = self.weights
        need = rows[cand_r]
        tags = np.einsum("pt,pt->p", self.need_tags[need], self.offer_tags[cand_c])
        same = self.need_cluster[need] == self.offer_cluster[cand_c]
        score = value + constant[cand_r]
        scaled_semantic = (
            value
            - w.lexical * lexical
            - w.tags * tags
            + w.cross_cluster * same
            - w.kmu / 2 * self.offer_kmu[cand_c]
        )
        if w.semantic:  # scale·(cos − μ) = scale·cos + (constant − cross − kmu/2·need_kmu)
            offset = constant[cand_r] - w.cross_cluster - w.kmu / 2 * self.need_kmu[need]
            semantic = (scaled_semantic + offset) / w.semantic
        else:
            semantic = np.zeros(len(need), dtype=np.float32)
        f32 = np.float32
        return Ranking(
            need=cand_r,  # block rows until the caller maps them back
            offer=cand_c,
            score=score.astype(f32),
            semantic=semantic.astype(f32),
            lexical=lexical,
            tags=tags.astype(f32),
            cross_cluster=np.where(same, 0.0, w.cross_cluster).astype(f32),
            kmu=(w.kmu * (self.need_kmu[need] + self.offer_kmu[cand_c]) / 2).astype(f32),
            reciprocity=np.zeros(len(need), f32),
        )

    def _block_rows(self) -> int:
        """Needs per block: BLOCK_ROWS, fewer when a worker's product buffer would pass
        BLOCK_BYTES (at 100k offers a block of 1024 needs would take 400 MB per worker)."""
        per_row = 4 * self.offer_aug_t.shape[1]
        return min(BLOCK_ROWS, max(64, BLOCK_BYTES // per_row))

    def _blocks(self, rows: np.ndarray) -> list[np.ndarray]:
        """`rows` in blocks of at most `_block_rows()`, as many per core and of equal size (at
        10k needs: 10 blocks of 1,000, not 9 of 1,024 and one of 784, which left one core
        240 rows behind the other)."""
        count = -(-len(rows) // self._block_rows())
        cores = min(_cores(), count)
        count = -(-count // cores) * cores
        return [part for part in np.array_split(rows, count) if len(part)]

    def _rank_blocks(self, blocks: list[np.ndarray], top_k: int) -> list[Ranking]:
        """`_rank_block` for every block, one block per core, in block order.

        The matrix product is most of a round, and BLAS would spread it over every core, but
        the rest of a block (statistics, the kernel, the candidates' components) runs on one.
        With several blocks, each core takes whole blocks with single-threaded BLAS, so no core
        waits for that single-threaded rest. Each worker reuses one `_Scratch`.
        """
        workers = min(_cores(), len(blocks))

        def work(numbers: range) -> list[tuple[int, Ranking]]:
            scratch = _Scratch(len(blocks[0]), len(self.offers))
            return [(n, self._rank_block(blocks[n], top_k, scratch)) for n in numbers]

        if workers <= 1:
            return [ranking for _, ranking in work(range(len(blocks)))]
        shares = [range(first, len(blocks), workers) for first in range(workers)]
        with (
            _ONE_BLAS_THREAD,
            threadpool_limits(1, user_api="blas"),
            ThreadPoolExecutor(workers, thread_name_prefix="rank") as executor,
        ):
            done = [pair for share in executor.map(work, shares) for pair in share]
        return [ranking for _, ranking in sorted(done, key=lambda pair: pair[0])]

    def rank(self, *, top_k: int, need_positions: Iterable[int] | None = None) -> Ranking:
        """The best `top_k` offers of other organizations per need, exact, best first.

        Reciprocity: a pair (A needs, B offers) gets its bonus when one of B's needs fits one
        of A's offers with at least `min_score`. Ranking all needs reads that off the other
        needs' candidates; ranking a few needs scores B's needs × A's offers directly.
        """
        everyone = need_positions is None
        rows_all = (
            np.arange(len(self.needs)) if everyone else np.fromiter(need_positions, dtype=np.int64)
        )
        if top_k <= 0 or len(rows_all) == 0 or len(self.offers) == 0:
            return Ranking.concat([])
        ranking = Ranking.concat(self._rank_blocks(self._blocks(rows_all), top_k))
        if everyone:
            self._reciprocity_from(ranking)
        else:
            self._reciprocity_direct(ranking)
        ranking = _sorted_by_need(ranking)
        return ranking.take(_position_in_group(ranking.need) < top_k)

    def rank_needs_for_offer(self, offer: int, *, top_k: int) -> Ranking:
        """The best `top_k` needs of other organizations for one offer (a new offer)."""
        if top_k <= 0 or len(self.needs) == 0:
            return Ranking.concat([])
        w = self.weights
        mean, std = self.need_stats()
        cos = self.need_vectors @ self.offer_vectors[offer]
        lexical = (self.need_lex @ self.offer_lex[offer].T).toarray().ravel()
        tags = self.need_tags @ self.offer_tags[offer]
        same = self.need_cluster == self.offer_cluster[offer]
        score = (
            w.semantic * (cos - mean) / (SEMANTIC_Z * std)
            + w.lexical * lexical
            + w.tags * tags
            + np.where(same, 0.0, w.cross_cluster)
            + w.kmu * (self.need_kmu + self.offer_kmu[offer]) / 2
        )
        score[self.need_org == self.offer_org[offer]] = -np.inf
        valid = int(np.isfinite(score).sum())
        if valid == 0:
            return Ranking.concat([])
        k = min(top_k, valid)
        kth = np.partition(score, len(score) - k)[len(score) - k]
        needs = np.flatnonzero(score >= kth - w.reciprocity)
        ranking = self._pairs(
            needs, np.full(len(needs), offer), cos[needs], lexical[needs], mean[needs], std[needs]
        )
        self._reciprocity_direct(ranking)
        return ranking.take(np.argsort(-ranking.score, kind="stable")[:top_k])

    def _reciprocity_from(self, ranking: Ranking) -> None:
        bonus = self.weights.reciprocity
        if not bonus or len(ranking) == 0:
            return
        both_ways = kernels.mutual(
            self.need_org[ranking.need],
            self.offer_org[ranking.offer],
            ranking.score >= self.min_score,
        )
        ranking.reciprocity[both_ways] = bonus
        ranking.score[both_ways] += bonus

    def _reciprocity_direct(self, ranking: Ranking) -> None:
        """For a few pairs: does one of B's needs fit one of A's offers with min_score?

        All organization pairs are scored in one batch (B's needs × A's offers each).
        """
        bonus = self.weights.reciprocity
        if not bonus or len(ranking) == 0:
            return
        mean, std = self.need_stats()
        a_orgs = self.need_org[ranking.need]
        b_orgs = self.offer_org[ranking.offer]
        org_pairs = sorted(set(zip(a_orgs.tolist(), b_orgs.tolist(), strict=True)))
        need_parts, offer_parts, owner_parts = [], [], []
        empty = np.zeros(0, np.int64)
        for number, (a, b) in enumerate(org_pairs):
            rows, cols = self.needs_by_org.get(b, empty), self.offers_by_org.get(a, empty)
            need_parts.append(np.repeat(rows, len(cols)))
            offer_parts.append(np.tile(cols, len(rows)))
            owner_parts.append(np.full(len(rows) * len(cols), number))
        need, offer = np.concatenate(need_parts), np.concatenate(offer_parts)
        if len(need) == 0:
            return
        cos = np.einsum("pd,pd->p", self.need_vectors[need], self.offer_vectors[offer])
        lexical = rowwise_dot(self.need_lex, need, self.offer_lex, offer)
        scores = self._pairs(need, offer, cos, lexical, mean[need], std[need]).score
        owner = np.concatenate(owner_parts)
        fits = np.zeros(len(org_pairs), dtype=bool)
        fits[owner[scores >= self.min_score]] = True
        mutual = {pair for pair, ok in zip(org_pairs, fits.tolist(), strict=True) if ok}
        for i, pair in enumerate(zip(a_orgs.tolist(), b_orgs.tolist(), strict=True)):
            if pair in mutual:
                ranking.reciprocity[i] = bonus
                ranking.score[i] += bonus

    def shared_terms(self, need: int, offer: int, language: str, limit: int = 4) -> list[str]:
        """Key terms the need and the offer both name, in the reader's language."""
        return self.lexicon.shared_terms(need, len(self.needs) + offer, language, limit)


def warm_up() -> None:
    """Ranks a pool of two needs and two offers, so the kernels of `matching.kernels` are
    compiled (first run after an install, ~5 s) or loaded from numba's cache before the first
    real round or posted listing of a process needs them. Goes the same way as a real round,
    so the argument types, and with them the compiled versions, are the same."""
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
        weights=Weights(),
        reference=Reference(mean={}, cos_mean=0.0, cos_std=0.1),
        min_score=-1.0,
    )
    pool.rank(top_k=1)
