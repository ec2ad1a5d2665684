"""The reciprocity component: a pair (A needs, B offers) gets it when one of B's needs fits one
of A's offers with at least the pool's minimum score.

A ranking of every need reads that off the other needs' candidates (`from_candidates`); a
ranking of a few needs or offers scores B's needs × A's offers directly (`direct`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from matching import kernels
from matching.ranking import Ranking

if TYPE_CHECKING:
    from matching.scoring import Pool


def rowwise_dot(
    left: sparse.csr_matrix, left_rows: np.ndarray, right: sparse.csr_matrix, right_rows: np.ndarray
) -> np.ndarray:
    """left[left_rows[p]] · right[right_rows[p]] for every p (sparse rows)."""
    product = left[left_rows].multiply(right[right_rows])
    return np.asarray(product.sum(axis=1), dtype=np.float32).ravel()


def _add(pool: Pool, ranking: Ranking, mutual: np.ndarray) -> None:
    """Sets the component to 1 for the pairs in `mutual`: the score grows by its coefficient
    in `matching.score.combine`, the shown component by its weight."""
    ranking.reciprocity[mutual] = pool.weights.reciprocity
    ranking.score[mutual] += pool.coefficients.reciprocity


def from_candidates(pool: Pool, ranking: Ranking) -> None:
    """For a ranking of every need: mutual when the other way round is a pair of `ranking`
    with at least the minimum score (every need's candidates hold every pair that can be)."""
    if not pool.coefficients.reciprocity or len(ranking) == 0:
        return
    mutual = kernels.mutual(
        pool.need_org[ranking.need],
        pool.offer_org[ranking.offer],
        ranking.score >= pool.min_score,
    )
    _add(pool, ranking, mutual)


def direct(pool: Pool, ranking: Ranking) -> None:
    """For a few pairs: does one of B's needs fit one of A's offers with the minimum score?

    All organization pairs are scored in one batch (B's needs × A's offers each).
    """
    if not pool.coefficients.reciprocity or len(ranking) == 0:
        return
    a_orgs = pool.need_org[ranking.need]
    b_orgs = pool.offer_org[ranking.offer]
    org_pairs = sorted(set(zip(a_orgs.tolist(), b_orgs.tolist(), strict=True)))
    need_parts, offer_parts, owner_parts = [], [], []
    empty = np.zeros(0, np.int64)
    for number, (a, b) in enumerate(org_pairs):
        rows, cols = pool.needs_by_org.get(b, empty), pool.offers_by_org.get(a, empty)
        need_parts.append(np.repeat(rows, len(cols)))
        offer_parts.append(np.tile(cols, len(rows)))
        owner_parts.append(np.full(len(rows) * len(cols), number))
    need, offer = np.concatenate(need_parts), np.concatenate(offer_parts)
    if len(need) == 0:
        return
    lexical = rowwise_dot(pool.need_lex, need, pool.offer_lex, offer)
    scores = pool.score_pairs(need, offer, lexical=lexical).score
    owner = np.concatenate(owner_parts)
    fits = np.zeros(len(org_pairs), dtype=bool)
    fits[owner[scores >= pool.min_score]] = True
    mutual = {pair for pair, ok in zip(org_pairs, fits.tolist(), strict=True) if ok}
    pairs = zip(a_orgs.tolist(), b_orgs.tolist(), strict=True)
    _add(pool, ranking, np.array([pair in mutual for pair in pairs], dtype=bool))
