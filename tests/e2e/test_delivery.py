"""The outbox sender inside the running bot, over the Bot API emulator."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from kooperation.models import Member, Outbox, OutboxStatus
from kooperation.services.outbox import queue_message
from tests.schedules.conftest import World

PAYLOAD = {
    "week": "2026-W48",
    "waiting": [
        {"match_id": 1, "own_title": "Routen <neu>", "other_title": "SaaS", "other_cluster": "IT"}
    ],
    "introductions": [],
    "opportunities": [],
}


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    with Session(engine, expire_on_commit=False) as session:
        yield World(session)


def queue(world: World, member: Member, key: str) -> Outbox:
    row = queue_message(
        session=world.session, member=member, kind="digest", dedupe_key=key, payload=PAYLOAD
    )
    world.session.commit()
    assert row is not None
    return row


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.1)


def fresh(engine: Engine, model: type, key: int) -> object:
    with Session(engine) as session:
        return session.get(model, key)


def test_a_message_queued_by_another_process_reaches_the_member(
    emulator, bot, world: World, engine: Engine
) -> None:
    member = world.company("Spedition Nord", "logistics")
    row = queue(world, member, "e2e:plain")
    reply = emulator.user(member.telegram_user_id).wait_reply(timeout=10)
    assert reply.parse_mode == "HTML"
    assert "Routen &lt;neu&gt;" in reply.text
    assert reply.button(data="dg:p")
    eventually(lambda: fresh(engine, Outbox, row.id).status == OutboxStatus.SENT)


def test_flood_control_from_telegram_is_waited_out(
    emulator, bot, world: World, engine: Engine
) -> None:
    member = world.company("Flut GmbH", "it")
    since = emulator.last_seq()
    emulator.inject_fault("sendMessage", 429, retry_after=1)
    row = queue(world, member, "e2e:429")
    reply = emulator.user(member.telegram_user_id).wait_reply(timeout=15)
    assert "Routen" in reply.text
    attempts = [
        c
        for c in emulator.calls("sendMessage", since=since)
        if int(c["params"]["chat_id"]) == member.chat_id
    ]
    assert len(attempts) == 2  # the refused one and the one after the wait
    assert attempts[1]["ts"] - attempts[0]["ts"] >= 1.0
    eventually(lambda: fresh(engine, Outbox, row.id).status == OutboxStatus.SENT)


def test_a_member_who_blocked_the_bot_becomes_inactive(
    emulator, bot, world: World, engine: Engine
) -> None:
    member = world.company("Blockiert AG", "automotive")
    emulator.inject_fault("sendMessage", 403, description="Forbidden: bot was blocked by the user")
    row = queue(world, member, "e2e:403")
    eventually(lambda: fresh(engine, Outbox, row.id).status == OutboxStatus.FAILED)
    assert fresh(engine, Member, member.id).active is False
    assert "blocked" in fresh(engine, Outbox, row.id).last_error
    emulator.user(member.telegram_user_id).expect_silence(0.5)
