"""Deadline clocks: pure functions of dates. Nothing here reads the wall clock; callers
pass `today`.

The rules: DHS Directive 077-01 asks for a written response within 90 days of the
report; OMB Circular A-50 expects resolution within six months of issuance; liaisons
report progress at least every 90 days (configurable) once a recommendation is resolved;
the GAO-IG Act lists recommendations open one year or more after issuance; an IG's
semiannual report covers October 1 to March 31 and April 1 to September 30. The
deadline policy for reopened recommendations, returned responses, closure requests and
approximate issue dates is in the README ("Deadline policy").
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from app import wording

RESPONSE_DAYS = 90
RESOLUTION_MONTHS = 6
UPDATE_INTERVAL_DAYS = 90
GAO_IG_ACT_MONTHS = 12
UPDATE_DUE_SOON_DAYS = 30
# A reopened recommendation: each addressee owes a new response this many days after it.
REOPENED_RESPONSE_DAYS = 90
# A returned response: the revised one is due this many days after the return (the
# default of the REVISED_RESPONSE_DAYS setting).
REVISED_RESPONSE_DAYS = 30


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), clamped to the month's last day:
    August 31 + 6 months is the last day of February."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def response_due(issued: date) -> date:
    return issued + timedelta(days=RESPONSE_DAYS)


def resolution_due(issued: date) -> date:
    return add_months(issued, RESOLUTION_MONTHS)


def more_than_6_months(issued: date, today: date) -> bool:
    """Whether `today` is more than six calendar months after `issued`: from the day
    after the six-month anniversary (the day the resolution deadline has passed). The one
    meaning of "more than 6 months" in tables, filters and the dashboard; the SQL form
    compares issue dates with latest_issue_date_due_before(today, resolution_due)."""
    return resolution_due(issued) < today


def reopened_response_due(reopened_on: date) -> date:
    return reopened_on + timedelta(days=REOPENED_RESPONSE_DAYS)


def revised_response_due(returned_on: date, revised_days: int = REVISED_RESPONSE_DAYS) -> date:
    return returned_on + timedelta(days=revised_days)


def next_update_due(
    resolved_on: date,
    last_update_on: date | None,
    interval_days: int = UPDATE_INTERVAL_DAYS,
    resumed_on: date | None = None,
) -> date:
    """The latest of the resolution, the last update and the day a returned closure
    request restarted the clock (`resumed_on`), plus the update interval."""
    start = max(d for d in (resolved_on, last_update_on, resumed_on) if d is not None)
    return start + timedelta(days=interval_days)


def is_target_overdue(target_date: date | None, is_open: bool, today: date) -> bool:
    """The target completion date has passed and the recommendation is still open."""
    return is_open and target_date is not None and target_date < today


def gao_ig_act_from(issued: date) -> date:
    """The day a recommendation still open has been open one year (GAO-IG Act)."""
    return add_months(issued, GAO_IG_ACT_MONTHS)


def is_gao_ig_act(issued: date, is_open: bool, today: date) -> bool:
    """Open one year or more after issuance with no final action (GAO-IG Act)."""
    return is_open and today >= gao_ig_act_from(issued)


class AgeBucket(StrEnum):
    UNDER_6_MONTHS = "under_6_months"
    MONTHS_6_TO_12 = "6_to_12_months"
    YEARS_1_TO_2 = "1_to_2_years"
    YEARS_2_TO_5 = "2_to_5_years"
    OVER_5_YEARS = "over_5_years"

    @property
    def label(self) -> str:
        return AGE_LABELS[self]


AGE_LABELS = {
    AgeBucket.UNDER_6_MONTHS: "Under 6 months",
    AgeBucket.MONTHS_6_TO_12: "6–12 months",
    AgeBucket.YEARS_1_TO_2: "1–2 years",
    AgeBucket.YEARS_2_TO_5: "2–5 years",
    AgeBucket.OVER_5_YEARS: "Over 5 years",
}

# (bucket, months of age at which the bucket ends); the last bucket never ends.
_AGE_LIMITS = (
    (AgeBucket.UNDER_6_MONTHS, 6),
    (AgeBucket.MONTHS_6_TO_12, 12),
    (AgeBucket.YEARS_1_TO_2, 24),
    (AgeBucket.YEARS_2_TO_5, 60),
)


def age_bucket(issued: date, today: date) -> AgeBucket:
    for bucket, months in _AGE_LIMITS:
        if today < add_months(issued, months):
            return bucket
    return AgeBucket.OVER_5_YEARS


def age_bucket_bounds(bucket: AgeBucket, today: date) -> tuple[date | None, date | None]:
    """The issue dates whose age falls in `bucket` today, as (first, after): first <=
    issued < after, for SQL filters. None means unbounded."""
    limits = [0, *(months for _, months in _AGE_LIMITS)]
    order = list(AgeBucket)
    i = order.index(bucket)
    tomorrow = today + timedelta(days=1)
    one = timedelta(days=1)

    def cutoff(months: int) -> date:
        # the latest issue date that has reached `months` of age by today
        return latest_issue_date_due_before(tomorrow, lambda d: add_months(d, months)) + one

    after = None if i == 0 else cutoff(limits[i])
    first = None if i == len(order) - 1 else cutoff(limits[i + 1])
    return first, after


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def label(self) -> str:
        start, end = self.start, self.end
        return f"{start:%B} {start.day}, {start.year} – {end:%B} {end.day}, {end.year}"

    def previous(self) -> Period:
        return semiannual_period(self.start - timedelta(days=1))

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


def semiannual_period(day: date) -> Period:
    """The IG semiannual reporting period holding `day`."""
    if day.month >= 10:
        return Period(date(day.year, 10, 1), date(day.year + 1, 3, 31))
    if day.month <= 3:
        return Period(date(day.year - 1, 10, 1), date(day.year, 3, 31))
    return Period(date(day.year, 4, 1), date(day.year, 9, 30))


def latest_issue_date_due_before(today: date, due: Callable[[date], date]) -> date:
    """The latest issue date whose deadline `due(issued)` falls before `today`.

    `due` must never decrease as the issue date grows (true of every clock here), so a
    list filter can compare issue dates with this cut-off in SQL.
    """
    candidate = today
    while due(candidate) >= today:
        candidate -= timedelta(days=max(1, (due(candidate) - today).days))
    while due(candidate + timedelta(days=1)) < today:
        candidate += timedelta(days=1)
    return candidate


@dataclass(frozen=True)
class Clock:
    """A deadline in words: "Response overdue by 12 days", "Update due in 9 days".

    `approximate`: the deadline is counted from an approximate issue date, so the words
    give its month ("about March 2025"), never a day count."""

    label: str
    due: date
    today: date
    approximate: bool = False

    @property
    def days_left(self) -> int:
        return (self.due - self.today).days

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    @property
    def text(self) -> str:
        days = self.days_left
        if self.approximate:
            when = f"about {self.due:%B} {self.due.year}"
            if days < 0:
                return f"{self.label} overdue since {when} (the issue date is approximate)"
            return f"{self.label} due {when} (the issue date is approximate)"
        if days < 0:
            return f"{self.label} overdue by {_days(-days)}"
        if days == 0:
            return f"{self.label} due today"
        if days == 1:
            return f"{self.label} due tomorrow"
        return f"{self.label} due in {_days(days)}"

    @property
    def inline_text(self) -> str:
        """The words inside a sentence: "…; response overdue since about April 2024"."""
        text = self.text
        return text[:1].lower() + text[1:]


def _days(n: int) -> str:
    return wording.count(n, "day")


def long_date(day: date) -> str:
    """March 3, 2026."""
    return f"{day:%B} {day.day}, {day.year}"
