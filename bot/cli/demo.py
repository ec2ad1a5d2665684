"""`matchbot demo`: the whole product on a fresh database, without Telegram or network.

Loads the bundled regional sample, runs a real matching round and walks one proposal from the
manager's review queue through approval and the double opt-in to the introduction; then shows a
member's weekly digest. Every message is rendered by the same code the bot sends it with.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.cli import settings
from bot.cli.console import message_panel
from kooperation import db
from kooperation.config import Settings
from kooperation.models import Cluster, Listing, Match, Member, Organization
from kooperation.services.demo import DemoData, load_demo

DEMO_DB = "matchbot-demo.db"


def demo(
    database: Path = typer.Option(
        Path(DEMO_DB), "--database", help="Demo database file (recreated on every run)."
    ),
    proposals: int = typer.Option(12, help="How many proposals to list."),
) -> None:
    """Loads sample data into a fresh database, matches it and shows what people would see."""
    loaded = settings()
    database = database.resolve()
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{database}"
    demo_settings = loaded.model_copy(update={"database_url": url})
    console = Console()
    db.upgrade(url)
    engine = db.engine_for(url)
    with db.session_scope(engine) as session:
        data = load_demo(session=session)
        _show_data(console, session, data)
        with console.status("Embedding the listings and running a matching round …"):
            from matching.rounds import run_round

            result = run_round(session=session, settings=demo_settings)
            session.commit()
        _show_proposals(console, session, result.matches, proposals, result.embedded)
        if not result.matches:
            console.print("[yellow]The round proposed nothing; nothing more to show.[/]")
            return
        manager = _busiest_manager(session, demo_settings, data)
        _show_notification(console, session, demo_settings, manager, result.round.id)
        match_id = _show_review(console, session, demo_settings, manager)
        _show_introduction(console, session, demo_settings, manager, match_id)
        _show_digest(console, demo_settings, engine)
    console.rule("[bold]Done")
    console.print(
        f"Demo database: {database}\n"
        "Run the bot for real with a token from @BotFather: see README, 'Running the bot'."
    )


def _show_data(console: Console, session: Session, data: DemoData) -> None:
    console.rule("[bold]1 · Sample data")
    table = Table("cluster", "organizations", "needs", "offers", "German", "English")
    for cluster in session.exec(select(Cluster).order_by(col(Cluster.id))).all():
        orgs = session.exec(select(Organization).where(Organization.cluster_id == cluster.id)).all()
        ids = {o.id for o in orgs}
        listings = [x for x in session.exec(select(Listing)).all() if x.organization_id in ids]
        table.add_row(
            cluster.name,
            str(len(orgs)),
            str(sum(x.kind == "need" for x in listings)),
            str(sum(x.kind == "offer" for x in listings)),
            str(sum(x.language == "de" for x in listings)),
            str(sum(x.language == "en" for x in listings)),
        )
    console.print(table)
    console.print(
        f"{data.report.created} listings imported from the bundled CSV, "
        f"{data.contacts} company contacts, managers: "
        + ", ".join(f"{m.display_name} ({slug})" for slug, m in data.managers.items())
    )


def _show_proposals(
    console: Console, session: Session, matches: list[Match], limit: int, embedded: int
) -> None:
    console.rule("[bold]2 · Matching round")
    cross = sum(m.cross_cluster > 0 for m in matches)
    console.print(
        f"{embedded} listings embedded, {len(matches)} proposals "
        f"({cross} across cluster borders). The best {min(limit, len(matches))}:"
    )
    table = Table("score", "need", "offer", "reason", show_lines=True)
    for match in sorted(matches, key=lambda m: -m.score)[:limit]:
        table.add_row(
            f"{match.score:.2f}",
            _side_label(session, match.need_id),
            _side_label(session, match.offer_id),
            match.reason_de,
        )
    console.print(table)


def _side_label(session: Session, listing_id: int) -> str:
    listing = session.get(Listing, listing_id)
    assert listing is not None
    org = session.get(Organization, listing.organization_id)
    assert org is not None
    cluster = session.get(Cluster, org.cluster_id)
    return f"{listing.title}\n[dim]{org.name} · {cluster.slug if cluster else '?'}[/]"


def _busiest_manager(session: Session, settings: Settings, data: DemoData) -> Member:
    from kooperation.services.review import review_queue

    return max(
        data.managers.values(),
        key=lambda m: len(review_queue(session=session, settings=settings, member=m)),
    )


def _show_notification(
    console: Console, session: Session, settings: Settings, manager: Member, round_id: int | None
) -> None:
    from bot.outbox_render import render
    from kooperation.messages import OutboxKind
    from kooperation.models import Outbox
    from kooperation.services.review import notify_managers_of_new_proposals

    if round_id is None:
        return
    notify_managers_of_new_proposals(session=session, settings=settings, force=True)
    note = session.exec(
        select(Outbox).where(
            Outbox.member_id == manager.id, Outbox.kind == OutboxKind.MANAGER_NEW_PROPOSALS
        )
    ).first()
    if note is not None:
        console.rule(f"[bold]3 · {manager.display_name} is notified (one message per round)")
        console.print(message_panel(render(note.kind, manager.language, note.payload), "Bot"))


def _show_review(console: Console, session: Session, settings: Settings, manager: Member) -> int:
    from bot.handlers.review import render_card
    from bot.outbox_render import Rendered
    from kooperation.services.review import review_queue

    queue = review_queue(session=session, settings=settings, member=manager)
    console.rule(f"[bold]4 · Review queue of {manager.display_name} ({len(queue)} pending)")
    first = queue[0]
    text, buttons = render_card(manager.language, first, len(queue))
    console.print(message_panel(Rendered(text, buttons), "/review"))
    return first.match_id


def _show_introduction(
    console: Console, session: Session, settings: Settings, manager: Member, match_id: int
) -> None:
    from bot.outbox_render import render
    from kooperation.services.introductions import (
        answer_introduction,
        messages_of_match,
        side_contact,
    )
    from kooperation.services.review import approve_match

    console.rule("[bold]5 · Approval → both sides agree → introduction")
    approve_match(session=session, settings=settings, member=manager, match_id=match_id)
    match = session.get(Match, match_id)
    assert match is not None
    for listing_id in (match.need_id, match.offer_id):
        listing = session.get(Listing, listing_id)
        contact = side_contact(session=session, listing=listing) if listing else None
        if contact is not None:
            answer_introduction(session=session, member=contact, match_id=match_id, accept=True)
    members = {m.id: m for m in session.exec(select(Member)).all()}
    for row in messages_of_match(session=session, match_id=match_id):
        member = members.get(row.member_id)
        if member is None:
            continue
        who = f"to {member.display_name} ({row.kind})"
        console.print(message_panel(render(row.kind, member.language, row.payload), who))


def _show_digest(console: Console, settings: Settings, engine: Engine) -> None:
    from bot.outbox_render import render_message
    from usecases.digest import weekly_digest

    with db.session_scope(engine) as session:
        run = weekly_digest(session=session, settings=settings, dry_run=True)
    if not run.digests:
        return
    digest = max(run.digests, key=lambda d: len(d.opportunities) + 2 * len(d.introductions))
    console.rule(
        f"[bold]6 · Weekly digest of {digest.member_name} "
        f"({len(run.digests)} members would get one this week)"
    )
    console.print(message_panel(render_message(digest.language, digest.payload()), "Bot"))


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
