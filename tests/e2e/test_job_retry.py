"""A scheduled job that fails at its slot runs again (issue 13 item 5): the database's write
lock is held across the digest's slot, then released, and the digest still goes out."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from kooperation.models import MatchStatus, Outbox
from tests import factories as seed
from tests.e2e.flows import NO_MATCHING, running_bot

# The digest every minute, so a slot comes during the test; retries after 3 s each.
bot = running_bot(
    EMBEDDING_MODEL=NO_MATCHING, DIGEST_SCHEDULE="* * * * *", JOB_RETRY_DELAYS_SECONDS="3,3,30"
)
HOLD_AFTER_SLOT = 12.0  # SQLite gives up on a write after 10 s (busy_timeout)


@contextmanager
def write_lock(engine: Engine) -> Iterator[None]:
    """Holds the database's write lock, as a long CLI command writing would."""
    if engine.dialect.name == "sqlite":
        connection = sqlite3.connect(engine.url.database, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        return
    with engine.connect() as connection:
        connection.execute(text("LOCK TABLE outbox IN EXCLUSIVE MODE"))
        try:
            yield
        finally:
            connection.rollback()


def wait_for_second(low: int, high: int) -> None:
    """Waits until the wall clock's seconds are in [low, high)."""
    while not low <= datetime.now(UTC).second < high:
        time.sleep(0.2)


def test_a_digest_blocked_at_its_slot_goes_out_when_the_lock_is_released(
    emulator, bot, engine: Engine
) -> None:
    wait_for_second(46, 52)  # seeded just before a slot, so no earlier run saw these members
    with Session(engine, expire_on_commit=False) as session:
        need_side = seed.company(session, "Spedition Retry", "logistics")
        offer_side = seed.company(session, "Software Retry", "it")
        seed.proposal(
            session,
            seed.listing(session, need_side, "need", title="Routenplanung"),
            seed.listing(session, offer_side, "offer", title="Touren-SaaS"),
            status=MatchStatus.APPROVED,
        )
    member = emulator.user(need_side.telegram_user_id)
    with write_lock(engine):
        while datetime.now(UTC).second >= 46:  # until the slot has passed
            time.sleep(0.2)
        time.sleep(HOLD_AFTER_SLOT)
        member.expect_silence(0.5)
    digest = member.wait_reply(timeout=40, contains="Wochenüberblick")
    assert "Routenplanung" in digest.text
    with Session(engine) as session:
        rows = session.exec(select(Outbox).where(Outbox.kind == "digest")).all()
    assert sorted(r.member_id for r in rows) == sorted([need_side.id, offer_side.id])
    if engine.dialect.name == "sqlite":  # PostgreSQL waits for the lock instead of failing
        log = bot.process.log_path.read_text(errors="replace")
        assert "digest failed (attempt 1 of 4)" in log and "digest: retry 1 of 3" in log, log
