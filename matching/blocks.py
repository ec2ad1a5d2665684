"""The block path of `Pool.rank`: every need × every offer, one matrix product per block of needs.

For need i and offer j, `matching.score.combine` without reciprocity is

    score_ij = constant_i + left_i · right_j + c_lexical · lexical_ij

    left_i     = [ scale_i · v_i | c_tags · t_i | −c_cross_cluster · onehot(cluster_i) | c_kmu / 2 ]
    right_j    = [ v_j           | t_j          | onehot(cluster_j)                    | kmu_j     ]
    constant_i = −scale_i · μ_i + c_cross_cluster + c_kmu / 2 · kmu_i
    scale_i    = c_semantic / (SEMANTIC_Z · σ_i)

with each component factorised (semantic = scale · cos − scale · μ as `standardise` has it,
tags = t_i · t_j, cross_cluster = 1 − onehot_i · onehot_j, kmu = kmu_i / 2 + kmu_j / 2) and
the coefficients c taken from `matching.score.coefficients`. `matching.kernels.block_candidates`
adds the sparse lexical part row by row and keeps every offer within the reciprocity bonus of
the need's k-th best. The candidates' other components are then computed pair by pair
(`Pool.parts`), and their semantic component solved from the score by `combine`.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from threadpoolctl import threadpool_limits

from matching import kernels
from matching.ranking import Ranking, position_in_group, sorted_by_need
from matching.score import combine
from matching.semantic import SEMANTIC_Z, standardise

if TYPE_CHECKING:
    from matching.scoring import Pool

BLOCK_ROWS = 1024
BLOCK_BYTES = 192 * 2**20  # one worker's product buffer at most, for large pools
ROUNDING_SLACK = 1e-4  # the kernel keeps this much more than the bonus (see `_rank_block`)
# BLAS thread limits are process-wide: two rounds at once must not restore each other's limit
_ONE_BLAS_THREAD = threading.Lock()


def cores() -> int:
    """CPU cores this process may run on (a container's limit, not the host's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class OfferSide:
    """The offers' side of the block product (`right`, transposed: BLAS is fastest on it) and
    each need's cluster column in it; built once per pool."""

    def __init__(self, pool: Pool) -> None:
        clusters = sorted(set(pool.need_cluster.tolist()) | set(pool.offer_cluster.tolist()))
        column = {c: n for n, c in enumerate(clusters)}
        self.onehot = np.eye(max(len(clusters), 1), dtype=np.float32)
        self.need_cluster = np.array([column[c] for c in pool.need_cluster.tolist()], np.int64)
        offer_cluster = np.array([column[c] for c in pool.offer_cluster.tolist()], np.int64)
        dim, tags = pool.offer_vectors.shape[1], pool.offer_tags.shape[1]
        right = np.zeros((len(pool.offers), dim + tags + len(self.onehot) + 1), np.float32)
        right[:, :dim] = pool.offer_vectors
        right[:, dim : dim + tags] = pool.offer_tags
        right[:, dim + tags : -1] = self.onehot[offer_cluster]
        right[:, -1] = pool.offer_kmu
        self.right_t = np.ascontiguousarray(right.T)

    @property
    def width(self) -> int:
        """Columns of one block row: one per offer."""
        return self.right_t.shape[1]


class Scratch:
    """One worker's buffers, reused for every block (fresh ones per block cost page faults).

    `product` receives a block's scores; `lexical` and `touched` are the kernel's per-need
    scratch space (all zeros between needs).
    """

    def __init__(self, rows: int, offers: int) -> None:
        self.product = np.empty((rows, offers), np.float32)
        self.lexical = np.zeros(offers, np.float32)
        self.touched = np.empty(offers, np.int64)


def _block(pool: Pool, rows: np.ndarray, scratch: Scratch) -> tuple[np.ndarray, np.ndarray]:
    """Scores of needs `rows` × all offers without their lexical part, minus a per-need
    constant: (block, constant), by the layout in the module docstring."""
    c, side = pool.coefficients, pool.offer_side
    mean, std = pool.statistics.of(rows)
    scale = (c.semantic / (SEMANTIC_Z * std)).astype(np.float32)
    left = np.empty((len(rows), side.right_t.shape[0]), dtype=np.float32)
    dim = pool.need_vectors.shape[1]
    tags_end = dim + pool.need_tags.shape[1]
    clusters_end = tags_end + side.onehot.shape[1]
    left[:, :dim] = pool.need_vectors[rows] * scale[:, None]
    left[:, dim:tags_end] = c.tags * pool.need_tags[rows]
    left[:, tags_end:clusters_end] = -c.cross_cluster * side.onehot[side.need_cluster[rows]]
    left[:, clusters_end] = c.kmu / 2
    block = np.matmul(left, side.right_t, out=scratch.product[: len(rows)])
    constant = -scale * mean + c.cross_cluster + c.kmu / 2 * pool.need_kmu[rows]
    return block, constant


def _candidates(
    pool: Pool, need: np.ndarray, offer: np.ndarray, score: np.ndarray, lexical: np.ndarray
) -> Ranking:
    """Candidate pairs with their score from the block: every component computed as the pair
    path does, but the semantic one, which `combine` gives as what the others leave of the
    score (computed from the vectors only when its weight is 0)."""
    parts = pool.parts(need, offer, semantic=np.zeros(len(need), np.float32), lexical=lexical)
    weight = pool.coefficients.semantic
    if weight:
        semantic = (score - combine(pool.weights, parts)) / weight
    else:
        mean, std = pool.statistics.every()
        cos = np.einsum("pd,pd->p", pool.need_vectors[need], pool.offer_vectors[offer])
        semantic = standardise(cos, mean[need], std[need])
    return Ranking.of(need, offer, score, replace(parts, semantic=semantic), pool.weights)


def _kth_scores(ranking: Ranking, n: int, top_k: int) -> tuple[Ranking, np.ndarray]:
    """`ranking` by need, best first, and each block row's `top_k`-th best score in it
    (−∞ for a row with fewer pairs)."""
    ranking = sorted_by_need(ranking)
    position = position_in_group(ranking.need)
    kth_score = np.full(n, -np.inf, dtype=np.float32)
    at_k = position == top_k - 1
    kth_score[ranking.need[at_k]] = ranking.score[at_k]
    return ranking, kth_score


def _rank_block(pool: Pool, rows: np.ndarray, top_k: int, scratch: Scratch) -> Ranking:
    """Top offers of other organizations for a block of needs, exactly.

    Keeps every pair within reciprocity of its need's k-th best (it can still reach the top
    `top_k` once reciprocity is added). The kernel's cut-off is a little wider than that, so
    that rounding in `value + constant` cannot drop a pair; the exact cut is made here on the
    scores.
    """
    bonus = pool.coefficients.reciprocity
    block, constant = _block(pool, rows, scratch)
    cand_r, cand_c, value, lexical = kernels.block_candidates(
        block,
        rows,
        pool.need_org,
        pool.offer_org,
        (pool.need_lex.indptr, pool.need_lex.indices, pool.need_lex.data),
        (pool.offer_lex_t.indptr, pool.offer_lex_t.indices, pool.offer_lex_t.data),
        np.float32(pool.coefficients.lexical),
        top_k,
        np.float32(bonus + ROUNDING_SLACK),
        scratch.lexical,
        scratch.touched,
    )
    ranking = _candidates(pool, rows[cand_r], cand_c, value + constant[cand_r], lexical)
    ranking.need = cand_r  # block rows while the k-th best is found
    ranking, kth_score = _kth_scores(ranking, len(rows), top_k)
    ranking = ranking.take(ranking.score >= kth_score[ranking.need] - bonus)
    ranking.need = rows[ranking.need]
    return ranking


def block_rows(width: int) -> int:
    """Needs per block: BLOCK_ROWS, fewer when a worker's product buffer of `width` columns
    would pass BLOCK_BYTES (at 100k offers a block of 1024 needs would take 400 MB per
    worker)."""
    return min(BLOCK_ROWS, max(64, BLOCK_BYTES // (4 * width)))


def split(rows: np.ndarray, width: int) -> list[np.ndarray]:
    """`rows` in blocks of at most `block_rows(width)`, as many per core and of equal size (at
    10k needs: 10 blocks of 1,000, not 9 of 1,024 and one of 784, which left one core 240 rows
    behind the other)."""
    count = -(-len(rows) // block_rows(width))
    workers = min(cores(), count)
    count = -(-count // workers) * workers
    return [part for part in np.array_split(rows, count) if len(part)]


def rank(pool: Pool, rows: np.ndarray, top_k: int) -> Ranking:
    """`_rank_block` for every block of `rows`, one block per core, concatenated in order.

    The matrix product is most of a round, and BLAS would spread it over every core, but the
    rest of a block (statistics, the kernel, the candidates' components) runs on one. With
    several blocks, each core takes whole blocks with single-threaded BLAS, so no core waits
    for that single-threaded rest. Each worker reuses one `Scratch`.
    """
    blocks = split(rows, pool.offer_side.width)
    workers = min(cores(), len(blocks))

    def work(numbers: range) -> list[tuple[int, Ranking]]:
        scratch = Scratch(len(blocks[0]), len(pool.offers))
        return [(n, _rank_block(pool, blocks[n], top_k, scratch)) for n in numbers]

    if workers <= 1:
        return Ranking.concat([ranking for _, ranking in work(range(len(blocks)))])
    shares = [range(first, len(blocks), workers) for first in range(workers)]
    with (
        _ONE_BLAS_THREAD,
        threadpool_limits(1, user_api="blas"),
        ThreadPoolExecutor(workers, thread_name_prefix="rank") as executor,
    ):
        done = [pair for share in executor.map(work, shares) for pair in share]
    return Ranking.concat([ranking for _, ranking in sorted(done, key=lambda pair: pair[0])])
