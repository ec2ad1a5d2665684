"""A failed scheduled run is retried within its slot; after the last retry the admins are told
once. The job runs on python-telegram-bot's real JobQueue (APScheduler), offline."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select
from telegram.ext import Application

from bot.context import Runtime
from bot.jobs import _locked
from bot.outbox_render import render
from kooperation.config import Settings
from kooperation.models import Outbox
from tests import factories as seed

LOCKED = OperationalError("INSERT INTO outbox …", {}, Exception("database is locked"))


@pytest.fixture
async def app(settings: Settings, engine: Engine) -> AsyncIterator[Application]:
    application = Application.builder().token("123:offline").build()
    application.bot_data["runtime"] = Runtime(settings=settings, engine=engine)
    assert application.job_queue is not None
    await application.job_queue.start()
    yield application
    await application.job_queue.stop(wait=False)


def failing(times: int) -> tuple[list[int], Callable[[Runtime], str]]:
    calls: list[int] = []

    def work(_rt: Runtime) -> str:
        calls.append(1)
        if len(calls) <= times:
            raise LOCKED
        return "done"

    return calls, work


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    for _ in itertools.count():
        if condition():
            return
        timeout -= 0.05
        assert timeout > 0, "timed out"
        await asyncio.sleep(0.05)


def alerts(engine: Engine) -> list[Outbox]:
    with Session(engine) as session:
        return list(session.exec(select(Outbox).where(Outbox.kind == "job_failed")).all())


async def test_a_run_that_fails_once_is_retried_and_nobody_is_alarmed(
    app: Application, session: Session, engine: Engine
) -> None:
    seed.admin(session, 880_000_001)
    calls, work = failing(times=1)
    app.job_queue.run_once(_locked("digest", work, retries=(0.1, 0.1)), when=0)
    await until(lambda: len(calls) == 2)
    await asyncio.sleep(0.5)
    assert len(calls) == 2
    assert alerts(engine) == []


@pytest.mark.usefixtures("settings")
async def test_a_run_failing_after_the_last_retry_tells_each_admin_once(
    app: Application, session: Session, engine: Engine
) -> None:
    first, second = seed.admin(session, 880_000_002), seed.admin(session, 880_000_003)
    calls, work = failing(times=99)
    app.job_queue.run_once(_locked("digest", work, retries=(0.1, 0.2)), when=0)
    await until(lambda: len(alerts(engine)) == 2)
    await asyncio.sleep(0.5)
    assert len(calls) == 3  # the run and two retries, then no more
    rows = alerts(engine)
    assert sorted(r.member_id for r in rows) == sorted([first.id, second.id])
    payload = rows[0].payload
    assert (payload["job"], payload["attempts"]) == ("digest", 3)
    assert payload["error"] == "OperationalError: (builtins.Exception) database is locked"
    text = render("job_failed", "de", payload).text
    assert "wöchentlicher Überblick" in text and "3 Versuchen" in text
