"""How long the bot's event loop is blocked per update: the synchronous time that every other
chat waits for, whatever the update processor.

    python bench/loop_blocking.py [--contacts 10] [--rounds 2]

Runs the real application (`bot.app.build_application`) in this process on a copy of the demo
database, polling the Bot API emulator, while contacts act as in `bench/latency.py`. Every
callback the event loop runs is timed on the loop's thread; printed: the loop thread's CPU time
per update (PTB's parsing, the handlers, the HTTP client and, if not moved to threads, the
database work) and the longest single stretch without a pause. The database work that runs in worker
threads is not counted: the loop serves other chats meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.latency import (  # noqa: E402
    REAL_SCRIPT,
    REAL_TOKEN,
    Collector,
    Contact,
    calibrate,
    demo_database,
    run_level,
)
from tests.e2e.conftest import install_emulator  # noqa: E402
from tests.e2e.tgemu import Emulator  # noqa: E402


class LoopClock:
    """Sums the CPU time each callback of the event loop took on the loop's own thread (not
    the time it waited for the GIL or for a core, both busy with other work on 2 cores)."""

    def __init__(self) -> None:
        self.busy = 0.0
        self.longest = 0.0
        self.enabled = False
        self.thread: int | None = None

    def install(self) -> None:
        original = asyncio.events.Handle._run
        clock = self

        def timed(handle: asyncio.events.Handle) -> None:
            if not clock.enabled or threading.get_ident() != clock.thread:
                original(handle)
                return
            started = time.thread_time()  # CPU time of the loop's thread: no GIL waits
            try:
                original(handle)
            finally:
                spent = time.thread_time() - started
                clock.busy += spent
                clock.longest = max(clock.longest, spent)

        asyncio.events.Handle._run = timed  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    install_emulator()
    clock = LoopClock()
    clock.install()
    with (
        tempfile.TemporaryDirectory(prefix="loop-") as directory,
        Emulator(token=REAL_TOKEN) as emu,
    ):
        work = Path(directory)
        url, ids = demo_database(work, "loop", args.contacts + 1)
        os.environ.update(
            TELEGRAM_BOT_TOKEN=REAL_TOKEN,
            TELEGRAM_API_BASE_URL=emu.base_url,
            DATABASE_URL=url,
            HF_HUB_OFFLINE="1",
            QUIET_HOURS="",
            LOG_LEVEL="WARNING",
        )
        from bot.app import build_application
        from kooperation.config import load_settings

        application = build_application(load_settings())
        collector = Collector(emu, 0.0)
        collector.start()
        result: dict[str, float] = {}
        warm = threading.Event()

        class WarmUp(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                if "warm-up" in record.getMessage():
                    warm.set()

        logging.getLogger("bot.jobs").addHandler(WarmUp())
        logging.getLogger("bot.jobs").setLevel(logging.INFO)

        def drive() -> None:
            try:
                emu.wait_polling()
                warm.wait(300)  # the models load in a worker thread at start
                people = [Contact(REAL_TOKEN, i, emu, collector) for i in ids]
                counts = calibrate(people[-1], REAL_SCRIPT, settle=1.0)
                clock.busy, clock.longest, clock.enabled = 0.0, 0.0, True
                level = run_level(people[: args.contacts], REAL_SCRIPT, counts, args.rounds)
                clock.enabled = False
                result.update(updates=len(level.latencies), seconds=level.seconds)
            finally:
                collector.running = False
                loop.call_soon_threadsafe(application.stop_running)

        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)

        async def started(_application: object) -> None:
            clock.thread = threading.get_ident()
            threading.Thread(target=drive, daemon=True).start()

        original_post_init = application.post_init

        async def post_init(app: object) -> None:
            if original_post_init is not None:
                await original_post_init(app)  # type: ignore[arg-type]
            await started(app)

        application.post_init = post_init  # type: ignore[assignment]
        application.run_polling(close_loop=False, stop_signals=None)
    updates = result.get("updates", 0)
    if updates:
        print(
            f"{updates} updates from {args.contacts} contacts in {result['seconds']:.1f} s: "
            f"event loop busy {clock.busy / updates * 1000:.1f} ms per update "
            f"({clock.busy / result['seconds'] * 100:.0f} % of the time), longest single "
            f"stretch {clock.longest * 1000:.1f} ms"
        )


if __name__ == "__main__":
    main()
