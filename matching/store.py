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
from sqlmodel import Session, col

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

ENCODE_BATCH = 64  # texts per `encode` call: a progress report after each


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
    error. `progress(done, total)` hears of every batch of texts, counted over all ensemble
    members (the total is known before the first text is embedded).
    """
    cached = [_lookup(session, model, items) for model in components(embedder)]
    total = sum(len(c.stale) for c in cached)
    done = 0
    if progress is not None:
        progress(done, total)
    embedded: set[int] = set()
    for c in cached:
        for start in range(0, len(c.stale), ENCODE_BATCH):
            batch = c.stale[start : start + ENCODE_BATCH]
            c.vectors[batch] = c.model.encode([items[n].text for n in batch])
            done += len(batch)
            if progress is not None:
                progress(done, total)
        embedded |= {c.ids[n] for n in c.stale}
    if write:  # only after all embedding: SQLite's write lock is held from here to the commit
        for c in cached:
            if c.stale:
                _write(session, c)
    parts = [c.vectors for c in cached]
    if isinstance(embedder, EnsembleEmbedder):
        return embedder.combine(parts), len(embedded)
    return parts[0], len(embedded)


@dataclass
class _Cached:
    """One model's vectors for the items: the stored ones filled in, `stale` to embed."""

    model: Embedder
    ids: list[int]
    hashes: list[str]
    vectors: np.ndarray
    stale: list[int]
    rows: dict[int, int]  # listing id → id of its (outdated) stored row


def _lookup(session: Session, model: Embedder, items: Sequence[ToEmbed]) -> _Cached:
    hashes = [content_hash(item.text) for item in items]
    ids = [item.listing_id for item in items]
    stored: dict[int, tuple[int, str, bytes, int]] = {}
    for start in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(
                col(Embedding.listing_id),
                col(Embedding.id),
                col(Embedding.content_hash),
                col(Embedding.vector),
                col(Embedding.dim),
            ).where(
                col(Embedding.model) == model.name,
                col(Embedding.listing_id).in_(ids[start : start + CHUNK]),
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
    rows_of = {listing_id: hit[0] for listing_id, hit in stored.items()}
    return _Cached(model, ids, hashes, out, stale, rows_of)


def _write(session: Session, cached: _Cached) -> None:
    """Updates outdated rows and inserts the missing ones, ignoring rows written meanwhile."""
    now = utcnow()
    model = cached.model
    new_rows: list[dict[str, object]] = []
    for n in cached.stale:
        listing_id = cached.ids[n]
        blob = cached.vectors[n].astype("<f4").tobytes()
        row_id = cached.rows.get(listing_id)
        row = session.get(Embedding, row_id) if row_id is not None else None
        if row is not None:
            row.content_hash, row.vector, row.dim, row.created_at = (
                cached.hashes[n],
                blob,
                model.dim,
                now,
            )
            continue
        new_rows.append(
            {
                "listing_id": listing_id,
                "model": model.name,
                "content_hash": cached.hashes[n],
                "dim": model.dim,
                "vector": blob,
                "created_at": now,
            }
        )
    session.flush()
    _insert_ignore(session, new_rows)


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
