"""The emulator's echo bot under the Telegram limit our bot keeps: the fair baseline.

    TG_TOKEN=… TG_API=http://127.0.0.1:9000 TELEGRAM_MESSAGES_PER_SECOND=30 \
        python bench/limited_echo_bot.py

`tests/e2e/emulator/sample_echo_bot.py` unchanged (its handlers, one update at a time), except
that its application is built with python-telegram-bot's `AIORateLimiter` at
TELEGRAM_MESSAGES_PER_SECOND (default: the bot's own default, Telegram's 30 messages per second
overall), exactly as `bot/app.py` builds ours. `bench/latency.py` runs it next to the plain
echo bot, so the bot is compared with an echo bot that pays the same rate limit.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from telegram.ext import AIORateLimiter, ApplicationBuilder

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests/e2e/emulator"))
sys.path.insert(0, str(ROOT))

import sample_echo_bot  # noqa: E402

from kooperation.config import Settings  # noqa: E402

DEFAULT_RATE = Settings.model_fields["telegram_messages_per_second"].default


class _LimitedApplication:
    """Stands in for `Application` in the sample, whose `build()` only calls `builder()`."""

    @staticmethod
    def builder() -> ApplicationBuilder:  # type: ignore[type-arg]
        rate = float(os.environ.get("TELEGRAM_MESSAGES_PER_SECOND") or DEFAULT_RATE)
        return ApplicationBuilder().rate_limiter(
            AIORateLimiter(overall_max_rate=rate, max_retries=3)
        )


if __name__ == "__main__":
    sample_echo_bot.Application = _LimitedApplication  # type: ignore[assignment,misc]
    sample_echo_bot.main()
