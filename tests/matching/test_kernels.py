"""`kernels.block_candidates` against its definition, computed pair by pair with numpy.

Values are multiples of 1/64 and small, so float32 adds them exactly in any order: the kernel
and the definition must agree bit for bit, also on pairs exactly at the cut.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from matching import kernels

NEEDS = 40


def dyadic(rng: np.random.Generator, shape: tuple[int, ...] | int, top: int) -> np.ndarray:
    return (rng.integers(0, top, size=shape) / 64).astype(np.float32)


def world(offers: int, organizations: int, seed: int) -> dict:
    """A block of dense values, sparse lexical rows and organizations; with few organizations
    a need's own organization often holds its best offers."""
    rng = np.random.default_rng(seed)
    terms = 30
    need_lex = sparse.random(
        NEEDS, terms, density=0.15, format="csr", dtype=np.float32, random_state=seed
    )
    need_lex.data = dyadic(rng, need_lex.nnz, 8) + np.float32(1 / 64)  # positive, like TF-IDF
    offer_lex = sparse.random(
        offers, terms, density=0.15, format="csr", dtype=np.float32, random_state=seed + 1
    )
    offer_lex.data = dyadic(rng, offer_lex.nnz, 8) + np.float32(1 / 64)
    return {
        "block": dyadic(rng, (NEEDS, offers), 32),
        "rows": np.arange(NEEDS, dtype=np.int64),
        "need_org": rng.integers(0, organizations, NEEDS).astype(np.int64),
        "offer_org": rng.integers(0, organizations, offers).astype(np.int64),
        "need_lex": need_lex,
        "offer_lex_t": sparse.csr_matrix(offer_lex.T),
    }


def expected(w: dict, weight: float, top_k: int, margin: float) -> set[tuple[int, int, float]]:
    lexical = (w["need_lex"] @ w["offer_lex_t"]).toarray()
    values = w["block"] + np.float32(weight) * lexical
    out = set()
    for r in range(NEEDS):
        others = np.flatnonzero((w["offer_org"] != w["need_org"][r]) & ~np.isnan(values[r]))
        ranked = np.sort(values[r, others])[::-1]
        kth = ranked[top_k - 1] if len(ranked) >= top_k else -np.inf
        out |= {(r, int(j), float(values[r, j])) for j in others if values[r, j] >= kth - margin}
    return out


def run(w: dict, weight: float, top_k: int, margin: float) -> tuple[set, np.ndarray]:
    offers = len(w["offer_org"])
    lexical, touched = np.zeros(offers, np.float32), np.empty(offers, np.int64)
    row, offer, value, lex = kernels.block_candidates(
        w["block"].copy(),
        w["rows"],
        w["need_org"],
        w["offer_org"],
        (w["need_lex"].indptr, w["need_lex"].indices, w["need_lex"].data),
        (w["offer_lex_t"].indptr, w["offer_lex_t"].indices, w["offer_lex_t"].data),
        np.float32(weight),
        top_k,
        np.float32(margin),
        lexical,
        touched,
    )
    truth = (w["need_lex"] @ w["offer_lex_t"]).toarray()
    np.testing.assert_array_equal(lex, truth[row, offer])
    return {(int(r), int(j), float(v)) for r, j, v in zip(row, offer, value, strict=True)}, lexical


@pytest.mark.parametrize("offers", [16 * 20, 16 * 20 + 7, 9])
@pytest.mark.parametrize("organizations", [3, 50])
@pytest.mark.parametrize("top_k", [1, 5, 40])
def test_block_candidates_match_their_definition(offers, organizations, top_k):
    w = world(offers, organizations, seed=offers + organizations + top_k)
    for weight, margin in ((0.5, 0.0), (0.5, 0.0625), (0.0, 0.125)):
        got, lexical = run(w, weight, top_k, margin)
        assert got == expected(w, weight, top_k, margin), (weight, margin)
        assert not lexical.any(), "the scratch space is left as it was found"


@pytest.mark.parametrize("with_nan", [False, True])
def test_own_organization_holding_every_top_group_is_looked_past(with_nan):
    w = world(16 * 20, organizations=50, seed=7)
    w["need_org"][:] = 1
    w["offer_org"][:] = np.arange(16 * 20) % 40 + 2
    w["block"][:, :16] = 1.0  # the best column of sixteen of the twenty groups
    w["offer_org"][:16] = 1  # the need's own organization
    if with_nan:  # the first offers the full scan meets
        w["block"][:, 16:40] = np.nan
    got, _ = run(w, 0.5, 5, 0.0625)
    assert got == expected(w, 0.5, 5, 0.0625)
    assert all(w["offer_org"][j] != 1 for _, j, _ in got)


def test_nan_values_are_passed_over_without_hiding_their_groups():
    w = world(16 * 20 + 5, organizations=50, seed=13)
    rng = np.random.default_rng(13)
    w["block"][rng.random(w["block"].shape) < 0.2] = np.nan
    w["block"][:, :20] = np.nan  # the first member of every group
    for top_k in (1, 5):
        got, _ = run(w, 0.5, top_k, 0.0625)
        assert got == expected(w, 0.5, top_k, 0.0625)


def test_explicit_zeros_in_the_lexical_rows_add_nothing():
    w = world(16 * 20, organizations=50, seed=17)
    w["need_lex"].data[::3] = 0.0
    w["offer_lex_t"].data[::2] = 0.0
    got, lexical = run(w, 0.5, 5, 0.0625)
    assert got == expected(w, 0.5, 5, 0.0625)
    assert not lexical.any()


def test_top_k_beyond_the_offers_keeps_every_offer_of_the_others():
    w = world(16 * 2 + 3, organizations=50, seed=19)
    assert run(w, 0.5, 10**9, 0.0)[0] == expected(w, 0.5, 16 * 2 + 3, 0.0)
    assert run(w, 0.5, 0, 0.0)[0] == set()


def test_a_negative_lexical_weight_keeps_the_cut_exact():
    w = world(16 * 20 + 3, organizations=5, seed=11)
    got, _ = run(w, -0.5, 5, 0.0625)
    assert got == expected(w, -0.5, 5, 0.0625)


@pytest.mark.parametrize("organizations", [2, 30, 2**31])
def test_mutual_finds_the_strong_pairs_the_other_way_round(organizations):
    rng = np.random.default_rng(organizations)
    need_org = rng.integers(0, organizations, 5_000).astype(np.int64)
    offer_org = rng.integers(0, organizations, 5_000).astype(np.int64)
    if organizations > 30:  # pairs 2000–3999 are pairs 0–1999 the other way round
        need_org[2_000:4_000], offer_org[2_000:4_000] = offer_org[:2_000], need_org[:2_000]
    strong = rng.random(5_000) < 0.3
    fits = set(zip(need_org[strong].tolist(), offer_org[strong].tolist(), strict=True))
    wanted = [(b, a) in fits for a, b in zip(need_org.tolist(), offer_org.tolist(), strict=True)]

    got = kernels.mutual(need_org, offer_org, strong)
    assert got.tolist() == wanted
    assert got.any()
    assert organizations == 2 or not got.all()
