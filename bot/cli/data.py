"""`matchbot import FILE` and `matchbot export`: bringing member lists in and out."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bot.cli import database, fail, settings
from kooperation.db import session_scope
from kooperation.services.exporter import export_listings_csv
from kooperation.services.importer import ImportFileError, import_listings

export_app = typer.Typer(
    help="Export data (default: listings as CSV in the import format).",
    invoke_without_command=True,
)


def import_csv(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
) -> None:
    """Imports organizations' needs and offers from CSV (UTF-8, `,` or `;`); upserts by ref."""
    loaded = settings()
    data = file.read_bytes()
    total = max(data.count(b"\n") - 1, 1)
    console = Console(stderr=True)
    try:
        with (
            session_scope(database(loaded)) as session,
            Progress(
                TextColumn("Importing"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            ) as bar,
        ):
            task = bar.add_task("rows", total=total)
            report = import_listings(
                session=session,
                data=data,
                lifetime_days=loaded.listing_lifetime_days,
                progress=lambda n: bar.advance(task, n),
            )
    except ImportFileError as error:
        raise fail(f"{file}: {error}") from None
    for row_error in report.errors:
        typer.echo(f"{file}:{row_error.line}: {row_error.reason}", err=True)
    typer.echo(
        f"{report.rows} rows: {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged, {len(report.errors)} failed; "
        f"{report.organizations_created} new organizations."
    )
    if report.errors:
        raise typer.Exit(1)


@export_app.callback()
def export(
    ctx: typer.Context,
    output: Path | None = typer.Option(None, "--output", "-o", help="File instead of stdout."),
    include_closed: bool = typer.Option(False, help="Also closed listings."),
) -> None:
    """Writes all listings as CSV in the format `matchbot import` reads."""
    if ctx.invoked_subcommand is not None:
        return
    loaded = settings()
    with session_scope(database(loaded)) as session:
        content = export_listings_csv(session=session, tz=loaded.tz, include_closed=include_closed)
    if output:
        output.write_text(content, encoding="utf-8")
        typer.echo(f"Wrote {content.count(chr(10)) - 1} listings to {output}", err=True)
    else:
        typer.echo(content, nl=False)


def register(app: typer.Typer) -> None:
    app.command("import")(import_csv)
    app.add_typer(export_app, name="export")
