"""`matchbot digest` and `matchbot outbox`: the weekly digest by hand, and what waits to go out."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from bot.cli import database, fail, settings
from bot.cli.console import plain_text
from kooperation.dates import format_moment
from kooperation.db import session_scope
from kooperation.models import OutboxStatus
from kooperation.services import outbox


def digest(
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the digests, queue nothing."),
    send_now: bool = typer.Option(
        False, "--send-now", help="Run the weekly digest job now: queue this week's digests."
    ),
    member: int | None = typer.Option(None, "--member", help="Only this member (id)."),
    opportunities: bool = typer.Option(
        True, help="Ask matching for new opportunities (loads the embedding model)."
    ),
) -> None:
    """Shows (--dry-run) or queues (--send-now) this week's digests; the running bot sends them.

    A digest already queued this week is never queued twice (key digest:<member>:<ISO week>).
    """
    if dry_run == send_now:
        raise fail("choose one of --dry-run or --send-now", 2)
    if send_now and member is not None:
        raise fail("--member only works with --dry-run (the job runs for everyone)", 2)
    loaded = settings()
    from bot.outbox_render import render_message
    from usecases.digest import weekly_digest

    with session_scope(database(loaded)) as session:
        result = weekly_digest(
            session=session,
            settings=loaded,
            member_id=member,
            dry_run=dry_run,
            with_opportunities=opportunities,
        )
    if dry_run:
        for item in result.digests:
            rendered = render_message(item.language, item.payload())
            typer.echo(f"── member {item.member_id} {item.member_name} ({item.language}) ──")
            typer.echo(plain_text(rendered.text))
            typer.echo("")
        typer.echo(
            f"{result.week}: {len(result.digests)} digests would go out, "
            f"{result.empty} members with nothing to say, "
            f"{result.already_queued} already queued this week."
        )
        return
    sending = (
        "The running bot sends them."
        if result.queued
        else "Nothing new was queued, so nothing more will be sent."
    )
    typer.echo(
        f"{result.week}: {result.queued} digests queued, {result.empty} members with nothing "
        f"to say, {result.already_queued} already queued this week. {sending}"
    )


def show_outbox(
    limit: int = typer.Option(20, help="Rows per table."),
    retry_failed: bool = typer.Option(
        False, "--retry-failed", help="Put every failed message back into the queue."
    ),
) -> None:
    """Lists pending and failed messages with their last error.

    Exits 1 while a message failed for another reason than its member blocking the bot (that
    is normal and needs nobody's attention).
    """
    loaded = settings()
    console = Console()
    with session_scope(database(loaded)) as session:
        if retry_failed:
            count = outbox.retry_failed(session=session)
            console.print(f"{count} failed messages queued again.")
        counts = outbox.status_counts(session=session)
        blocked = (
            f" ({counts['blocked']} of them: the member blocked the bot)"
            if counts["blocked"]
            else ""
        )
        console.print(
            f"Outbox: {counts['pending']} pending, {counts['failed']} failed{blocked}, "
            f"{counts['sent']} sent."
        )
        for status in (OutboxStatus.PENDING, OutboxStatus.FAILED):
            rows = outbox.messages_by_status(session=session, status=status, limit=limit)
            if not rows:
                continue
            table = Table(title=f"{status.value} (first {len(rows)})")
            due = f"due ({loaded.timezone})"
            for column in ("id", "kind", "member", "chat", due, "attempts", "last error"):
                table.add_column(column)
            for row in rows:
                table.add_row(
                    str(row.id),
                    row.kind,
                    str(row.member_id or ""),
                    str(row.chat_id),
                    format_moment(row.due_at, loaded.tz),
                    str(row.attempts),
                    row.last_error,
                )
            console.print(table)
    if counts["failed"] > counts["blocked"] and not retry_failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("digest")(digest)
    app.command("outbox")(show_outbox)
