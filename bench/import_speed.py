"""Imports a generated 10,000-row CSV (with broken rows) twice and prints the time per run.

    python bench/import_speed.py [--rows 10000]

Baseline in the same run: parsing and validating the same file without writing (the part
that does not touch the database), so the ratio shows what the database writes cost.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import tempfile
import time
from pathlib import Path

from kooperation.db import engine_for, session_scope, upgrade
from kooperation.services.importer import import_listings, parse_row, read_rows

CLUSTERS = ("automotive", "logistics", "it")
WORDS = [
    "Batterierecycling",
    "Kühlkette",
    "ADR",
    "Gefahrgut",
    "SAP",
    "S/4HANA",
    "MES",
    "TISAX",
    "AUTOSAR",
    "Bildverarbeitung",
    "Qualitätsprüfung",
    "Umschulung",
    "Fachkräfte",
    "Leichtbau",
    "Ladeinfrastruktur",
    "Kommissionierung",
    "predictive",
    "maintenance",
    "cold",
    "chain",
    "retrofit",
    "traceability",
    "cybersecurity",
    "warehouse",
    "robotics",
]


def make_csv(rows: int, broken_every: int = 97) -> bytes:
    rng = random.Random(7)
    lines = ["ref;organization;cluster;kind;text;tags;contact_email"]
    for i in range(rows):
        org = f"Firma {i % 2000:04d} GmbH"
        cluster = CLUSTERS[(i % 2000) % 3]
        kind = "Bedarf" if i % 2 else "Angebot"
        text = "Wir suchen Unterstützung bei " + " ".join(rng.sample(WORDS, 6)) + f" Nr. {i}"
        email = f"kontakt{i}@firma.de"
        if i % broken_every == 5:
            cluster = "raumfahrt"
        elif i % broken_every == 11:
            text = ""
        elif i % broken_every == 17:
            email = "keine-mail"
        lines.append(f'R{i};{org};{cluster};{kind};{text};"it, ki";{email}')
    return ("\n".join(lines) + "\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    data = make_csv(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        engine = engine_for(url)
        with session_scope(engine) as session:
            from kooperation.services.importer import _cluster_index

            clusters = _cluster_index(session)
        start = time.perf_counter()
        _, rows = read_rows(data)
        for line, raw in rows:
            with contextlib.suppress(ValueError):
                parse_row(line, raw, clusters)
        baseline = time.perf_counter() - start
        timings = []
        for _ in range(2):
            start = time.perf_counter()
            with session_scope(engine) as session:
                report = import_listings(session=session, data=data)
            timings.append(time.perf_counter() - start)
            print(
                f"run: {report.rows} rows, {report.created} created, {report.updated} updated, "
                f"{report.unchanged} unchanged, {len(report.errors)} failed "
                f"in {timings[-1]:.2f} s"
            )
    print(f"parse+validate only (baseline): {baseline:.2f} s")
    print(f"first import: {timings[0]:.2f} s = {timings[0] / baseline:.1f}x baseline")
    print(f"re-import:    {timings[1]:.2f} s = {timings[1] / baseline:.1f}x baseline")


if __name__ == "__main__":
    main()
