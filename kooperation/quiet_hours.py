"""Quiet hours: the night, in the programme's time zone, when messages arrive without a sound.

The nightly matching round tells managers about new proposals at 02:00, and follow-ups and
expiry notices go out whenever housekeeping finds them due. Nothing is held back — a deferred
message would be one more thing that can be lost — but during quiet hours Telegram delivers
them silently (`disable_notification`), and they are waiting in the chat in the morning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time

_RANGE = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?\s*-\s*(\d{1,2})(?::(\d{2}))?\s*$")


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours | None:
        """ "21-7" or "21:30-06:45" (local time, may wrap past midnight); "" turns them off."""
        if not text.strip():
            return None
        found = _RANGE.match(text)
        if found is None:
            raise ValueError('use a range of local times like "21-7" or "21:30-6:45", or nothing')
        hour_a, minute_a, hour_b, minute_b = found.groups()
        try:
            start = time(int(hour_a), int(minute_a or 0))
            end = time(int(hour_b), int(minute_b or 0))
        except ValueError as error:
            raise ValueError(f"not a time of day ({error})") from None
        if start == end:
            raise ValueError("start and end are the same time")
        return cls(start, end)

    def contains(self, moment: datetime) -> bool:
        """Whether `moment` (already in the programme's time zone) falls in the quiet hours."""
        now = moment.time().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end  # across midnight
