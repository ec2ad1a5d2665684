"""Matching fixtures: the real default embedder (loaded once) and a background of listings."""

from __future__ import annotations

import numpy as np
import pytest
from sqlmodel import Session

from kooperation.models import Listing
from matching.embedders import Embedder, EnsembleEmbedder, get_embedder
from tests import factories as seed


class Remembering:
    """A real model that encodes each distinct text once per test session (tests repeat texts)."""

    def __init__(self, model: Embedder) -> None:
        self.model, self.name, self.dim = model, model.name, model.dim
        self.seen: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str]) -> np.ndarray:
        new = [t for t in dict.fromkeys(texts) if t not in self.seen]
        if new:
            self.seen.update(zip(new, self.model.encode(new), strict=True))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self.seen[t] for t in texts])


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The default hybrid (USE + E5) as production loads it, each text encoded once."""
    default = get_embedder("hybrid")
    assert isinstance(default, EnsembleEmbedder)
    return EnsembleEmbedder([(Remembering(model), weight) for model, weight in default.members])


@pytest.fixture
def background(session: Session) -> list[Listing]:
    """Offers on unrelated topics, so a test pool looks like a real one to the statistics."""
    return seed.background(session)
