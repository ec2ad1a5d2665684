"""The quality benchmark's labelled sets: the held-out set is well formed and independent of the
tuned-on one, and a need with several acceptable offers is ranked by the best of them."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from bench.quality import DATA, HOLDOUT, Labelled, evaluate, load
from kooperation.config import load_settings
from kooperation.reference import categories
from matching.score import Weights
from matching.semantic import reference


def test_the_held_out_set_meets_its_brief() -> None:
    data = load(HOLDOUT)
    assert len(data.needs) >= 55 and len(data.offers) >= 85
    assert all(data.gold[n] for n in range(len(data.needs)))
    cross = sum(data.cross_language(n) for n in data.gold)
    assert cross / len(data.needs) >= 0.4
    assert len(data.distractors()) >= 25
    assert any(len(offers) > 1 for offers in data.gold.values())
    slugs = {c.slug for c in categories()}
    for item in data.needs + data.offers:
        assert item.language in {"de", "en"}
        assert set(item.tags) <= slugs, item.ref
    for need, offers in data.gold.items():
        for offer in offers:  # the round never pairs an organization with itself
            assert data.offers[offer].organization_id != data.needs[need].organization_id


def test_the_held_out_set_shares_no_text_with_the_tuned_set() -> None:
    held_out, tuned = load(HOLDOUT), load(DATA)
    texts = {i.text.casefold() for i in held_out.needs + held_out.offers}
    assert len(texts) == len(held_out.needs) + len(held_out.offers)
    assert not texts & {i.text.casefold() for i in tuned.needs + tuned.offers}


def _only(data: Labelled, pick: int) -> Labelled:
    """The set with each need's acceptable offers cut to one (the `pick`-th, or its last)."""
    gold = {n: (offers[min(pick, len(offers) - 1)],) for n, offers in data.gold.items()}
    return replace(data, gold=gold)


@pytest.mark.parametrize("weights", ["default", "semantic"])
def test_a_need_with_two_acceptable_offers_counts_the_better_ranked(embedder, weights) -> None:
    data = load(HOLDOUT)
    vectors = embedder.encode([i.text for i in data.needs + data.offers])
    settings = load_settings(_env_file=None)
    chosen = Weights.from_settings(settings)
    if weights == "semantic":
        chosen = replace(chosen, semantic=1.0, lexical=0.0, tags=0.0)
    ref = reference(embedder)
    both: list[tuple[float, float, float, float]] = []
    first: list[tuple[float, float, float, float]] = []
    second: list[tuple[float, float, float, float]] = []
    m_both = evaluate(data, vectors, ref, chosen, both)
    m_first = evaluate(_only(data, 0), vectors, ref, chosen, first)
    m_second = evaluate(_only(data, 1), vectors, ref, chosen, second)
    gold_both, gold_first, gold_second = (np.array(s)[:, 0] for s in (both, first, second))
    np.testing.assert_array_equal(gold_both, np.maximum(gold_first, gold_second))
    assert m_both.mrr >= max(m_first.mrr, m_second.mrr)
    assert m_both.r1 >= max(m_first.r1, m_second.r1)
    several = [n for n, offers in data.gold.items() if len(offers) > 1]
    assert (gold_first[several] != gold_second[several]).all()
