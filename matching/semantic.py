"""The semantic component: from two embeddings to "how far this offer stands out for this need".

semantic = (cos − μ_i) / (SEMANTIC_Z · σ_i), the cosine of the embeddings after removing each
language's mean offset (so a German need does not prefer German offers for being German),
standardised per need: μ_i, σ_i describe need i's similarity to the offer pool. A score
therefore means the same for every need and every language. Statistics of small pools are
shrunk towards reference statistics of the model, so a pool of three offers does not make a
mediocre offer look outstanding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from matching.embedders import Embedder, normalise

SEMANTIC_Z = 4.0  # a need's offer 4 standard deviations above its average one scores 1.0
PRIOR_WEIGHT = 10  # how many pool rows the reference statistics count as
STATS_SAMPLE = 256  # offers a need's statistics are taken over
STATS_ROWS = 1024  # needs per product when the statistics of every need are computed

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


def standardise(cos: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """The semantic component of pairs from their cosines and their needs' μ and σ.

    The block path applies the same map as cos · scale − μ · scale, scale = 1 / (Z · σ)."""
    return (cos - mean) / (SEMANTIC_Z * std)


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


class NeedStatistics:
    """μ and σ of each need's cosines to the offers: median and MAD-based σ over a fixed sample
    of ≤ 256 offers (robust: a need's few fitting offers do not count), shrunk towards the
    model's reference statistics."""

    def __init__(self, need_vectors: np.ndarray, offer_vectors: np.ndarray, ref: Reference) -> None:
        m = len(offer_vectors)
        columns = np.linspace(0, m - 1, min(m, STATS_SAMPLE)).round().astype(np.int64)
        self.sample = np.ascontiguousarray(offer_vectors[columns])
        self.need_vectors = need_vectors
        self.reference = ref
        self._every: tuple[np.ndarray, np.ndarray] | None = None

    def _shrink(self, mean: np.ndarray, var: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        prior_mean, prior_var = self.reference.cos_mean, self.reference.cos_std**2
        mean = (n * mean + PRIOR_WEIGHT * prior_mean) / (n + PRIOR_WEIGHT)
        var = (n * var + PRIOR_WEIGHT * prior_var) / (n + PRIOR_WEIGHT)
        return mean.astype(np.float32), np.sqrt(np.maximum(var, 1e-6)).astype(np.float32)

    def of(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """μ, σ of the needs at positions `rows`."""
        n = len(self.sample)
        if n == 0:
            zeros = np.zeros(len(rows), np.float32)
            return self._shrink(zeros, zeros, 0)
        sample = self.need_vectors[rows] @ self.sample.T
        middle = (n - 1) // 2
        median = np.partition(sample, middle, axis=1)[:, middle]
        deviation = np.abs(sample - median[:, None])
        mad = np.partition(deviation, middle, axis=1)[:, middle]
        return self._shrink(median, (1.4826 * mad) ** 2, n)

    def every(self) -> tuple[np.ndarray, np.ndarray]:
        """μ, σ of every need, computed once."""
        if self._every is None:
            count = len(self.need_vectors)
            parts = [
                self.of(np.arange(start, min(start + STATS_ROWS, count)))
                for start in range(0, count, STATS_ROWS)
            ]
            self._every = (
                np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.float32),
                np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.float32),
            )
        return self._every
