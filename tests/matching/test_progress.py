"""Embedding reports its progress over all ensemble members, for `matchbot match`'s bar."""

from __future__ import annotations

from kooperation.config import Settings
from matching.embedders import Embedder, components
from matching.rounds import run_round
from tests import factories as seed
from tests.factories import BACKGROUND


def test_a_round_reports_every_text_it_embeds_with_the_total_known_up_front(
    session,
    settings: Settings,
    embedder: Embedder,
) -> None:
    for n, (name, language, text) in enumerate(BACKGROUND):
        seed.listing(
            session,
            seed.organization(session, name, "it"),
            ("need", "offer")[n % 2],
            text,
            language=language,
        )
    calls: list[tuple[int, int]] = []
    run_round(
        session=session,
        settings=settings,
        embedder=embedder,
        progress=lambda done, total: calls.append((done, total)),
    )
    total = len(BACKGROUND) * len(components(embedder))
    assert calls[0] == (0, total) and calls[-1] == (total, total)
    assert {t for _, t in calls} == {total}
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    calls.clear()
    run_round(
        session=session,
        settings=settings,
        embedder=embedder,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(0, 0)]  # nothing changed: nothing to embed
