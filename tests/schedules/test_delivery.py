"""The outbox sender against a real database; Telegram is the only fake (a scripted bot)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from telegram.error import Forbidden, NetworkError, RetryAfter

from bot.delivery import OutboxSender
from kooperation.messages import WeeklyDigest, read
from kooperation.models import Member, Outbox, OutboxStatus, utcnow
from kooperation.services.outbox import claim_message, due_messages, queue_message
from tests import factories as seed

PAYLOAD = {"week": "2026-W48", "waiting": [], "introductions": [], "opportunities": []}


class ScriptedBot:
    """Records every sendMessage; raises the scripted errors first, in order."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.sent: list[tuple[float, int, str]] = []
        self.silent: list[bool] = []
        self.calls = 0

    async def send_message(self, *, chat_id: int, text: str, **options: Any) -> None:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append((time.monotonic(), chat_id, text))
        self.silent.append(bool(options.get("disable_notification")))


def sender(bot: ScriptedBot, engine: Engine, **options: Any) -> OutboxSender:
    defaults: dict[str, Any] = {"rate_per_second": 500.0, "max_attempts": 5}
    return OutboxSender(bot=bot, engine=engine, **{**defaults, **options})


def queue(session: Session, member: Member, key: str, **payload: Any) -> Outbox:
    row = queue_message(
        session=session,
        member=member,
        dedupe_key=key,
        payload=read(WeeklyDigest, {**PAYLOAD, **payload}),
    )
    session.commit()
    assert row is not None
    return row


def rows(session: Session) -> list[Outbox]:
    session.expire_all()
    return list(session.exec(select(Outbox).order_by(Outbox.id)).all())


@pytest.fixture
def members(session: Session) -> Iterator[list[Member]]:
    yield [seed.company(session, f"Firma {i}") for i in range(3)]


async def test_each_message_is_sent_once_and_marked_sent(
    session: Session, engine: Engine, members: list[Member]
) -> None:
    for member in members:
        queue(session, member, f"digest:{member.id}:w")
    bot = ScriptedBot()
    await sender(bot, engine).drain()
    await sender(bot, engine).drain()  # a second pass finds nothing to do
    assert sorted(chat for _, chat, _ in bot.sent) == sorted(m.chat_id for m in members)
    assert [(r.status, r.attempts) for r in rows(session)] == [(OutboxStatus.SENT, 1)] * 3
    assert all(r.sent_at is not None for r in rows(session))


async def test_two_messages_to_one_chat_go_at_least_a_second_apart(
    session: Session, engine: Engine, members: list[Member]
) -> None:
    alice, bob = members[0], members[1]
    queue(session, alice, "a1")
    queue(session, alice, "a2")
    queue(session, bob, "b1")
    bot = ScriptedBot()
    await sender(bot, engine).drain()
    times = [at for at, chat, _ in bot.sent if chat == alice.chat_id]
    assert len(times) == 2 and times[1] - times[0] >= 0.99
    # Bob's message did not wait behind Alice's second one.
    assert [chat for _, chat, _ in bot.sent] == [alice.chat_id, bob.chat_id, alice.chat_id]


async def test_the_overall_rate_stays_under_the_limit(
    session: Session,
    engine: Engine,
) -> None:
    for i in range(12):
        queue(session, seed.company(session, f"Rate {i}"), f"rate:{i}")
    bot = ScriptedBot()
    await sender(bot, engine, rate_per_second=10.0).drain()
    times = [at for at, _, _ in bot.sent]
    assert len(times) == 12
    # Slots are kept on average: a late message is followed by an early one, never a burst.
    assert all(times[i + 10] - times[i] >= 0.9 - 0.01 for i in range(len(times) - 10))
    assert times[-1] - times[0] >= 1.0


async def test_flood_control_is_waited_out_then_the_message_goes(
    session: Session, engine: Engine, members: list[Member]
) -> None:
    queue(session, members[0], "k")
    bot = ScriptedBot(RetryAfter(1))
    started = time.monotonic()
    stats = await sender(bot, engine).drain()
    assert bot.calls == 2 and len(bot.sent) == 1
    assert bot.sent[0][0] - started >= 1.0
    assert stats.rate_limited == 1
    assert rows(session)[0].status == OutboxStatus.SENT


async def test_a_member_who_blocked_the_bot_becomes_inactive_and_gets_nothing_more(
    session: Session, engine: Engine, members: list[Member]
) -> None:
    blocked = members[0]
    queue(session, blocked, "first")
    queue(session, blocked, "second")
    bot = ScriptedBot(Forbidden("Forbidden: bot was blocked by the user"))
    await sender(bot, engine).drain()
    assert bot.calls == 1
    session.expire_all()
    assert session.get(Member, blocked.id).active is False
    first, second = rows(session)
    assert first.status == second.status == OutboxStatus.FAILED
    assert first.last_error == "Forbidden: bot was blocked by the user"  # not "Forbidden:" twice
    assert second.last_error == "Forbidden: member unreachable (blocked the bot)"


async def test_other_errors_back_off_and_give_up_after_the_limit_keeping_the_error(
    session: Session, engine: Engine, members: list[Member]
) -> None:
    queue(session, members[0], "k")
    bot = ScriptedBot(*[NetworkError("connection reset")] * 3)
    await sender(bot, engine, max_attempts=3, backoff_base=timedelta(0)).drain()
    [row] = rows(session)
    assert bot.calls == 3
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 3)
    assert "connection reset" in row.last_error


async def test_a_failed_send_waits_for_its_backoff_before_the_retry(
    session: Session, engine: Engine, members: list[Member]
) -> None:
    queue(session, members[0], "k")
    bot = ScriptedBot(NetworkError("bad gateway"))
    await sender(bot, engine, backoff_base=timedelta(seconds=30)).drain()
    [row] = rows(session)
    assert bot.calls == 1 and row.status == OutboxStatus.PENDING
    assert row.due_at >= utcnow() + timedelta(seconds=25)
    assert "bad gateway" in row.last_error


class CrashAfterSending(ScriptedBot):
    """Telegram accepts message number `n`, then the process dies before it is marked sent."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    async def send_message(self, **kwargs: Any) -> None:
        await super().send_message(**kwargs)
        if len(self.sent) == self.n:
            raise asyncio.CancelledError


async def test_a_crash_repeats_at_most_the_one_message_in_flight(
    session: Session,
    engine: Engine,
) -> None:
    people = [seed.company(session, f"Crash {i}") for i in range(6)]
    for person in people:
        queue(session, person, f"digest:{person.id}:w")
    crashing = CrashAfterSending(3)
    with pytest.raises(asyncio.CancelledError):
        await sender(crashing, engine).drain()
    restarted = ScriptedBot()
    await sender(restarted, engine).drain()
    delivered = [chat for _, chat, _ in crashing.sent + restarted.sent]
    assert sorted(set(delivered)) == sorted(p.chat_id for p in people)  # nobody lost
    duplicates = len(delivered) - len(set(delivered))
    assert duplicates == 1
    repeated = [r for r in rows(session) if r.attempts > 1]
    assert [r.chat_id for r in repeated] == [crashing.sent[-1][1]]  # the one in flight


@pytest.mark.usefixtures("engine")
async def test_a_row_another_sender_claimed_is_not_sent_twice(
    session: Session, members: list[Member]
) -> None:
    queue(session, members[0], "k")
    [due] = due_messages(session=session, now=utcnow())
    assert claim_message(session=session, due=due) is not None
    assert claim_message(session=session, due=due) is None  # same snapshot: lost the race


@pytest.mark.usefixtures("session")
async def test_rows_queued_by_another_process_are_picked_up_while_running(
    engine: Engine, members: list[Member]
) -> None:
    bot = ScriptedBot()
    running = sender(bot, engine, poll_interval=0.2)
    task = asyncio.create_task(running.run())
    await asyncio.sleep(0.3)
    with Session(engine) as other:  # e.g. `matchbot digest --send-now`
        queue(other, members[1], "from-cli")
    for _ in range(50):
        if bot.sent:
            break
        await asyncio.sleep(0.05)
    running.stop()
    await asyncio.wait_for(task, 5)
    assert [chat for _, chat, _ in bot.sent] == [members[1].chat_id]


async def test_a_long_message_goes_out_in_parts_a_second_apart_with_buttons_on_the_last(
    session: Session, engine: Engine, members: list[Member]
) -> None:
    item = {"match_id": 1, "own_title": "x" * 80, "other_title": "y" * 80, "other_cluster": "IT"}
    queue(session, members[0], "long", waiting=[item] * 40)

    markups: list[object] = []

    class Recording(ScriptedBot):
        async def send_message(self, **kwargs: Any) -> None:
            markups.append(kwargs.get("reply_markup"))
            await super().send_message(**kwargs)

    bot = Recording()
    await sender(bot, engine).drain()
    assert len(bot.sent) == 2 and all(len(text) <= 4096 for _, _, text in bot.sent)
    assert bot.sent[1][0] - bot.sent[0][0] >= 0.99
    assert markups[0] is None and markups[1] is not None
    assert rows(session)[0].status == OutboxStatus.SENT


async def test_messages_arrive_silently_during_quiet_hours_only(
    session: Session, engine: Engine, members: list[Member]
) -> None:
    night = True
    bot = ScriptedBot()
    quiet_sender = sender(bot, engine, is_quiet=lambda: night)
    queue(session, members[0], "digest:night")
    await quiet_sender.drain()
    night = False
    queue(session, members[1], "digest:day")
    await quiet_sender.drain()
    assert bot.silent == [True, False]
