"""Quiet hours: parsing the setting and deciding, in the programme's time zone, what is night."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from kooperation.config import SettingsError, load_settings
from kooperation.quiet_hours import QuietHours


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 30, hour, minute)


def test_a_range_across_midnight_covers_the_night_and_not_the_day() -> None:
    night = QuietHours.parse("21-7")
    assert night == QuietHours(time(21), time(7))
    assert [night.contains(at(h)) for h in (20, 21, 23, 0, 2, 6)] == [False] + [True] * 5
    assert not night.contains(at(7)) and not night.contains(at(12))
    lunch = QuietHours.parse("12:30-13:45")
    assert lunch.contains(at(13, 44)) and not lunch.contains(at(13, 45))


@pytest.mark.parametrize("text", ["nachts", "25-7", "21-21", "21:70-7", "21 7"])
def test_malformed_ranges_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        QuietHours.parse(text)
    with pytest.raises(SettingsError, match="QUIET_HOURS"):
        load_settings(quiet_hours=text, _env_file=None)


def test_the_setting_is_read_in_the_programmes_time_zone() -> None:
    settings = load_settings(quiet_hours="21-7", timezone="Europe/Berlin", _env_file=None)
    assert settings.is_quiet(datetime(2026, 11, 30, 1, 0, tzinfo=UTC))  # 02:00 in Berlin
    assert not settings.is_quiet(datetime(2026, 11, 30, 7, 0, tzinfo=UTC))  # 08:00 in Berlin
    assert settings.is_quiet(datetime(2026, 7, 1, 4, 30, tzinfo=UTC))  # 06:30 summer time
    assert not load_settings(quiet_hours="", _env_file=None).is_quiet(at(2).replace(tzinfo=UTC))
