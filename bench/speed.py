"""Matching speed, each figure against a baseline measured in the same process.

1. Full round (all needs × all offers, top 10 per need, every component) at 1k, 10k and 25k
   needs × as many offers, against faiss `IndexFlatIP.search` and plain numpy brute force
   (block matmul + argpartition) on the same vectors. Runs alternate, `--repeat` times; the
   ratio is the median of the per-repetition ratios. faiss's bundled OpenBLAS is put on
   numpy's CPU kernel (see `import_faiss`), so the baseline is not handicapped.
2. One new listing (a need, and an offer) against 10k stored ones: median of 50 runs.
3. The embedding pipeline (`matching.store.ensure_vectors`: hashing, cache lookup, batched
   encode, writing `Embedding` rows to SQLite) against the raw model's encode rate at the same
   batch size (64); alternating, best of two each.
4. The weekly digest's opportunity search for N members (a need and an offer each) in SQLite:
   one `top_candidates` per member (the pool loaded N times) against one `CandidateFinder`
   queried per member; the answers must be identical.

Listings are synthetic but shaped like real ones: texts are the labelled set's texts with a
third of their words swapped for words from a large Zipf-distributed vocabulary, vectors are
mixtures of the real texts' embeddings plus noise (so cosines spread like real ones).

    python -m bench.speed                  # all three parts
    python -m bench.speed --sizes 1000,10000 --skip-embedding
    python -m bench.speed --parts 4 --members 500   # only the digest's opportunity search
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # faiss's idle OpenMP threads must not spin

import numpy as np

from bench.quality import load
from kooperation.config import load_settings
from matching.embedders import BATCH_SIZE, components, get_embedder
from matching.lexical import TERMS_CACHE
from matching.score import Weights
from matching.scoring import Item, Pool
from matching.semantic import reference

TOP_K = 10


@lru_cache(maxsize=1)
def _labelled_vectors() -> tuple[list[Item], np.ndarray]:
    data = load()
    items = data.needs + data.offers
    return items, get_embedder("hybrid").encode([i.text for i in items])


def synthetic_pool(n_needs: int, n_offers: int, seed: int = 0) -> tuple[Pool, float]:
    """A pool of synthetic listings and the seconds it took to build (lexicon, centring)."""
    rng = np.random.default_rng(seed)
    pyrng = random.Random(seed)
    base_items, base = _labelled_vectors()
    embedder = get_embedder("hybrid")
    words = [f"w{n}x" for n in range(60_000)]
    zipf = 1.0 / np.arange(51, len(words) + 51)  # Zipf without its head (the stopwords)
    zipf /= zipf.sum()
    draws = iter(rng.choice(len(words), size=(n_needs + n_offers) * 40, p=zipf).tolist())

    def text(template: str) -> str:
        tokens = template.split()
        for n in range(len(tokens)):
            if pyrng.random() < 0.33:
                tokens[n] = words[next(draws)]
        return " ".join(tokens)

    def items(count: int, kind: str, offset: int) -> tuple[list[Item], np.ndarray]:
        picks = rng.integers(0, len(base_items), size=(count, 2))
        vectors = base[picks[:, 0]] + 0.5 * base[picks[:, 1]]
        vectors += rng.normal(0, 0.02, size=vectors.shape).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        tags = ("battery", "logistics", "software", "ai", "security", "training", "production")
        out = [
            Item(
                id=offset + n,
                kind=kind,
                organization_id=int(rng.integers(1, max(2, (n_needs + n_offers) // 4))),
                cluster_id=int(rng.integers(1, 4)),
                text=text(base_items[picks[n, 0]].text),
                language=base_items[picks[n, 0]].language,
                kmu=bool(rng.random() < 0.8),
                tags=tuple(pyrng.sample(tags, pyrng.randint(0, 2))),
            )
            for n in range(count)
        ]
        return out, vectors.astype(np.float32)

    needs, need_vectors = items(n_needs, "need", 0)
    offers, offer_vectors = items(n_offers, "offer", n_needs)
    settings = load_settings(_env_file=None)
    started = time.perf_counter()
    pool = Pool(
        needs=needs,
        offers=offers,
        need_vectors=need_vectors,
        offer_vectors=offer_vectors,
        weights=Weights.from_settings(settings),
        reference=reference(embedder),
        min_score=settings.match_min_score,
    )
    return pool, time.perf_counter() - started


def numpy_topk(queries: np.ndarray, base: np.ndarray, k: int) -> np.ndarray:
    out = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), 1024):
        scores = queries[start : start + 1024] @ base.T
        out[start : start + 1024] = np.argpartition(scores, -k, axis=1)[:, -k:]
    return out


def timings(repeat: int, runs: dict[str, Callable[[], object]]) -> dict[str, list[float]]:
    """Runs each function `repeat` times, alternating between them: the seconds of every run.

    Alternating puts the runs of one repetition next to each other in time, so a ratio taken
    within a repetition sees the same machine state (this machine's speed drifts by ±20 %)."""
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            seconds[name].append(time.perf_counter() - started)
    return seconds


def ratio(seconds: dict[str, list[float]], name: str, baseline: str) -> str:
    """Median of the per-repetition ratios name/baseline, with their range."""
    ratios = sorted(a / b for a, b in zip(seconds[name], seconds[baseline], strict=True))
    return f"{statistics.median(ratios):.2f} ({ratios[0]:.2f}–{ratios[-1]:.2f})"


def blas_kernels() -> dict[str, str]:
    """The CPU kernel each loaded OpenBLAS uses, by library file."""
    from threadpoolctl import threadpool_info

    return {
        Path(info["filepath"]).name: str(info.get("architecture"))
        for info in threadpool_info()
        if info.get("internal_api") == "openblas"
    }


def import_faiss() -> object:
    """faiss, with its bundled OpenBLAS on the same CPU kernel as numpy's.

    faiss-cpu wheels bring their own OpenBLAS (0.3.15 in faiss-cpu 1.15.1), which does not know
    newer Xeons and falls back to its generic 'Prescott' kernel: 5× slower than numpy's on the
    machine this was written on, a baseline that would flatter the round. OpenBLAS reads
    OPENBLAS_CORETYPE when it loads, so it is set to numpy's kernel for the import only.
    """
    numpy_kernel = next(iter(blas_kernels().values()), None)
    before = os.environ.get("OPENBLAS_CORETYPE")
    if numpy_kernel and before is None:
        os.environ["OPENBLAS_CORETYPE"] = numpy_kernel
    try:
        import faiss
    finally:
        if before is None:
            os.environ.pop("OPENBLAS_CORETYPE", None)
    kernels = ", ".join(f"{name}: {kernel}" for name, kernel in blas_kernels().items())
    print(f"  BLAS kernels: {kernels}")
    return faiss


def full_round(sizes: list[int], repeat: int) -> None:
    print(f"\n1. Full round: every need × every offer, top {TOP_K} per need ({repeat} repetitions)")
    faiss = import_faiss()
    print(
        f"{'needs × offers':>16} {'pool build':>11} {'again':>7} {'round':>8} {'faiss':>8} "
        f"{'numpy':>8} {'round/faiss':>18} {'round/numpy':>18}"
    )
    for size in sizes:
        pool, build = synthetic_pool(size, size)
        started = time.perf_counter()  # the same pool again: tokens come from the terms cache
        Pool(
            needs=pool.needs,
            offers=pool.offers,
            need_vectors=pool.need_vectors,
            offer_vectors=pool.offer_vectors,
            weights=pool.weights,
            reference=pool.reference,
            min_score=pool.min_score,
        )
        rebuild = time.perf_counter() - started
        index = faiss.IndexFlatIP(pool.offer_vectors.shape[1])
        index.add(pool.offer_vectors)
        runs = {
            "round": lambda pool=pool: pool.rank(top_k=TOP_K),
            "faiss": lambda pool=pool, index=index: index.search(pool.need_vectors, TOP_K),
            "numpy": lambda pool=pool: numpy_topk(pool.need_vectors, pool.offer_vectors, TOP_K),
        }
        timings(1, runs)  # warm-up: the round's first call in a process loads its compiled kernel
        seconds = timings(repeat, runs)
        best = {name: min(times) for name, times in seconds.items()}
        print(
            f"{size:>7} × {size:<6} {build:10.2f}s {rebuild:6.2f}s {best['round']:7.2f}s "
            f"{best['faiss']:7.2f}s {best['numpy']:7.2f}s "
            f"{ratio(seconds, 'round', 'faiss'):>18} {ratio(seconds, 'round', 'numpy'):>18}"
        )
    print(
        "  times: best run; ratios: median of the per-repetition ratios (range in brackets);"
        f"\n  again: the same pool built a second time (terms of up to {TERMS_CACHE} texts cached)"
    )


def one_listing(stored: int) -> None:
    print(f"\n2. One new listing against {stored} stored needs and {stored} offers (median of 50)")
    pool, _ = synthetic_pool(stored, stored, seed=1)
    pool.need_stats()  # a pool serving incremental matches keeps these
    rng = np.random.default_rng(2)

    def median_ms(run: Callable[[int], object]) -> float:
        picks = rng.integers(0, stored, size=55)
        for pick in picks[:5]:
            run(int(pick))
        timings = []
        for pick in picks[5:]:
            started = time.perf_counter()
            run(int(pick))
            timings.append((time.perf_counter() - started) * 1000)
        return statistics.median(timings)

    need_ms = median_ms(lambda n: pool.rank(top_k=TOP_K, need_positions=[n]))
    offer_ms = median_ms(lambda o: pool.rank_needs_for_offer(o, top_k=TOP_K))
    raw_ms = median_ms(
        lambda n: np.argpartition(pool.offer_vectors @ pool.need_vectors[n], -TOP_K)[-TOP_K:]
    )
    print(f"  new need  → offers: {need_ms:6.2f} ms   (raw numpy dot + top-k: {raw_ms:.2f} ms)")
    print(f"  new offer → needs:  {offer_ms:6.2f} ms")


def embedding_rate(count: int) -> None:
    from sqlalchemy import delete
    from sqlmodel import Session, select

    from kooperation import db
    from kooperation.models import Cluster, Embedding, Listing, Organization
    from matching.store import ToEmbed, ensure_vectors

    print(f"\n3. Embedding pipeline vs raw model encode, {count} texts, batch size {BATCH_SIZE}")
    data = load()
    texts = [i.text for i in data.needs + data.offers]
    texts = [f"{texts[n % len(texts)]} ({n})" for n in range(count)]  # distinct texts
    embedder = get_embedder("hybrid")
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'speed.db'}"
        db.upgrade(url)
        engine = db.make_engine(url)
        with Session(engine) as session:
            cluster = session.exec(select(Cluster)).first()
            org = Organization(name="Bench", cluster_id=cluster.id)
            session.add(org)
            session.commit()
            listings = [Listing(organization_id=org.id, kind="offer", text=t) for t in texts]
            session.add_all(listings)
            session.commit()
            items = [ToEmbed(listing.id, listing.text) for listing in listings]
            for model in components(embedder):
                model.encode(texts[:8])  # warm-up
            raw_times = {model.name: float("inf") for model in components(embedder)}
            pipeline = float("inf")
            for _ in range(2):  # alternate raw and pipeline; best of two each
                for model in components(embedder):
                    started = time.perf_counter()
                    for start in range(0, count, BATCH_SIZE):
                        model.encode(texts[start : start + BATCH_SIZE])
                    raw_times[model.name] = min(
                        raw_times[model.name], time.perf_counter() - started
                    )
                session.execute(delete(Embedding))
                session.commit()
                started = time.perf_counter()
                _, embedded = ensure_vectors(session=session, embedder=embedder, items=items)
                session.commit()
                pipeline = min(pipeline, time.perf_counter() - started)
                assert embedded == count
    raw = sum(raw_times.values())
    detail = ", ".join(f"{name} {count / t:.1f}/s" for name, t in raw_times.items())
    print(f"  raw encode ({detail}): {count / raw:.1f} texts/s for the ensemble")
    print(f"  pipeline (hash, cache lookup, encode, store): {count / pipeline:.1f} texts/s")
    print(f"  pipeline / raw: {raw / pipeline:.2f}")


class _EncodeOnce:
    """A real model that encodes each distinct text once (the bench repeats texts)."""

    def __init__(self, model: object) -> None:
        self.model, self.name, self.dim = model, model.name, model.dim  # type: ignore[attr-defined]
        self.seen: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str]) -> np.ndarray:
        new = [t for t in dict.fromkeys(texts) if t not in self.seen]
        if new:
            self.seen.update(zip(new, self.model.encode(new), strict=True))  # type: ignore[attr-defined]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self.seen[t] for t in texts])


def digest_search(members: int) -> None:
    from datetime import timedelta

    from sqlmodel import Session, select

    from kooperation import db
    from kooperation.config import load_settings
    from kooperation.models import Cluster, Listing, Member, Organization, utcnow
    from matching.candidates import CandidateFinder, top_candidates
    from matching.embedders import EnsembleEmbedder

    print(f"\n4. Digest opportunity search for {members} members (a need and an offer each)")
    data = load()
    hybrid = get_embedder("hybrid")
    assert isinstance(hybrid, EnsembleEmbedder)
    embedder = EnsembleEmbedder([(_EncodeOnce(m), w) for m, w in hybrid.members])
    rng = random.Random(4)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'digest.db'}"
        db.upgrade(url)
        settings = load_settings(database_url=url, _env_file=None)
        engine = db.make_engine(url)
        with Session(engine) as session:
            clusters = [c.id for c in session.exec(select(Cluster)).all()]
            orgs = [
                Organization(name=f"Bench {n}", cluster_id=rng.choice(clusters))
                for n in range(members)
            ]
            session.add_all(orgs)
            session.commit()
            people = [
                Member(telegram_user_id=9_000_000 + n, organization_id=org.id)
                for n, org in enumerate(orgs)
            ]
            session.add_all(people)
            session.commit()
            expires = utcnow() + timedelta(days=90)
            own: list[list[int]] = []
            for org, person in zip(orgs, people, strict=True):
                pair = [
                    Listing(
                        organization_id=org.id,
                        member_id=person.id,
                        kind=kind,
                        text=rng.choice(items).text,
                        language=rng.choice(items).language,
                        expires_at=expires,
                    )
                    for kind, items in (("need", data.needs), ("offer", data.offers))
                ]
                session.add_all(pair)
                session.commit()
                own.append([listing.id for listing in pair])
            since = utcnow() - timedelta(days=7)
            search = {"limit": 6, "created_after": since, "other_clusters_only": True}
            CandidateFinder(session=session, settings=settings, embedder=embedder)  # embeds

            started = time.perf_counter()
            separate = [
                top_candidates(
                    session=session,
                    settings=settings,
                    listing_ids=ids,
                    embedder=embedder,
                    **search,  # type: ignore[arg-type]
                )
                for ids in own
            ]
            before = time.perf_counter() - started
            started = time.perf_counter()
            finder = CandidateFinder(session=session, settings=settings, embedder=embedder)
            reused = [finder.find(listing_ids=ids, **search) for ids in own]  # type: ignore[arg-type]
            after = time.perf_counter() - started
    assert reused == separate, "the reused pool must give the same candidates"
    found = sum(len(c) for c in reused)
    print(f"  pool of {2 * members} listings, {found} candidates found, identical: yes")
    print(f"  top_candidates per member (pool loaded {members}×): {before:7.2f}s")
    print(f"  one CandidateFinder, find per member:          {after:7.2f}s")
    print(f"  per-member / reused: {before / after:.1f}×")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,25000")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--stored", type=int, default=10_000)
    parser.add_argument("--texts", type=int, default=128)
    parser.add_argument("--skip-embedding", action="store_true")
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--parts", default="1,2,3,4", help="which parts to run, e.g. 1 or 4")
    args = parser.parse_args()
    parts = {int(p) for p in args.parts.split(",")}
    print(f"CPU threads: {os.cpu_count()}; numpy/faiss in this process")
    if 1 in parts:
        full_round([int(s) for s in args.sizes.split(",")], args.repeat)
    if 2 in parts:
        one_listing(args.stored)
    if 3 in parts and not args.skip_embedding:
        embedding_rate(args.texts)
    if 4 in parts:
        digest_search(args.members)


if __name__ == "__main__":
    main()
