"""Every date a person sees is a day of the programme's TIMEZONE, from one formatter."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.handlers.listings.views import listing_view
from bot.outbox_render import render
from kooperation.dates import format_date, format_datetime, iso_local
from kooperation.models import Listing

BERLIN = ZoneInfo("Europe/Berlin")
LATE = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)  # already 11 March in Berlin


def test_a_late_utc_time_is_the_next_day_in_berlin() -> None:
    assert format_date(LATE, "de", BERLIN) == "11.03.2026"
    assert format_date(LATE, "en", BERLIN) == "2026-03-11"
    assert format_datetime(LATE, "de", BERLIN) == "11.03.2026 00:30"
    assert format_datetime(datetime(2026, 7, 1, 6, 0, tzinfo=UTC), "en", BERLIN) == (
        "2026-07-01 08:00"  # summer time
    )
    assert iso_local(LATE, BERLIN) == "2026-03-11T00:30:00+01:00"
    assert format_date(date(2026, 3, 11), "de") == "11.03.2026"


def test_a_time_without_the_time_zone_is_refused_rather_than_shown_in_utc() -> None:
    with pytest.raises(ValueError):
        format_date(LATE, "de")


@pytest.mark.parametrize(("language", "shown"), [("de", "11.03.2026"), ("en", "2026-03-11")])
def test_mylistings_and_the_expiry_reminder_name_the_same_day(language: str, shown: str) -> None:
    listing = Listing(
        id=7,
        organization_id=1,
        kind="need",
        title="Prüfstände",
        text="Wir suchen Prüfstände für Batteriemodule.",
        expires_at=LATE,
    )
    view, _ = listing_view(language, listing, BERLIN)
    assert shown in view
    payload = {
        "listing_id": 7,
        "title": "Prüfstände",
        "kind": "need",
        "expires_on": LATE.astimezone(BERLIN).date().isoformat(),  # as kooperation/expiry writes it
        "extend_days": 90,
    }
    assert shown in render("expiry_reminder", language, payload).text
