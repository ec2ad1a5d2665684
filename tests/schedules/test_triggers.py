"""Schedules run on Berlin wall-clock time, once per slot, across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from apscheduler.schedulers.background import BackgroundScheduler

from bot.jobs import WallClockCron, missed_slot

BERLIN = ZoneInfo("Europe/Berlin")


def fires(expression: str, start: datetime, end: datetime) -> list[datetime]:
    """Every fire time in [start, end), walked the way APScheduler walks a trigger."""
    trigger = WallClockCron(expression, BERLIN)
    out: list[datetime] = []
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and fire < end:
        out.append(fire)
        fire = trigger.get_next_fire_time(fire, fire)
    return out


def test_digest_fires_at_eight_berlin_on_both_sides_of_the_spring_change() -> None:
    # Clocks go forward on Sunday 2026-03-29: Monday the 23rd is CET, Monday the 30th CEST.
    found = fires(
        "0 8 * * mon", datetime(2026, 3, 20, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    )
    assert [f.astimezone(UTC) for f in found] == [
        datetime(2026, 3, 23, 7, 0, tzinfo=UTC),
        datetime(2026, 3, 30, 6, 0, tzinfo=UTC),
    ]
    assert all((f.astimezone(BERLIN).hour, f.astimezone(BERLIN).minute) == (8, 0) for f in found)


def test_digest_fires_at_eight_berlin_on_both_sides_of_the_autumn_change() -> None:
    # Clocks go back on Sunday 2026-10-25.
    found = fires(
        "0 8 * * mon", datetime(2026, 10, 17, tzinfo=UTC), datetime(2026, 10, 28, tzinfo=UTC)
    )
    assert [f.astimezone(UTC) for f in found] == [
        datetime(2026, 10, 19, 6, 0, tzinfo=UTC),
        datetime(2026, 10, 26, 7, 0, tzinfo=UTC),
    ]


def test_match_job_runs_once_when_two_oclock_does_not_exist() -> None:
    day = fires(
        "0 2 * * *", datetime(2026, 3, 28, 12, tzinfo=UTC), datetime(2026, 3, 30, 12, tzinfo=UTC)
    )
    # 28 → 29 March: 02:00 CET does not exist on the 29th; it runs once, when clocks jump to 03:00.
    assert [f.astimezone(UTC) for f in day] == [
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
        datetime(2026, 3, 30, 0, 0, tzinfo=UTC),
    ]
    assert day[0].astimezone(BERLIN).hour == 3


def test_match_job_runs_once_when_two_oclock_happens_twice() -> None:
    for expression, minute in (("0 2 * * *", 0), ("30 2 * * *", 30)):
        found = fires(
            expression,
            datetime(2026, 10, 24, 12, tzinfo=UTC),
            datetime(2026, 10, 26, 12, tzinfo=UTC),
        )
        assert [f.astimezone(UTC) for f in found] == [
            datetime(2026, 10, 25, 0, minute, tzinfo=UTC),  # 02:xx CEST, the first occurrence
            datetime(2026, 10, 26, 1, minute, tzinfo=UTC),  # 02:xx CET the next day
        ], expression


def test_a_start_inside_the_repeated_hour_does_not_run_the_slot_again() -> None:
    trigger = WallClockCron("30 2 * * *", BERLIN)
    inside = datetime(2026, 10, 25, 1, 10, tzinfo=UTC)  # 02:10 CET, after 02:30 CEST already ran
    assert trigger.get_next_fire_time(None, inside) == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)


def test_the_previous_slot_is_the_last_one_at_or_before_now() -> None:
    trigger = WallClockCron("0 8 * * mon", BERLIN)
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)  # a Wednesday
    assert trigger.previous_fire_time(now) == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def test_a_run_missed_while_down_is_owed_once_whatever_the_number_of_missed_slots() -> None:
    trigger = WallClockCron("0 2 * * *", BERLIN)
    now = datetime(2026, 11, 29, 12, tzinfo=UTC)
    three_days_down = now - timedelta(days=3)
    owed = missed_slot(trigger, now, three_days_down)
    assert owed == datetime(2026, 11, 29, 1, 0, tzinfo=UTC)  # only the latest slot
    assert missed_slot(trigger, now, owed) is None  # that run happened: nothing owed
    assert missed_slot(trigger, now, None) is None  # never ran on this database: nothing owed


def test_with_a_frozen_clock_the_scheduler_plans_each_job_for_the_right_instant() -> None:
    """What APScheduler does when it (re)plans a job: ask the trigger with the current time."""
    cases = [
        # (frozen now, schedule, next run in UTC)
        (
            datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
            "0 2 * * *",
            datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
        ),
        (
            datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
            "0 2 * * *",
            datetime(2026, 10, 26, 1, 0, tzinfo=UTC),
        ),
        (
            datetime(2026, 3, 29, 12, 0, tzinfo=UTC),
            "0 8 * * mon",
            datetime(2026, 3, 30, 6, 0, tzinfo=UTC),
        ),
        (
            datetime(2026, 10, 25, 12, 0, tzinfo=UTC),
            "0 8 * * mon",
            datetime(2026, 10, 26, 7, 0, tzinfo=UTC),
        ),
    ]
    for now, expression, expected in cases:
        with time_machine.travel(now, tick=False):
            scheduler = BackgroundScheduler(timezone=BERLIN)
            scheduler.start(paused=True)
            try:
                job = scheduler.add_job(print, WallClockCron(expression, BERLIN))
                assert job.next_run_time == expected, (now, expression)
            finally:
                scheduler.shutdown(wait=False)
