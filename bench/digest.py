"""A weekly digest to 10,000 members through the real bot and the Bot API emulator.

    python bench/digest.py [--members 10000] [--kill-at 0.5] [--database-url URL]

Seeds N members (N/2 need-side and N/2 offer-side companies, one approved match per pair, so
every member has something to say), composes and queues the digests (`run_digest`), then starts
the real bot (`python -m bot run`) against the emulator and lets its outbox sender deliver them.
With `--kill-at F` the bot is SIGKILLed once a fraction F is sent and started again.

Printed: compose time; delivery time and messages per second against Telegram's 30/s limit and
the configured OUTBOX_RATE_PER_SECOND; duplicates and losses counted from the emulator's call
log (every sendMessage per chat); and, as a baseline measured in the same run, how many
sendMessage calls per second the emulator takes from one unthrottled client, which shows the
emulator is not what limits the rate.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session, func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kooperation.db import engine_for, session_scope, upgrade  # noqa: E402
from kooperation.models import (  # noqa: E402
    Cluster,
    Listing,
    Match,
    Member,
    Organization,
    Outbox,
    OutboxStatus,
    utcnow,
)
from kooperation.services.digest import run_digest  # noqa: E402
from tests.e2e.conftest import TOKEN, BotRunner  # noqa: E402
from tests.e2e.tgemu import Emulator  # noqa: E402

TELEGRAM_LIMIT = 30.0
CHAT_BASE = 800_000_000


def seed(session: Session, members: int) -> None:
    """N/2 pairs: a logistics need and an IT offer, approved, waiting for both answers."""
    clusters = {c.slug: c.id for c in session.exec(select(Cluster)).all()}
    pairs = members // 2
    now = utcnow()
    orgs = [
        Organization(
            name=f"{'Spedition' if i % 2 == 0 else 'Software'} {i // 2:05d} GmbH",
            cluster_id=clusters["logistics" if i % 2 == 0 else "it"],
        )
        for i in range(2 * pairs)
    ]
    session.add_all(orgs)
    session.flush()
    people = [
        Member(
            telegram_user_id=CHAT_BASE + i,
            chat_id=CHAT_BASE + i,
            display_name=f"Kontakt {i}",
            language="de" if i % 3 else "en",
            organization_id=org.id,
            consent_at=now,
        )
        for i, org in enumerate(orgs)
    ]
    session.add_all(people)
    session.flush()
    listings = [
        Listing(
            organization_id=person.organization_id,
            member_id=person.id,
            kind="need" if i % 2 == 0 else "offer",
            title=(
                "Tourenplanung für Kühltransporte"
                if i % 2 == 0
                else "Routenoptimierung als Service"
            )
            + f" #{i // 2}",
            text="Beschreibung des Bedarfs oder Angebots mit genügend Text.",
            expires_at=now + timedelta(days=90),
        )
        for i, person in enumerate(people)
    ]
    session.add_all(listings)
    session.flush()
    session.add_all(
        Match(
            need_id=listings[2 * p].id,
            offer_id=listings[2 * p + 1].id,
            score=0.8,
            status="approved",
            decided_at=now,
            reason_de="Beide nennen Kühlkette.",
            reason_en="Both mention cold chain.",
        )
        for p in range(pairs)
    )
    session.commit()


async def emulator_baseline(emulator: Emulator, messages: int) -> float:
    """sendMessage calls per second the emulator answers from one client, unthrottled."""
    from telegram import Bot

    async with Bot(TOKEN, base_url=emulator.base_url) as bot:
        started = time.perf_counter()
        for i in range(messages):
            await bot.send_message(chat_id=CHAT_BASE - 1 - i, text=f"baseline {i}")
        return messages / (time.perf_counter() - started)


def sent_count(engine: object) -> int:
    with Session(engine) as session:  # type: ignore[arg-type]
        return session.exec(
            select(func.count()).select_from(Outbox).where(Outbox.status == OutboxStatus.SENT)
        ).one()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--kill-at", type=float, default=None, help="SIGKILL at this fraction")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    workdir = Path(tempfile.mkdtemp(prefix="bench-digest-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    upgrade(url)
    engine = engine_for(url)

    started = time.perf_counter()
    with Session(engine) as session:
        seed(session, args.members)
    seeded = time.perf_counter() - started
    started = time.perf_counter()
    with session_scope(engine) as session:  # as the bot's job does
        run = run_digest(session=session, tz=ZoneInfo("Europe/Berlin"))
    composed = time.perf_counter() - started
    total = run.queued
    print(
        f"seeded {args.members} members in {seeded:.1f} s; "
        f"composed and queued {total} digests in {composed:.1f} s "
        f"({total / composed:.0f} members/s)"
    )

    with Emulator(token=TOKEN, log_path=workdir / "emulator.log") as emulator:
        baseline = asyncio.run(emulator_baseline(emulator, 500))
        emulator.reset()
        runner = BotRunner(emulator, url, workdir, LOG_LEVEL="WARNING")
        since = emulator.last_seq()
        wall = time.perf_counter()
        runner.start()
        restarts = 0
        last_report = time.perf_counter()
        while (done := sent_count(engine)) < total:
            if args.kill_at is not None and restarts == 0 and done >= args.kill_at * total:
                runner.kill()
                restarts += 1
                print(f"killed the bot at {done} sent; starting it again", flush=True)
                runner.start()
            if time.perf_counter() - last_report > 30:
                last_report = time.perf_counter()
                print(f"  {done}/{total} sent", flush=True)
            time.sleep(0.2)
        wall = time.perf_counter() - wall
        runner.stop()
        calls = list(emulator.calls("sendMessage", since=since))

    per_chat = Counter(int(c["params"]["chat_id"]) for c in calls)
    expected = {CHAT_BASE + i for i in range(2 * (args.members // 2))}
    duplicates = sum(n - 1 for n in per_chat.values() if n > 1)
    losses = len(expected - set(per_chat))
    first, last = calls[0]["ts"], calls[-1]["ts"]
    rate = (len(calls) - 1) / (last - first) if len(calls) > 1 else 0.0
    with Session(engine) as session:
        repeated = session.exec(
            select(func.count()).select_from(Outbox).where(Outbox.attempts > 1)
        ).one()
    print(
        f"delivered {len(per_chat)} digests with {len(calls)} sendMessage calls "
        f"in {last - first:.1f} s (bot start to all marked sent: {wall:.1f} s)"
    )
    print(
        f"rate {rate:.1f} msg/s = {rate / TELEGRAM_LIMIT:.0%} of Telegram's {TELEGRAM_LIMIT:.0f}/s "
        f"(target >= 80%); sender setting {os.environ.get('OUTBOX_RATE_PER_SECOND', '28')}/s"
    )
    print(
        f"duplicates {duplicates} (rows attempted more than once: {repeated}), losses {losses}"
        + (f", restarts {restarts}" if restarts else "")
    )
    print(
        f"baseline: the emulator answers {baseline:.0f} sendMessage/s from one unthrottled "
        f"client ({baseline / rate:.1f}x the sender's rate)"
    )
    if duplicates or losses or rate < 0.8 * TELEGRAM_LIMIT:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
