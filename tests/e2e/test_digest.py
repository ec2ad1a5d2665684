"""The weekly digest over the emulator: a run missed while down, a crash mid-run, pausing."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from kooperation.models import MatchStatus, Member, Outbox, OutboxStatus, utcnow
from kooperation.services import job_runs
from tests import factories as seed

PAIRS = 8  # 16 members; at 4 messages/s the run takes about 4 s


def digest_rows(engine: Engine) -> list[Outbox]:
    with Session(engine) as session:
        return list(session.exec(select(Outbox).where(Outbox.kind == "digest")).all())


def test_a_restart_during_the_digest_run_gives_every_member_exactly_one_digest(
    emulator, bot_runner, session: Session, engine: Engine
) -> None:
    members: list[Member] = []
    for i in range(PAIRS):
        need_side = seed.company(session, f"Spedition {i}", "logistics", language="de")
        offer_side = seed.company(session, f"Software {i}", "it", language="en")
        seed.proposal(
            session,
            seed.listing(session, need_side, "need", title=f"Routenplanung {i}"),
            seed.listing(session, offer_side, "offer", title=f"Touren-SaaS {i}"),
            status=MatchStatus.APPROVED,
        )
        members += [need_side, offer_side]
    # The bot was down at the last digest slot: it owes one run at start-up.
    job_runs.record_run(session=session, job="digest", at=utcnow() - timedelta(days=8))

    since = emulator.last_seq()
    bot_runner.start(OUTBOX_RATE_PER_SECOND="4")
    deadline = time.monotonic() + 60
    while len(emulator.calls("sendMessage", since=since)) < 3:
        assert time.monotonic() < deadline, bot_runner.log()
        time.sleep(0.05)
    # Telegram's flood control holds the sender for 5 s; the process dies in that pause.
    emulator.inject_fault("sendMessage", 429, retry_after=5)
    time.sleep(1.0)
    bot_runner.kill()

    rows = digest_rows(engine)
    assert len(rows) == 2 * PAIRS  # the run queued everyone before sending
    sent_before = sum(r.status == OutboxStatus.SENT for r in rows)
    assert 3 <= sent_before < 2 * PAIRS  # killed mid-run

    bot_runner.start()
    try:
        received = {}
        for member in members:
            reply = emulator.user(member.telegram_user_id).wait_reply(timeout=30)
            title = "Wochenüberblick" if member.language == "de" else "weekly"
            assert title in reply.text
            received[member.id] = reply
        for member in members:
            emulator.user(member.telegram_user_id).expect_silence(0.2)
        assert all(r.status == OutboxStatus.SENT for r in digest_rows(engine))

        # The pause button in a digest switches the member's digest off.
        someone = members[1]
        user = emulator.user(someone.telegram_user_id, language_code="en")
        user.press(received[someone.id], data="dg:p")
        assert "paused" in user.wait_reply(timeout=10).text
        with Session(engine) as session:
            assert session.get(Member, someone.id).digest_enabled is False
    finally:
        bot_runner.stop()
