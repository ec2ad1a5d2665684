"""Dates and times as a person reads them: always in the programme's TIMEZONE, never UTC.

Times are stored in UTC (`kooperation.models.UTCDateTime`); everything shown to a member or
manager, or exported for people, goes through here with `settings.tz`. One formatter, so an
expiry at 23:30 UTC is the same (next) day in /mylistings, the reminder and the export.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo

_DATE = {"de": "%d.%m.%Y", "en": "%Y-%m-%d"}


def local(moment: datetime, tz: tzinfo) -> datetime:
    """`moment` (aware, any zone) in `tz`."""
    return moment.astimezone(tz)


def local_date(moment: datetime, tz: tzinfo) -> date:
    """The calendar day `moment` falls on in `tz`."""
    return local(moment, tz).date()


def format_date(value: datetime | date, language: str, tz: tzinfo | None = None) -> str:
    """A day: 11.03.2026 in German, 2026-03-11 in English. A time needs `tz` (the day it
    falls on depends on it); a calendar day is shown as it is."""
    if isinstance(value, datetime):
        if tz is None:
            raise ValueError("a point in time needs the programme's time zone to become a day")
        day = local_date(value, tz)
    else:
        day = value
    return day.strftime(_DATE.get(language, _DATE["de"]))


def format_datetime(value: datetime, language: str, tz: tzinfo) -> str:
    """A day and a time of day in `tz`: 11.03.2026 00:30 / 2026-03-11 00:30."""
    return f"{format_date(value, language, tz)} {local(value, tz):%H:%M}"


def format_moment(value: datetime, tz: tzinfo) -> str:
    """For the operator's tables (the schedule, the audit log): 2026-03-11 00:30:05 in `tz`."""
    return f"{local(value, tz):%Y-%m-%d %H:%M:%S}"


def iso_local(value: datetime | None, tz: tzinfo) -> str:
    """For exports: ISO 8601 in `tz` with its offset (2026-03-11T00:30:00+01:00), "" for None."""
    return local(value, tz).isoformat(timespec="seconds") if value else ""
