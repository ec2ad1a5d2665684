"""The score is defined once (`matching.score.combine`): the block path, the candidates'
components read back out of it, the direct reciprocity and the pair path all give what
`combine` gives for the components computed one by one from their definitions."""

from __future__ import annotations

import inspect
from dataclasses import MISSING, fields

import numpy as np
import pytest

from kooperation.config import load_settings
from matching import blocks, score
from matching.embedders import normalise
from matching.ranking import Ranking
from matching.score import COMPONENTS, Parts, Weights, coefficients, combine, shown
from matching.scoring import Item, Pool
from matching.semantic import Reference, standardise

TOP_K = 6
VOCABULARY = [f"wort{n}" for n in range(150)] + ["TISAX", "ADR", "Batterie", "Kühlkette"]
TAGS = ["battery", "logistics", "software", "ai", "security"]


def random_weights(rng: np.random.Generator, **fixed: float) -> Weights:
    drawn = {name: float(rng.uniform(0.2, 1.0)) for name in ("semantic", "lexical", "tags")}
    drawn |= {name: float(rng.uniform(0.01, 0.1)) for name in ("cross_cluster", "kmu")}
    drawn["reciprocity"] = float(rng.uniform(0.02, 0.1))
    return Weights(**(drawn | fixed))


def random_pool(seed: int, weights: Weights) -> Pool:
    """Needs and offers of a few dozen organizations in three clusters: vectors around a few
    topics, texts from a small vocabulary (so lexical scores are not all zero), random tags,
    languages and sizes. The minimum score is the median candidate's, so reciprocity occurs."""
    rng = np.random.default_rng(seed)
    n, m, dim = int(rng.integers(60, 200)), int(rng.integers(60, 200)), 16
    organizations = int(rng.integers(8, 40))

    def items(count: int, kind: str, first_id: int) -> list[Item]:
        return [
            Item(
                id=first_id + i,
                kind=kind,
                organization_id=int(rng.integers(organizations)),
                cluster_id=int(rng.integers(1, 4)),
                text=" ".join(rng.choice(VOCABULARY, size=int(rng.integers(3, 10)))),
                language=str(rng.choice(["de", "en"])),
                kmu=bool(rng.random() < 0.7),
                tags=tuple(rng.choice(TAGS, size=int(rng.integers(0, 3)), replace=False)),
            )
            for i in range(count)
        ]

    topics = normalise(rng.normal(size=(6, dim)).astype(np.float32))

    def vectors(count: int) -> np.ndarray:
        mixed = topics[rng.integers(0, 6, size=count)] + 0.6 * rng.normal(size=(count, dim))
        return normalise(mixed.astype(np.float32))

    build = {
        "needs": items(n, "need", 0),
        "offers": items(m, "offer", n),
        "need_vectors": vectors(n),
        "offer_vectors": vectors(m),
        "weights": weights,
        "reference": Reference(mean={}, cos_mean=0.1, cos_std=0.15),
    }
    probe = Pool(**build, min_score=np.inf).rank(top_k=TOP_K)
    return Pool(**build, min_score=float(np.median(probe.score)))


def defined_parts(
    pool: Pool, need: np.ndarray, offer: np.ndarray, mutual: np.ndarray
) -> Parts[np.ndarray]:
    """Each component of the pairs (need[p], offer[p]) from its definition, one at a time;
    reciprocity for the `mutual` pairs."""
    mean, std = pool.need_stats()
    cos = np.einsum("pd,pd->p", pool.need_vectors[need], pool.offer_vectors[offer])
    pairs = [(pool.needs[i], pool.offers[j]) for i, j in zip(need, offer, strict=True)]
    return Parts(
        semantic=standardise(cos, mean[need], std[need]),
        lexical=(pool.need_lex @ pool.offer_lex.T).toarray()[need, offer],
        tags=np.einsum("pt,pt->p", pool.need_tags[need], pool.offer_tags[offer]),
        cross_cluster=np.array([a.cluster_id != b.cluster_id for a, b in pairs]),
        kmu=np.array([(a.kmu + b.kmu) / 2 for a, b in pairs]),
        reciprocity=mutual.astype(np.float64),
    )


def assert_scored_by_combine(pool: Pool, ranking: Ranking) -> None:
    """Which pairs get reciprocity is tests/matching/test_pool.py's business: here the ranking's
    own choice is taken."""
    assert len(ranking) > 0
    parts = defined_parts(pool, ranking.need, ranking.offer, ranking.reciprocity > 0)
    np.testing.assert_allclose(ranking.score, combine(pool.weights, parts), atol=1e-4)
    expected = shown(pool.weights, parts)
    for name in COMPONENTS:
        np.testing.assert_allclose(
            getattr(ranking, name), getattr(expected, name), atol=1e-4, err_msg=name
        )


CASES = {
    "random weights": {},
    "no semantic part": {"semantic": 0.0},
    "semantic only": {"lexical": 0.0, "tags": 0.0, "cross_cluster": 0.0, "kmu": 0.0},
    "no reciprocity": {"reciprocity": 0.0},
}


@pytest.fixture
def small_blocks_on_two_threads(monkeypatch):
    monkeypatch.setattr(blocks, "BLOCK_ROWS", 16)
    monkeypatch.setattr(blocks, "cores", lambda: 2)


@pytest.mark.usefixtures("small_blocks_on_two_threads")
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("case", CASES)
def test_block_path_scores_every_pair_as_combine_does(seed, case):
    weights = random_weights(np.random.default_rng(100 + seed), **CASES[case])
    pool = random_pool(seed, weights)
    ranking = pool.rank(top_k=TOP_K)

    assert_scored_by_combine(pool, ranking)
    assert (ranking.reciprocity.max() > 0) == (weights.reciprocity > 0)


@pytest.mark.usefixtures("small_blocks_on_two_threads")
@pytest.mark.parametrize("seed", range(3))
def test_block_path_keeps_the_top_k_that_combine_gives(seed):
    """Without reciprocity a need's best offers are the `TOP_K` best by `combine` over every
    offer of another organization."""
    pool = random_pool(seed, random_weights(np.random.default_rng(seed), reciprocity=0.0))
    ranking = pool.rank(top_k=TOP_K)
    n, m = len(pool.needs), len(pool.offers)
    need, offer = np.repeat(np.arange(n), m), np.tile(np.arange(m), n)
    parts = defined_parts(pool, need, offer, np.zeros(n * m, bool))
    scores = combine(pool.weights, parts).reshape(n, m)
    scores[pool.need_org[:, None] == pool.offer_org[None, :]] = -np.inf

    for i in range(n):
        best = [j for j in np.argsort(-scores[i])[:TOP_K] if np.isfinite(scores[i, j])]
        mine = ranking.need == i
        assert set(ranking.offer[mine].tolist()) == set(best), i
        np.testing.assert_allclose(ranking.score[mine], scores[i, best], atol=1e-4)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("case", CASES)
def test_a_few_needs_and_one_offer_are_scored_as_combine_does(seed, case):
    weights = random_weights(np.random.default_rng(200 + seed), **CASES[case])
    pool = random_pool(seed, weights)
    some = pool.rank(top_k=TOP_K, need_positions=range(0, len(pool.needs), 5))
    for_offers = Ranking.concat(
        [pool.rank_needs_for_offer(j, top_k=TOP_K) for j in range(0, len(pool.offers), 5)]
    )

    assert_scored_by_combine(pool, some)
    assert_scored_by_combine(pool, for_offers)


def test_coefficients_are_read_off_combine(monkeypatch):
    weights = Weights(
        semantic=0.6, lexical=0.3, tags=0.1, cross_cluster=0.04, kmu=0.03, reciprocity=0.07
    )
    assert coefficients(weights) == Parts(0.6, 0.3, 0.1, 0.04, 0.03, 0.07)

    linear = score.combine
    monkeypatch.setattr(score, "combine", lambda w, parts: 2 * linear(w, parts))
    assert coefficients(weights) == Parts(1.2, 0.6, 0.2, 0.08, 0.06, 0.14)

    monkeypatch.setattr(score, "combine", lambda w, parts: linear(w, parts) + 0.1)
    with pytest.raises(ValueError, match="not linear"):
        coefficients(weights)


def test_weights_and_the_minimum_score_come_from_settings_alone():
    settings = load_settings(
        _env_file=None,
        weight_semantic=0.61,
        weight_lexical=0.29,
        weight_tags=0.1,
        cross_cluster_bonus=0.07,
        kmu_bonus=0.03,
        reciprocity_bonus=0.09,
    )

    assert Weights.from_settings(settings) == Weights(0.61, 0.29, 0.1, 0.07, 0.03, 0.09)
    # no second set of defaults that could drift from Settings'
    assert all(f.default is MISSING for f in fields(Weights))
    minimum = inspect.signature(Pool).parameters["min_score"]
    assert minimum.default is inspect.Parameter.empty
