"""`Pool.rank` is exact: split into blocks on worker threads it returns what scoring every
pair would, and the same as one block on one thread."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from bench.quality import load
from kooperation.config import load_settings
from matching import blocks, kernels, scoring
from matching.ranking import Ranking
from matching.score import Weights
from matching.scoring import Pool
from matching.semantic import reference

TOP_K = 5


@pytest.fixture(scope="module")
def labelled(embedder):
    """The bilingual labelled set (66 needs, their offers and distractors) with real vectors."""
    data = load()
    vectors = embedder.encode([i.text for i in data.needs + data.offers])
    return data, vectors[: len(data.needs)], vectors[len(data.needs) :], reference(embedder)


def make_pool(labelled, weights: Weights | None = None, organizations: int | None = None) -> Pool:
    """A pool of the labelled set; with `organizations`, its listings are dealt out to that
    many organizations, so organizations need and offer and some fit both ways."""
    data, need_vectors, offer_vectors, ref = labelled
    settings = load_settings(_env_file=None)
    needs, offers = data.needs, data.offers
    if organizations:
        needs = [replace(i, organization_id=n % organizations) for n, i in enumerate(needs)]
        offers = [replace(i, organization_id=n % organizations) for n, i in enumerate(offers)]
    return Pool(
        needs=needs,
        offers=offers,
        need_vectors=need_vectors,
        offer_vectors=offer_vectors,
        weights=weights or Weights.from_settings(settings),
        reference=ref,
        min_score=settings.match_min_score,
    )


@pytest.fixture
def small_blocks_on_two_threads(monkeypatch):
    """Blocks of 16 needs on two workers, so each worker reuses its buffers for several blocks."""
    monkeypatch.setattr(blocks, "BLOCK_ROWS", 16)
    monkeypatch.setattr(blocks, "cores", lambda: 2)


def every_pair(pool: Pool) -> Ranking:
    """Every need × offer of another organization, scored one component at a time."""
    n, m = len(pool.needs), len(pool.offers)
    need, offer = np.repeat(np.arange(n), m), np.tile(np.arange(m), n)
    other = pool.need_org[need] != pool.offer_org[offer]
    need, offer = need[other], offer[other]
    return pool.score_pairs(need, offer)


def best_per_need(ranking: Ranking, top_k: int) -> dict[int, list[tuple[int, float]]]:
    best: dict[int, list[tuple[int, float]]] = {}
    for scored in ranking.pairs():
        best.setdefault(scored.need, []).append((scored.offer, scored.score))
    return {need: sorted(pairs, key=lambda pair: -pair[1])[:top_k] for need, pairs in best.items()}


def with_reciprocity(pool: Pool, scored: Ranking, top_k: int) -> Ranking:
    """The documented rule, pair by pair: a need's candidates are the pairs within the bonus
    of its k-th best; a candidate (A needs, B offers) gets the bonus when one of B's needs has
    one of A's offers among its candidates with at least the minimum score."""
    bonus = pool.weights.reciprocity
    kth = {need: pairs[-1][1] for need, pairs in best_per_need(scored, top_k).items()}
    candidate = np.array(
        [s >= kth[n] - bonus for n, s in zip(scored.need, scored.score, strict=True)]
    )
    scored = scored.take(candidate)
    a, b = pool.need_org[scored.need], pool.offer_org[scored.offer]
    strong = scored.score >= pool.min_score
    fits = set(zip(a[strong].tolist(), b[strong].tolist(), strict=True))
    mutual = np.array([(y, x) in fits for x, y in zip(a.tolist(), b.tolist(), strict=True)])
    scored.reciprocity[mutual] = bonus
    scored.score[mutual] += bonus
    return scored


@pytest.mark.usefixtures("small_blocks_on_two_threads")
def test_blocks_on_threads_find_the_exact_top_k(labelled):
    # listings dealt out to 12 organizations: organizations need and offer, some fit both ways,
    # and a need's own organization often holds offers among its best (which do not count)
    pool = make_pool(labelled, organizations=12)
    ranked = pool.rank(top_k=TOP_K)
    expected = best_per_need(with_reciprocity(pool, every_pair(pool), TOP_K), TOP_K)

    assert ranked.reciprocity.max() > 0
    got = best_per_need(ranked, TOP_K)
    assert got.keys() == expected.keys()
    for need, pairs in expected.items():
        assert [offer for offer, _ in got[need]] == [offer for offer, _ in pairs], need
        # float32 dot products summed in another order (blocks, threads, the CPU's BLAS
        # kernel) differ in the fifth decimal; the order above is what must be exact
        np.testing.assert_allclose(
            [score for _, score in got[need]], [score for _, score in pairs], atol=1e-4
        )


def test_blocks_on_threads_rank_like_one_block_on_one_thread(labelled, monkeypatch):
    pool = make_pool(labelled, organizations=12)
    whole = pool.rank(top_k=TOP_K)
    monkeypatch.setattr(blocks, "BLOCK_ROWS", 16)
    monkeypatch.setattr(blocks, "cores", lambda: 2)
    split = pool.rank(top_k=TOP_K)

    np.testing.assert_array_equal(split.need, whole.need)
    np.testing.assert_array_equal(split.offer, whole.offer)
    # BLAS sums a block's products in an order that depends on the block's shape: scores agree
    # to float32 rounding, and `semantic`, read back out of the score (÷ its weight), to ~2e-5
    for component in ("score", "semantic", "lexical", "tags", "reciprocity"):
        np.testing.assert_allclose(
            getattr(split, component), getattr(whole, component), atol=1e-4, err_msg=component
        )


def test_block_rows_shrink_for_large_offer_pools(labelled):
    pool = make_pool(labelled)
    assert blocks.block_rows(pool.offer_side.width) == blocks.BLOCK_ROWS
    rows = blocks.block_rows(100_000)
    assert 64 <= rows < blocks.BLOCK_ROWS
    assert 4 * 100_000 * rows <= blocks.BLOCK_BYTES


@pytest.mark.parametrize(("needs", "cores"), [(10_000, 2), (25_000, 2), (66, 2), (3, 4), (1, 2)])
def test_blocks_give_every_core_an_equal_share(labelled, monkeypatch, needs, cores):
    monkeypatch.setattr(blocks, "cores", lambda: cores)
    pool = make_pool(labelled)
    parts = blocks.split(np.arange(needs), pool.offer_side.width)

    np.testing.assert_array_equal(np.concatenate(parts), np.arange(needs))
    sizes = [len(b) for b in parts]
    assert max(sizes) <= blocks.BLOCK_ROWS and max(sizes) - min(sizes) <= 1
    assert len(parts) % min(cores, len(parts)) == 0


def test_warm_up_compiles_what_a_round_uses(labelled):
    """A real round first, so its versions exist; the warm-up must not need another one."""
    make_pool(labelled).rank(top_k=TOP_K)
    compiled = (kernels.block_candidates.signatures, kernels.mutual.signatures)
    scoring.warm_up()
    assert (kernels.block_candidates.signatures, kernels.mutual.signatures) == compiled
