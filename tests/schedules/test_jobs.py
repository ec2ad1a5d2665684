"""Start-up catch-up decided from the database, and the jobs' database work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.context import Runtime
from bot.jobs import WallClockCron, _catch_up, run_digest, run_housekeeping
from kooperation.config import Settings
from kooperation.models import MatchRound, MatchStatus, Outbox
from kooperation.services import job_runs
from tests import factories as seed

WEDNESDAY = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # last digest slot: Mon 23rd 07:00 UTC


def test_first_start_on_a_database_owes_nothing_and_starts_counting(
    settings: Settings, engine: Engine, session: Session
) -> None:
    rt = Runtime(settings=settings, engine=engine)
    trigger = WallClockCron(settings.digest_schedule, settings.tz)
    with time_machine.travel(WEDNESDAY, tick=False):
        assert _catch_up(rt, job_runs.DIGEST, trigger) is False
        assert job_runs.last_run(session=session, job=job_runs.DIGEST) == WEDNESDAY
    with time_machine.travel(WEDNESDAY + timedelta(days=7), tick=False):
        assert _catch_up(rt, job_runs.DIGEST, trigger) is True  # Monday's slot passed while down


def test_a_digest_that_ran_after_the_last_slot_is_not_repeated_at_start_up(
    settings: Settings, engine: Engine, session: Session
) -> None:
    rt = Runtime(settings=settings, engine=engine)
    trigger = WallClockCron(settings.digest_schedule, settings.tz)
    monday_run = datetime(2026, 11, 23, 7, 0, 3, tzinfo=UTC)
    job_runs.record_run(session=session, job=job_runs.DIGEST, at=monday_run)
    with time_machine.travel(WEDNESDAY, tick=False):
        assert _catch_up(rt, job_runs.DIGEST, trigger) is False


def test_a_matching_round_started_by_hand_counts_as_the_nights_run(
    settings: Settings, engine: Engine, session: Session
) -> None:
    rt = Runtime(settings=settings, engine=engine)
    trigger = WallClockCron(settings.match_schedule, settings.tz)
    job_runs.record_run(session=session, job=job_runs.MATCH, at=WEDNESDAY - timedelta(days=3))
    with time_machine.travel(WEDNESDAY, tick=False):
        assert _catch_up(rt, job_runs.MATCH, trigger) is True  # tonight's 02:00 was missed
        session.add(MatchRound(started_at=WEDNESDAY - timedelta(hours=2)))
        session.commit()
        assert _catch_up(rt, job_runs.MATCH, trigger) is False


def test_the_digest_job_queues_and_records_its_run(
    settings: Settings,
    engine: Engine,
    session: Session,
) -> None:
    need_side = seed.company(session, "Spedition", "logistics")
    offer_side = seed.company(session, "Software", "it")
    seed.proposal(
        session,
        seed.listing(session, need_side, "need", title="A"),
        seed.listing(session, offer_side, "offer", title="B"),
        status=MatchStatus.APPROVED,
    )
    rt = Runtime(settings=settings, engine=engine)
    with time_machine.travel(WEDNESDAY, tick=False):
        result = run_digest(rt, with_opportunities=False)
    assert result.queued == 2
    assert job_runs.last_run(session=session, job=job_runs.DIGEST) == WEDNESDAY


@pytest.mark.usefixtures("session")
def test_an_introduction_reported_last_week_is_not_repeated(
    settings: Settings, engine: Engine, session: Session
) -> None:
    need_side = seed.company(session, "Spedition", "logistics")
    offer_side = seed.company(session, "Software", "it")
    seed.proposal(
        session,
        seed.listing(session, need_side, "need", title="A"),
        seed.listing(session, offer_side, "offer", title="B"),
        status=MatchStatus.INTRODUCED,
        introduced_at=WEDNESDAY - timedelta(days=1),
        decided_at=WEDNESDAY - timedelta(days=3),
    )
    rt = Runtime(settings=settings, engine=engine)
    with time_machine.travel(WEDNESDAY, tick=False):
        assert run_digest(rt, with_opportunities=False).queued == 2
    next_monday = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)  # within 7 days of the introduction
    with time_machine.travel(next_monday, tick=False):
        later = run_digest(rt, with_opportunities=False)
    assert (later.week, later.queued, later.empty) == ("2026-W49", 0, 2)


def test_housekeeping_queues_follow_ups_reminders_and_closes_expired_listings(
    settings: Settings,
    engine: Engine,
    session: Session,
) -> None:
    owner = seed.company(session, "Firma", "it")
    partner = seed.company(session, "Partner", "logistics")
    seed.listing(
        session, owner, "offer", title="Läuft bald ab", expires_at=WEDNESDAY + timedelta(days=3)
    )
    seed.listing(
        session, owner, "offer", title="Abgelaufen", expires_at=WEDNESDAY - timedelta(hours=1)
    )
    seed.proposal(
        session,
        seed.listing(session, partner, "need", title="Bedarf"),
        seed.listing(session, owner, "offer", title="Angebot"),
        status=MatchStatus.INTRODUCED,
        introduced_at=WEDNESDAY - timedelta(days=15),
    )
    rt = Runtime(settings=settings, engine=engine)
    with time_machine.travel(WEDNESDAY, tick=False):
        assert run_housekeeping(rt) == {"followups": 2, "reminders": 1, "closed": 1}
        assert run_housekeeping(rt) == {"followups": 0, "reminders": 0, "closed": 0}
    kinds = sorted(row.kind for row in session.exec(select(Outbox)).all())
    assert kinds == ["expiry_reminder", "followup", "followup", "listing_closed"]
