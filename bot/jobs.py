"""Schedules of the running bot: nightly matching, the weekly digest, follow-ups and expiry,
and the outbox sender that delivers what they queue. The work itself is the application
layer's (`usecases`); here it is only scheduled, locked, retried and recorded.

The JobQueue (APScheduler 3 underneath) keeps nothing across restarts, so whether a run is owed
is decided from the database: at start-up a job whose last scheduled slot passed while the bot
was down runs once (not once per missed slot). Heavy work (matching, composing digests) runs in
worker threads, never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from telegram.ext import Application

from bot import commands
from bot.context import BotContext, Runtime, runtime
from bot.delivery import OutboxSender
from kooperation.models import utcnow
from kooperation.services import digest as digests
from kooperation.services import job_runs
from usecases import proposals
from usecases.digest import weekly_digest
from usecases.housekeeping import housekeeping

log = logging.getLogger(__name__)

HOUSEKEEPING_EVERY = timedelta(minutes=30)
# How often the bot looks for unannounced proposals; the notice itself is rate-limited by
# MANAGER_NOTICE_INTERVAL_MINUTES, decided from the database.
ANNOUNCE_EVERY = timedelta(minutes=1)
MISFIRE_GRACE = 3600
_TICK = timedelta(microseconds=1)


class WallClockCron(BaseTrigger):  # type: ignore[misc]  # APScheduler 3 ships no types
    """A crontab schedule on the local wall clock that fires once per matching local time.

    APScheduler's own CronTrigger fires twice in the repeated hour when the clocks go back
    (02:00 CEST and again 02:00 CET; APScheduler #606, #1021). Here the crontab is evaluated on
    naive wall-clock time; a time that occurs twice runs at its first occurrence, a time that
    does not exist (spring forward, 02:00–03:00) runs at the moment the clocks jump.
    """

    def __init__(self, expression: str, tz: ZoneInfo) -> None:
        self.expression = expression
        self.tz = tz
        self._cron = CronTrigger.from_crontab(expression, timezone=UTC)

    def __str__(self) -> str:
        return f"cron[{self.expression} {self.tz.key}]"

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        start = now if previous_fire_time is None else max(previous_fire_time + _TICK, now)
        probe = start.astimezone(self.tz).replace(tzinfo=UTC)
        while True:
            wall = self._cron.get_next_fire_time(None, probe)
            if wall is None:
                return None
            real = wall.replace(tzinfo=self.tz, fold=0)
            real = real.astimezone(UTC).astimezone(self.tz)  # normalises a time in the gap
            if real >= start:
                return real
            probe = wall + _TICK

    def previous_fire_time(self, now: datetime) -> datetime | None:
        """The latest slot at or before `now` (None if none in the past year)."""
        for days in (2, 8, 32, 367):
            last = None
            fire = self.get_next_fire_time(None, now - timedelta(days=days))
            while fire is not None and fire <= now:
                last = fire
                fire = self.get_next_fire_time(fire, fire)
            if last is not None:
                return last
        return None


def missed_slot(
    trigger: WallClockCron, now: datetime, last_run: datetime | None
) -> datetime | None:
    """The slot a start-up catch-up owes, or None: nothing missed, or the job never ran here."""
    slot = trigger.previous_fire_time(now)
    if slot is None or last_run is None or last_run >= slot:
        return None
    return slot


# ---------------------------------------------------------------------------- the work itself
# Each job opens a session for one use case of the application layer (`usecases`), which the
# CLI calls too; what is the job's own is the run it records for the catch-up.
def run_matching(rt: Runtime) -> int | None:
    """The nightly round (`usecases.rounds.matching_round`), recorded as the job's run.
    Returns the round's id. Blocking: call it in a worker thread."""
    from usecases.rounds import matching_round

    started = utcnow()
    with rt.session() as session:
        result = matching_round(session=session, settings=rt.settings)
        job_runs.record_run(session=session, job=job_runs.MATCH, at=started)
    return result.round.id if result.round is not None else None


def announce_proposals(rt: Runtime) -> int:
    """`usecases.proposals.announce_proposals`; returns how many notices were queued."""
    with rt.session() as session:
        return proposals.announce_proposals(session=session, settings=rt.settings)


def run_digest(
    rt: Runtime,
    *,
    now: datetime | None = None,
    member_id: int | None = None,
    dry_run: bool = False,
    with_opportunities: bool = True,
) -> digests.DigestRun:
    """`usecases.digest.weekly_digest` (blocking: call it in a worker thread)."""
    with rt.session() as session:
        return weekly_digest(
            session=session,
            settings=rt.settings,
            now=now,
            member_id=member_id,
            dry_run=dry_run,
            with_opportunities=with_opportunities,
        )


def run_housekeeping(rt: Runtime, now: datetime | None = None) -> dict[str, int]:
    """`usecases.housekeeping.housekeeping` (blocking: call it in a worker thread)."""
    with rt.session() as session:
        return housekeeping(session=session, settings=rt.settings, now=now)


# ---------------------------------------------------------------------------- wiring
def _locked(
    name: str, work: Callable[[Runtime], Any], *, retries: Sequence[float] = ()
) -> Callable[..., Any]:
    """A job callback that runs `work` in a thread, never twice at once, then wakes the sender.

    A failed run is tried again after each of `retries` seconds (a retry belongs to the same
    slot; the work is idempotent through the outbox's dedupe keys); when the last one fails
    too, the admins are told once (`job_runs.alert_admins`).
    """
    lock = asyncio.Lock()

    async def callback(context: BotContext) -> None:
        data = context.job.data if context.job is not None else None
        attempt, slot = data if isinstance(data, tuple) else (0, utcnow())
        if lock.locked():
            log.info("%s: still running, this slot is skipped", name)
            return
        error: Exception | None = None
        async with lock:
            try:
                outcome = await asyncio.to_thread(work, runtime(context))
                log.info("%s finished: %s", name, outcome)
            except Exception as failure:
                error = failure
                log.exception("%s failed (attempt %s of %s)", name, attempt + 1, len(retries) + 1)
        if error is not None:
            await _after_failure(context, callback, name, retries, attempt, slot, error)
        runtime(context).wake_sender()

    callback.__name__ = name
    return callback


async def _after_failure(
    context: BotContext,
    callback: Callable[..., Any],
    name: str,
    retries: Sequence[float],
    attempt: int,
    slot: datetime,
    error: Exception,
) -> None:
    """Schedules the next retry of the slot, or tells the admins after the last one."""
    if attempt < len(retries) and context.job_queue is not None:
        delay = retries[attempt]
        log.warning("%s: retry %s of %s in %s s", name, attempt + 1, len(retries), delay)
        context.job_queue.run_once(
            callback, when=delay, data=(attempt + 1, slot), name=f"{name}-retry-{attempt + 1}"
        )
        return
    if not retries:
        return
    rt = runtime(context)
    summary = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"

    def alert() -> int:
        with rt.session() as session:
            return job_runs.alert_admins(
                session=session,
                settings=rt.settings,
                job=name,
                slot=slot,
                attempts=attempt + 1,
                error=summary,
            )

    try:
        told = await asyncio.to_thread(alert)
        log.error("%s: gave up after %s attempts; %s admins told", name, attempt + 1, told)
    except Exception:  # the database itself may be what fails: the log has it
        log.exception("%s: gave up after %s attempts; telling the admins failed", name, attempt + 1)


def _catch_up(rt: Runtime, job: str, trigger: WallClockCron) -> bool:
    """Decides from the database whether `job` missed a slot while the bot was down."""
    now = utcnow()
    with rt.session() as session:
        last = job_runs.last_run(session=session, job=job)
        if last is None:  # first start on this database: nothing was missed, start counting
            job_runs.record_run(session=session, job=job, at=now)
            return False
    slot = missed_slot(trigger, now, last)
    if slot is not None:
        log.info("%s: the run of %s was missed; running it once now", job, slot.isoformat())
    return slot is not None


def repair_at_start(rt: Runtime) -> int:
    """`usecases.proposals.repair_decisions`; a failure is logged and the bot still starts
    (the next start tries again)."""
    try:
        with rt.session() as session:
            return proposals.repair_decisions(session=session)
    except Exception:
        log.exception("start-up repair of half-decided matches failed")
        return 0


def start(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Starts the outbox sender and the scheduled jobs (called from post_init)."""
    rt = runtime(application)
    settings = rt.settings
    repair_at_start(rt)
    sender = OutboxSender(
        bot=application.bot,
        engine=rt.engine,
        rate_per_second=settings.outbox_rate_per_second,
        max_attempts=settings.outbox_max_attempts,
        is_running=lambda: application.running,
        is_quiet=lambda: settings.is_quiet(utcnow()),
    )
    rt.sender = sender
    rt.sender_task = asyncio.get_running_loop().create_task(
        _run_when_started(application, sender), name="outbox-sender"
    )

    queue = application.job_queue
    if queue is None:
        log.error("no JobQueue (install python-telegram-bot[job-queue]): schedules are off")
        return
    tz = settings.tz
    retries = tuple(settings.job_retry_delays_seconds)
    schedules = (
        (
            job_runs.MATCH,
            settings.match_schedule,
            _locked("matching", run_matching, retries=retries),
        ),
        (job_runs.DIGEST, settings.digest_schedule, _locked("digest", run_digest, retries=retries)),
    )
    for job, expression, callback in schedules:
        trigger = WallClockCron(expression, tz)
        queue.run_custom(
            callback,
            job_kwargs={
                "trigger": trigger,
                "misfire_grace_time": MISFIRE_GRACE,
                "coalesce": True,
                "max_instances": 1,
            },
            name=job,
        )
        if _catch_up(rt, job, trigger):
            queue.run_once(callback, when=1, name=f"{job}-catch-up")
    queue.run_repeating(
        _locked("housekeeping", run_housekeeping),
        interval=HOUSEKEEPING_EVERY,
        first=5,
        name="housekeeping",
    )
    queue.run_repeating(
        _locked("announce", announce_proposals),
        interval=ANNOUNCE_EVERY,
        first=ANNOUNCE_EVERY,
        name="announce-proposals",
    )
    queue.run_once(warm_up_matching, when=0, name="matching-warm-up")
    queue.run_repeating(
        refresh_staff_menus,
        interval=settings.staff_menu_refresh_seconds,
        first=settings.staff_menu_refresh_seconds,
        name="staff-menus",
    )


async def warm_up_matching(context: BotContext) -> None:
    """Prepares matching in a worker thread at start (the embedding models, compiled kernels,
    the listings' terms), so the first listing a contact posts is not matched seconds late."""
    rt = runtime(context.application)

    def prepare() -> int:
        from matching.embedders import EmbedderUnavailable, get_embedder
        from matching.rounds import warm_up
        from matching.scoring import reference

        # Loads the embedding models, computes their reference statistics and encodes one
        # listing-sized text (together 5-15 s), before anyone posts.
        try:
            embedder = get_embedder(rt.settings.embedding_model)
        except EmbedderUnavailable as error:  # a posted listing says so; the rest still helps
            log.warning("matching warm-up: %s", error)
        else:
            reference(embedder)
            embedder.encode(["Wir suchen einen Partner für die Prüfung von Batteriezellen."])
        with rt.session() as session:
            return warm_up(session)

    try:
        listings = await asyncio.to_thread(prepare)
    except Exception:  # matching prepares itself on first use anyway
        log.exception("matching warm-up failed")
        return
    log.info("matching warm-up: models and kernels ready, %s listings tokenised", listings)


async def refresh_staff_menus(context: BotContext) -> None:
    """Command menus for roles given outside the bot (`matchbot manager add`)."""
    try:
        changed = await commands.refresh_staff(context.application)
    except Exception:  # a menu must never take the schedules down
        log.exception("staff menus: refresh failed")
        return
    if changed:
        log.info("staff menus: %s chats updated", changed)


async def _run_when_started(
    application: Application[Any, Any, Any, Any, Any, Any], sender: OutboxSender
) -> None:
    """post_init runs before the application is running; the sender starts once it is."""
    while not application.running:
        await asyncio.sleep(0.05)
    await sender.run()


async def stop(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Stops the sender; a message in flight finishes and is marked first."""
    rt = runtime(application)
    sender, task = rt.sender, rt.sender_task
    rt.sender = rt.sender_task = None
    if sender is not None:
        sender.stop()
    if task is not None:
        try:
            await asyncio.wait_for(task, timeout=10)
        except (TimeoutError, asyncio.CancelledError):
            task.cancel()
