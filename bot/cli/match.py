"""`matchbot match`: a full matching round now, or a dry run that ranks without writing."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text
from sqlmodel import Session

from bot.cli import database, fail, settings
from kooperation.db import session_scope
from kooperation.models import Listing

if TYPE_CHECKING:
    from matching.dry_run import RankedPair


def match(
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Write nothing; list every active need's best offers."
    ),
    top: int = typer.Option(
        5, "--top", min=1, help="With --dry-run: offers listed per need (before limits)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Runs a matching round and prints what it proposed (or, with --dry-run, the ranking)."""
    from matching.dry_run import ranked_pairs
    from matching.embedders import EmbedderUnavailable
    from usecases.rounds import matching_round

    loaded = settings()
    try:
        with session_scope(database(loaded)) as session:
            if dry_run:
                pairs = ranked_pairs(session=session, settings=loaded, top_k=top)
                if as_json:
                    typer.echo(
                        json.dumps([p.as_json() for p in pairs], ensure_ascii=False, indent=2)
                    )
                    return
                _print_ranking(pairs)
                return
            with embedding_progress(Console(stderr=True)) as progress:
                # Queues one notice per manager; the running bot sends it from the outbox.
                result = matching_round(session=session, settings=loaded, progress=progress)
            rows = [
                {
                    "match_id": m.id,
                    "need_id": m.need_id,
                    "offer_id": m.offer_id,
                    "need_ref": _ref(session, m.need_id),
                    "offer_ref": _ref(session, m.offer_id),
                    "score": round(m.score, 4),
                    "reason_de": m.reason_de,
                    "reason_en": m.reason_en,
                }
                for m in result.matches
            ]
            if as_json:
                typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
                return
            _print_proposals(rows, result.embedded, result.needs, result.offers)
    except EmbedderUnavailable as error:
        raise fail(str(error), 2) from None


class RateColumn(ProgressColumn):
    """Texts embedded per second, as rich measures it over the last seconds."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} texts/s" if speed else "– texts/s", style="progress.data.speed")


REPORT_EVERY = 10.0  # seconds between plain progress lines when stderr is not a terminal


@contextmanager
def embedding_progress(console: Console) -> Iterator[Callable[[int, int], None]]:
    """A progress callback for embedding: a bar with rate and time left on a terminal, a
    line every few seconds in a log (cron, a pipe). Silent while nothing needs embedding."""
    if console.is_terminal:
        with Progress(
            TextColumn("Embedding"),
            BarColumn(),
            MofNCompleteColumn(),
            RateColumn(),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("embedding", total=None, visible=False)

            def show(done: int, total: int) -> None:
                if total:
                    bar.update(task, completed=done, total=total, visible=True)

            yield show
        return
    started = time.monotonic()
    last = [0.0]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if not total or (now - last[0] < REPORT_EVERY and done not in (0, total)):
            return
        last[0] = now
        rate = done / (now - started) if done and now > started else 0.0
        left = f"{(total - done) / rate:,.0f} s left" if rate else "time left unknown"
        console.print(
            f"Embedding {done:,}/{total:,} texts, {rate:,.1f} texts/s, {left}", highlight=False
        )

    yield report


def _ref(session: Session, listing_id: int) -> str:
    listing = session.get(Listing, listing_id)
    return (listing.ref or f"#{listing_id}") if listing else f"#{listing_id}"


def _print_ranking(pairs: list[RankedPair]) -> None:
    table = Table(title="Dry run: best offers per need (nothing written)")
    for column in (
        "need",
        "rank",
        "offer",
        "score",
        "semantic",
        "lexical",
        "tags",
        "bonus",
        "known",
    ):
        table.add_column(column)
    for p in pairs:
        c = p.components
        bonus = c["cross_cluster"] + c["kmu"] + c["reciprocity"]
        table.add_row(
            p.need_ref or f"#{p.need_id}",
            str(p.rank),
            p.offer_ref or f"#{p.offer_id}",
            f"{p.score:.3f}",
            f"{c['semantic']:.3f}",
            f"{c['lexical']:.3f}",
            f"{c['tags']:.2f}",
            f"{bonus:.2f}",
            p.existing_status or "",
        )
    Console().print(table)


def _print_proposals(rows: list[dict[str, Any]], embedded: int, needs: int, offers: int) -> None:
    console = Console()
    console.print(
        f"{needs} active needs, {offers} active offers; embedded {embedded} listings; "
        f"proposed {len(rows)} matches."
    )
    if not rows:
        return
    table = Table(title="New proposals")
    for column in ("match", "need", "offer", "score", "reason"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row["match_id"]),
            row["need_ref"],
            row["offer_ref"],
            f"{row['score']:.3f}",
            row["reason_en"],
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("match")(match)
