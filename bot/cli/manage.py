"""`matchbot stats`, `matchbot audit`, `matchbot admin add`, `matchbot manager add`,
`matchbot export introductions --csv`: the managers' side on the command line."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from bot.cli import database, fail, settings
from kooperation import validation
from kooperation.dates import format_moment
from kooperation.db import session_scope
from kooperation.services import appointments, audit, identity, reporting, stats

admin_app = typer.Typer(help="Admins of the bot.", no_args_is_help=True)
manager_app = typer.Typer(help="Cluster managers.", no_args_is_help=True)


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def stats_command(
    cluster: list[str] = typer.Option(
        [], "--cluster", "-c", help="Only these clusters (slug; repeatable)."
    ),
) -> None:
    """Members, organizations, KMU share and listings per cluster; the proposal funnel."""
    loaded = settings()
    with session_scope(database(loaded)) as session:
        scope = None
        if cluster:
            try:
                scope = {
                    appointments.cluster_or_error(session=session, slug=s).id or 0 for s in cluster
                }
            except appointments.UnknownCluster as error:
                raise fail(str(error)) from None
        figures = stats.compute_stats(session=session, cluster_ids=scope)
    console = Console(width=120)
    table = Table(title="Clusters")
    for name in (
        "cluster",
        "organizations",
        "KMU share",
        "contacts",
        "active needs",
        "active offers",
    ):
        table.add_column(name, justify="left" if name == "cluster" else "right")
    for row in [*figures.clusters, figures.total]:
        table.add_row(
            row.slug or "total",
            str(row.organizations),
            _percent(row.kmu_share),
            str(row.members),
            str(row.active_needs),
            str(row.active_offers),
        )
    console.print(table)
    funnel = figures.funnel
    steps = Table(title="From proposal to cooperation")
    steps.add_column("step")
    steps.add_column("count", justify="right")
    for label, value in (
        ("proposals", funnel.proposals),
        ("  pending", funnel.pending),
        ("  rejected", funnel.rejected),
        ("approved", funnel.approved),
        ("accepted by both", funnel.accepted_by_both),
        ("introductions", funnel.introductions),
        ("reported cooperations", funnel.cooperations),
    ):
        steps.add_row(label, str(value))
    steps.add_row("cross-cluster share of introductions", _percent(funnel.cross_cluster_share))
    median = funnel.median_decision_hours
    steps.add_row("median proposal → decision", "–" if median is None else f"{median:.1f} h")
    console.print(steps)
    deleted = figures.deleted
    if deleted is not None and deleted.any:
        console.print(
            f"Deleted by contacts themselves (not counted above): {deleted.members} contacts "
            f"with {deleted.needs} needs, {deleted.offers} offers, {deleted.matches} "
            f"proposals, {deleted.introductions} introductions."
        )


def audit_command(
    limit: int = typer.Option(200, help="Newest entries to show (0 = all)."),
    decisions: bool = typer.Option(False, "--decisions", help="Only approvals and rejections."),
) -> None:
    """Every manager/admin action and refused attempt: who, when, what, reason."""
    loaded = settings()
    with session_scope(database(loaded)) as session:
        entries = audit.audit_entries(
            session=session, limit=limit or None, decisions_only=decisions
        )
    table = Table(title=f"Audit log ({len(entries)} entries, newest first)")
    for name in (f"when ({loaded.timezone})", "who", "what", "target", "allowed", "reason"):
        table.add_column(name)
    for entry in entries:
        table.add_row(
            format_moment(entry.at, loaded.tz),
            entry.actor,
            entry.action,
            entry.target,
            "yes" if entry.allowed else "REFUSED",
            entry.reason,
        )
    Console(width=160).print(table)


def _telegram_id(value: int) -> int:
    try:
        return validation.parse_telegram_id(value)
    except validation.InvalidInput:
        raise fail(
            f"{value} is not a Telegram user id (a positive number, e.g. 123456789)", 2
        ) from None


@admin_app.command("add")
def admin_add(
    telegram_id: int = typer.Argument(..., help="The person's Telegram user id."),
) -> None:
    """Makes a Telegram user an admin (recognised as soon as they open the bot)."""
    telegram_id = _telegram_id(telegram_id)
    loaded = settings()
    with session_scope(database(loaded)) as session:
        member = appointments.add_admin(
            session=session,
            member=identity.ensure_member(session=session, telegram_user_id=telegram_id),
        )
    typer.echo(f"Telegram user {member.telegram_user_id} is now an admin.")


@manager_app.command("add")
def manager_add(
    telegram_id: int = typer.Argument(..., help="The person's Telegram user id."),
    cluster: str = typer.Argument(..., help="Cluster slug, e.g. automotive, logistics, it."),
) -> None:
    """Makes a Telegram user a manager of a cluster (recognised as soon as they open the bot)."""
    telegram_id = _telegram_id(telegram_id)
    loaded = settings()
    with session_scope(database(loaded)) as session:
        try:
            found = appointments.cluster_or_error(session=session, slug=cluster)
        except appointments.UnknownCluster as error:
            raise fail(str(error)) from None
        member = identity.ensure_member(session=session, telegram_user_id=telegram_id)
        created = appointments.appoint_manager(session=session, member=member, cluster=found)
    state = "is now" if created else "already was"
    typer.echo(f"Telegram user {telegram_id} {state} a manager of {found.slug}.")


def export_introductions(
    csv_format: bool = typer.Option(
        True, "--csv/--no-csv", help="CSV (the only format; the flag keeps scripts explicit)."
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="File instead of stdout."),
) -> None:
    """The programme's reporting table: every approved proposal and what became of it."""
    if not csv_format:
        raise fail("only --csv is supported", 2)
    loaded = settings()
    with session_scope(database(loaded)) as session:
        rows = reporting.introduction_rows(session=session, tz=loaded.tz)
    if output:
        with output.open("w", encoding="utf-8", newline="") as stream:
            count = reporting.write_csv(rows, stream)
        typer.echo(f"Wrote {count} introductions to {output}", err=True)
    else:
        reporting.write_csv(rows, sys.stdout)


def register(app: typer.Typer) -> None:
    app.command("stats")(stats_command)
    app.command("audit")(audit_command)
    app.add_typer(admin_app, name="admin")
    app.add_typer(manager_app, name="manager")
    from bot.cli.data import export_app

    export_app.command("introductions")(export_introductions)
