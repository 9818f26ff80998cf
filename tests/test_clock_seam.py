"""The suite never reads the wall clock, and the app reads it only through app.clock."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import time_machine

from app import clock

ROOT = Path(__file__).resolve().parents[1]
WALL_CLOCK = re.compile(
    r"\b(?:date\.today|datetime\.(?:now|utcnow|today)|time\.(?:time|localtime|gmtime))\s*\("
)


def _offenders(folder: Path, allowed: set[Path]) -> list[str]:
    found = []
    for path in sorted(folder.rglob("*.py")):
        if path in allowed:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if WALL_CLOCK.search(line) and not line.lstrip().startswith("#"):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return found


def test_tests_never_read_the_wall_clock() -> None:
    assert _offenders(ROOT / "tests", {Path(__file__)}) == []


def test_app_reads_now_only_through_the_clock_module() -> None:
    assert _offenders(ROOT / "app", {ROOT / "app" / "clock.py"}) == []


def test_the_pattern_catches_what_it_should() -> None:
    # The grep above must be able to fail: these lines are what it looks for.
    # (built from parts, so that this file itself holds none of the calls it looks for)
    calls = ("date.today", "datetime.now", "time.time", "datetime.utcnow")
    for line in (f"x = {call}()" for call in calls):
        assert WALL_CLOCK.search(line), line
    assert not WALL_CLOCK.search("clock.today()")


def test_today_is_the_eastern_date_when_utc_has_moved_on() -> None:
    # 02:30 UTC on 1 December is 21:30 on 30 November in Washington.
    with time_machine.travel(datetime(2026, 12, 1, 2, 30, tzinfo=UTC), tick=False):
        assert clock.today("America/New_York") == date(2026, 11, 30)
        assert clock.today("UTC") == date(2026, 12, 1)
        assert clock.now() == datetime(2026, 12, 1, 2, 30, tzinfo=UTC)


def test_today_follows_the_daylight_saving_change() -> None:
    # Clocks go back at 06:00 UTC on 1 November 2026: 05:59 UTC is 01:59 EDT, 06:01 is 01:01 EST.
    with time_machine.travel(datetime(2026, 11, 1, 5, 59, tzinfo=UTC), tick=False):
        assert clock.today("America/New_York") == date(2026, 11, 1)
    with time_machine.travel(datetime(2026, 11, 2, 4, 59, tzinfo=UTC), tick=False):
        assert clock.today("America/New_York") == date(2026, 11, 1)
    with time_machine.travel(datetime(2026, 11, 2, 5, 0, tzinfo=UTC), tick=False):
        assert clock.today("America/New_York") == date(2026, 11, 2)


def test_the_app_uses_its_configured_zone(app) -> None:
    with app.app_context(), time_machine.travel(datetime(2026, 12, 1, 4, 59, tzinfo=UTC), tick=False):
        assert app.config["APP_TIMEZONE"] == "America/New_York"
        assert clock.today() == date(2026, 11, 30)
