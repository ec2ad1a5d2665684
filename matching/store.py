"""The embedding cache: one vector per (listing, model), reused while the text is unchanged.

The key is the single model's name (an ensemble caches each member on its own, so switching
from `usem3+e5` to `e5` re-embeds nothing) and a SHA-256 of the embedded text. A changed text
or a new model is embedded on the next use; unchanged texts are never embedded twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from kooperation.models import Embedding, utcnow
from matching.embedders import Embedder, EnsembleEmbedder, components

CHUNK = 900  # ids per IN (…) query; SQLite allows 999 parameters in older builds


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ToEmbed:
    listing_id: int
    text: str


Progress = Callable[[int, int], None]
"""Called as `progress(done, total)` while texts are embedded (a CLI shows a bar)."""

ENCODE_BATCH = 64  # texts per `encode` call when somebody watches the progress


def ensure_vectors(
    *,
    session: Session,
    embedder: Embedder,
    items: Sequence[ToEmbed],
    write: bool = True,
    progress: Progress | None = None,
) -> tuple[np.ndarray, int]:
    """Vectors for `items` in their order, and how many listings had to be embedded.

    Missing or stale vectors are embedded in batches and, with `write`, stored (the caller
    commits). With `write=False` (a dry run) nothing is written. Storing is idempotent: a
    vector another session or process stored in the meantime is kept, never a duplicate-key
    error. `progress(done, total)` hears of every batch, counted over all ensemble members.
    """
    embedded: set[int] = set()
    parts = []
    models = components(embedder)
    counter = _Counter(progress) if progress is not None else None
    for model in models:
        vectors, fresh = _vectors_for_model(session, model, items, write, counter)
        parts.append(vectors)
        embedded |= fresh
    if isinstance(embedder, EnsembleEmbedder):
        return embedder.combine(parts), len(embedded)
    return parts[0], len(embedded)


class _Counter:
    """Adds up the texts every ensemble member embedded into one `progress(done, total)`."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.done = 0
        self.total = 0

    def expect(self, count: int) -> None:
        self.total += count
        self.progress(self.done, self.total)

    def add(self, count: int) -> None:
        self.done += count
        self.progress(self.done, self.total)


def _encode(model: Embedder, texts: list[str], counter: _Counter | None) -> np.ndarray:
    if counter is None:
        return model.encode(texts)
    counter.expect(len(texts))
    parts = []
    for start in range(0, len(texts), ENCODE_BATCH):
        parts.append(model.encode(texts[start : start + ENCODE_BATCH]))
        counter.add(len(parts[-1]))
    return np.concatenate(parts) if parts else np.zeros((0, model.dim), dtype=np.float32)


def _insert_ignore(session: Session, rows: list[dict[str, object]]) -> None:
    """INSERT … ON CONFLICT (listing_id, model) DO NOTHING, on SQLite and PostgreSQL."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(Embedding).on_conflict_do_nothing(
        index_elements=["listing_id", "model"]
    )
    session.execute(statement, rows)


def _vectors_for_model(
    session: Session,
    model: Embedder,
    items: Sequence[ToEmbed],
    write: bool,
    counter: _Counter | None = None,
) -> tuple[np.ndarray, set[int]]:
    hashes = [content_hash(item.text) for item in items]
    ids = [item.listing_id for item in items]
    stored: dict[int, tuple[int, str, bytes, int]] = {}
    for start in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(
                Embedding.listing_id,
                Embedding.id,
                Embedding.content_hash,
                Embedding.vector,
                Embedding.dim,
            ).where(
                Embedding.model == model.name, Embedding.listing_id.in_(ids[start : start + CHUNK])
            )
        )
        for listing_id, row_id, digest, vector, dim in rows:
            stored[listing_id] = (row_id, digest, vector, dim)
    out = np.zeros((len(items), model.dim), dtype=np.float32)
    stale: list[int] = []
    for n, (listing_id, digest) in enumerate(zip(ids, hashes, strict=True)):
        hit = stored.get(listing_id)
        if hit and hit[1] == digest and hit[3] == model.dim:
            out[n] = np.frombuffer(hit[2], dtype="<f4")
        else:
            stale.append(n)
    if stale:
        fresh = _encode(model, [items[n].text for n in stale], counter)
        out[stale] = fresh
        if write:
            now = utcnow()
            new_rows: list[dict[str, object]] = []
            for n, vector in zip(stale, fresh, strict=True):
                blob = vector.astype("<f4").tobytes()
                hit = stored.get(ids[n])
                row = session.get(Embedding, hit[0]) if hit else None
                if row is not None:
                    row.content_hash, row.vector, row.dim, row.created_at = (
                        hashes[n],
                        blob,
                        model.dim,
                        now,
                    )
                    continue
                new_rows.append(
                    {
                        "listing_id": ids[n],
                        "model": model.name,
                        "content_hash": hashes[n],
                        "dim": model.dim,
                        "vector": blob,
                        "created_at": now,
                    }
                )
            session.flush()
            _insert_ignore(session, new_rows)
    return out, {ids[n] for n in stale}
