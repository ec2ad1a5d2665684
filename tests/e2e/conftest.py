"""End-to-end fixtures: the Bot API emulator and the real bot (`python -m bot run`) as processes.

The emulator (npm `telegram-test-api` behind `emulator/emulator.js`, a compatibility layer
for python-telegram-bot 22) and the driver `tgemu.py` come from the team's shared
`tg-emulator`; see `emulator/README.md` for its quirks (it does not interpret parse_mode, so
tests assert on raw HTML). Every test uses its own Telegram user ids, so one running bot
serves a whole module.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from tests.e2e.tgemu import BotProcess, Emulator
from tests.factories import new_telegram_id

TOKEN = "123456:E2E-TOKEN"

new_user_id = new_telegram_id
"""A Telegram user id no other test (or seeded person) of this session uses."""


EMULATOR_DIR = Path(__file__).resolve().parent / "emulator"


def install_emulator() -> None:
    """Runs `npm ci` for the pinned emulator once, so that `pytest` alone works after a clone."""
    if (EMULATOR_DIR / "node_modules" / "telegram-test-api").is_dir():
        return
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--silent"],
        cwd=EMULATOR_DIR,
        check=True,
        timeout=300,
    )


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    install_emulator()
    log = tmp_path_factory.mktemp("emulator") / "emulator.log"
    with Emulator(token=TOKEN, log_path=log) as emu:
        yield emu


class BotRunner:
    """Starts, stops and kills `python -m bot run` against the emulator."""

    def __init__(self, emulator: Emulator, database_url: str, log_dir: Path, **env: str) -> None:
        self.emulator = emulator
        self.log_dir = log_dir
        self.env = {
            "TELEGRAM_BOT_TOKEN": emulator.token,
            "TELEGRAM_API_BASE_URL": emulator.base_url,
            "DATABASE_URL": database_url,
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "LOG_LEVEL": "INFO",
            **env,
        }
        self.process: BotProcess | None = None
        self._starts = 0

    def start(self, **env: str) -> BotProcess:
        self._starts += 1
        log = self.log_dir / f"bot-{self._starts}.log"
        since = self.emulator.last_seq()
        self.process = BotProcess(
            [sys.executable, "-m", "bot", "run"],
            env={**os.environ, **self.env, **env},
            log_path=log,
            cwd=str(self.log_dir),
        )
        self.process.start()
        self.emulator.wait_polling(timeout=90, bot=self.process, since=since)
        return self.process

    def stop(self) -> int | None:
        """Graceful stop (SIGINT), as an operator would do."""
        process, self.process = self.process, None
        return process.stop() if process else None

    def kill(self) -> None:
        """Hard crash: SIGKILL, no shutdown hooks run."""
        process, self.process = self.process, None
        if process and process.proc:
            process.proc.kill()
            process.proc.wait(10)

    def log(self) -> str:
        return self.process.log_tail() if self.process else ""


@pytest.fixture(scope="module")
def bot_runner(
    emulator: Emulator, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BotRunner]:
    runner = BotRunner(emulator, database_url, tmp_path_factory.mktemp("bot"))
    try:
        yield runner
    finally:
        runner.kill()


@pytest.fixture(scope="module")
def bot(bot_runner: BotRunner) -> Iterator[BotRunner]:
    """A running bot for the whole module."""
    bot_runner.start()
    yield bot_runner
    bot_runner.stop()


@pytest.fixture
def db(session: Session) -> Session:
    """The test's session over the emptied tables, which the running bot reads too."""
    return session
