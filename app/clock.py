"""The one clock: every read of "now" and "today" in app/ goes through here.

Tests freeze it with time-machine (which moves `datetime.now` underneath), so nothing in
the app may call `datetime.now()`, `date.today()` or `time.time()` for a date itself.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "America/New_York"


def now() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return datetime.now(UTC)


def _zone(tz: str | None) -> ZoneInfo:
    if tz is not None:
        return ZoneInfo(tz)
    try:
        from flask import current_app

        return ZoneInfo(current_app.config["APP_TIMEZONE"])
    except RuntimeError:  # outside an app context (scripts, the bench)
        return ZoneInfo(DEFAULT_TIMEZONE)


def today(tz: str | None = None) -> date:
    """Today's date where the OIG works (APP_TIMEZONE): the calendar deadlines count in."""
    return now().astimezone(_zone(tz)).date()


def start_of_day(day: date, tz: str | None = None) -> datetime:
    """The instant (UTC) a day begins where the OIG works: a week of status changes runs
    from one Monday's start to the next's, whatever the daylight-saving offset."""
    return datetime.combine(day, time(), tzinfo=_zone(tz)).astimezone(UTC)
