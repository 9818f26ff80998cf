"""Deadline clocks: a hand-worked table of dates, with month ends and leap years.

Every expected value below was worked out by hand from a calendar; none is computed by
the code under test.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest

from app.lifecycle.clocks import (
    AgeBucket,
    Clock,
    Period,
    add_months,
    age_bucket,
    age_bucket_bounds,
    is_gao_ig_act,
    is_target_overdue,
    latest_issue_date_due_before,
    long_date,
    more_than_6_months,
    next_update_due,
    reopened_response_due,
    resolution_due,
    response_due,
    revised_response_due,
    semiannual_period,
)

U6 = AgeBucket.UNDER_6_MONTHS
M6_12 = AgeBucket.MONTHS_6_TO_12
Y1_2 = AgeBucket.YEARS_1_TO_2
Y2_5 = AgeBucket.YEARS_2_TO_5
O5 = AgeBucket.OVER_5_YEARS


# --- add_months -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2023, 1, 31), 1, date(2023, 2, 28)),  # clamp to a common February
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # clamp to a leap February
        (date(2022, 8, 31), 6, date(2023, 2, 28)),
        (date(2023, 8, 31), 6, date(2024, 2, 29)),
        (date(2024, 3, 31), -1, date(2024, 2, 29)),
        (date(2023, 3, 31), -1, date(2023, 2, 28)),
        (date(2023, 12, 15), 1, date(2024, 1, 15)),  # year rollover
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2024, 2, 29), -12, date(2023, 2, 28)),
        (date(2024, 1, 15), -1, date(2023, 12, 15)),  # backwards across a year end
        (date(2024, 3, 15), -15, date(2022, 12, 15)),
        (date(2023, 5, 31), 1, date(2023, 6, 30)),
        (date(2023, 10, 31), 1, date(2023, 11, 30)),
        (date(2023, 12, 31), 2, date(2024, 2, 29)),
        (date(2024, 1, 31), -2, date(2023, 11, 30)),
        (date(2024, 6, 15), 0, date(2024, 6, 15)),
        (date(2000, 1, 31), 1, date(2000, 2, 29)),  # 2000 is a leap year
        (date(2100, 1, 31), 1, date(2100, 2, 28)),  # 2100 is not
        (date(2023, 11, 30), 3, date(2024, 2, 29)),
    ],
)
def test_add_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


# --- response and resolution deadlines --------------------------------------------------


@pytest.mark.parametrize(
    ("issued", "expected"),
    [
        (date(2023, 12, 1), date(2024, 2, 29)),  # lands on the leap day
        (date(2022, 12, 1), date(2023, 3, 1)),  # the same dates a year earlier
        (date(2023, 10, 15), date(2024, 1, 13)),  # across a year end
        (date(2024, 1, 1), date(2024, 3, 31)),
        (date(2023, 1, 1), date(2023, 4, 1)),
        (date(2022, 3, 4), date(2022, 6, 2)),
    ],
)
def test_response_due(issued: date, expected: date) -> None:
    assert response_due(issued) == expected


@pytest.mark.parametrize(
    ("issued", "expected"),
    [
        (date(2011, 8, 31), date(2012, 2, 29)),
        (date(2022, 8, 31), date(2023, 2, 28)),
        (date(2011, 12, 6), date(2012, 6, 6)),  # seed report dates
        (date(2022, 3, 4), date(2022, 9, 4)),
        (date(2008, 6, 24), date(2008, 12, 24)),
        (date(2023, 12, 31), date(2024, 6, 30)),
        (date(2024, 3, 31), date(2024, 9, 30)),
        (date(2024, 2, 29), date(2024, 8, 29)),
    ],
)
def test_resolution_due(issued: date, expected: date) -> None:
    assert resolution_due(issued) == expected


# --- the deadline policy: reopened, returned, paused, approximate, "more than 6 months" ---


@pytest.mark.parametrize(
    ("reopened_on", "expected"),
    [
        (date(2025, 1, 10), date(2025, 4, 10)),
        (date(2024, 1, 15), date(2024, 4, 14)),  # across the leap day
        (date(2023, 11, 20), date(2024, 2, 18)),  # across a year end
    ],
)
def test_reopened_response_due(reopened_on: date, expected: date) -> None:
    assert reopened_response_due(reopened_on) == expected


@pytest.mark.parametrize(
    ("returned_on", "days", "expected"),
    [
        (date(2024, 4, 5), None, date(2024, 5, 5)),  # the default, 30 days
        (date(2024, 2, 10), None, date(2024, 3, 11)),  # across the leap day
        (date(2024, 4, 5), 45, date(2024, 5, 20)),
        (date(2023, 12, 20), 14, date(2024, 1, 3)),
    ],
)
def test_revised_response_due(returned_on: date, days: int | None, expected: date) -> None:
    due = revised_response_due(returned_on) if days is None else revised_response_due(returned_on, days)
    assert due == expected


@pytest.mark.parametrize(
    ("resolved_on", "last_update_on", "resumed_on", "expected"),
    [
        (date(2024, 2, 1), None, date(2024, 6, 10), date(2024, 9, 8)),  # closure request returned
        (date(2024, 1, 10), date(2024, 3, 1), date(2024, 4, 1), date(2024, 6, 30)),
        (date(2024, 1, 10), date(2024, 3, 1), date(2024, 2, 1), date(2024, 5, 30)),  # update later
        (date(2024, 1, 10), None, None, date(2024, 4, 9)),
    ],
)
def test_next_update_due_after_a_returned_closure_request(
    resolved_on: date, last_update_on: date | None, resumed_on: date | None, expected: date
) -> None:
    assert next_update_due(resolved_on, last_update_on, 90, resumed_on) == expected


@pytest.mark.parametrize(
    ("issued", "today", "expected"),
    [
        (date(2026, 5, 22), date(2026, 11, 21), False),
        (date(2026, 5, 22), date(2026, 11, 22), False),  # exactly six months is not more
        (date(2026, 5, 22), date(2026, 11, 23), True),
        (date(2023, 8, 31), date(2024, 2, 29), False),  # six months is February 29
        (date(2023, 8, 31), date(2024, 3, 1), True),
        (date(2022, 8, 31), date(2023, 2, 28), False),  # six months is February 28
        (date(2022, 8, 31), date(2023, 3, 1), True),
    ],
)
def test_more_than_6_months(issued: date, today: date, expected: bool) -> None:
    assert more_than_6_months(issued, today) is expected


APPROX = "(the issue date is approximate)"


@pytest.mark.parametrize(
    ("label", "due", "today", "text"),
    [
        ("Response", date(2024, 4, 14), date(2024, 4, 13), f"Response due about April 2024 {APPROX}"),
        ("Response", date(2024, 4, 14), date(2024, 4, 14), f"Response due about April 2024 {APPROX}"),
        (
            "Response",
            date(2024, 4, 14),
            date(2024, 4, 15),
            f"Response overdue since about April 2024 {APPROX}",
        ),
        (
            "Resolution",
            date(2022, 3, 4),
            date(2024, 6, 15),
            f"Resolution overdue since about March 2022 {APPROX}",
        ),
    ],
)
def test_approximate_clock_text(label: str, due: date, today: date, text: str) -> None:
    assert Clock(label, due, today, approximate=True).text == text


# --- progress updates -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resolved_on", "last_update_on", "expected"),
    [
        (date(2024, 1, 10), None, date(2024, 4, 9)),  # no update yet: from resolution
        (date(2024, 1, 10), date(2024, 3, 1), date(2024, 5, 30)),  # from the last update
        (date(2024, 3, 1), date(2024, 1, 10), date(2024, 5, 30)),  # update before resolution
        (date(2024, 1, 10), date(2024, 1, 10), date(2024, 4, 9)),
        (date(2023, 11, 15), None, date(2024, 2, 13)),  # across a year end and leap Feb
    ],
)
def test_next_update_due(resolved_on: date, last_update_on: date | None, expected: date) -> None:
    assert next_update_due(resolved_on, last_update_on) == expected


@pytest.mark.parametrize(
    ("resolved_on", "last_update_on", "interval", "expected"),
    [
        (date(2024, 1, 10), date(2024, 2, 15), 30, date(2024, 3, 16)),
        (date(2023, 12, 15), None, 60, date(2024, 2, 13)),
        (date(2023, 2, 1), None, 30, date(2023, 3, 3)),
    ],
)
def test_next_update_due_custom_interval(
    resolved_on: date, last_update_on: date | None, interval: int, expected: date
) -> None:
    assert next_update_due(resolved_on, last_update_on, interval_days=interval) == expected


# --- overdue target dates and the GAO-IG Act list ---------------------------------------

TODAY = date(2024, 6, 15)


@pytest.mark.parametrize(
    ("target_date", "is_open", "expected"),
    [
        (date(2024, 6, 14), True, True),  # yesterday
        (date(2024, 6, 15), True, False),  # today is not yet overdue
        (date(2024, 6, 16), True, False),
        (None, True, False),
        (date(2024, 6, 14), False, False),  # closed
        (date(2020, 1, 1), False, False),
        (date(2020, 1, 1), True, True),
    ],
)
def test_is_target_overdue(target_date: date | None, is_open: bool, expected: bool) -> None:
    assert is_target_overdue(target_date, is_open, TODAY) is expected


@pytest.mark.parametrize(
    ("issued", "is_open", "today", "expected"),
    [
        (date(2023, 6, 15), True, date(2024, 6, 15), True),  # exactly one year
        (date(2023, 6, 15), True, date(2024, 6, 14), False),  # the day before
        (date(2023, 6, 15), True, date(2024, 6, 16), True),
        (date(2024, 2, 29), True, date(2025, 2, 28), True),  # leap-day issue
        (date(2024, 2, 29), True, date(2025, 2, 27), False),
        (date(2024, 2, 29), True, date(2025, 3, 1), True),
        (date(2023, 2, 28), True, date(2024, 2, 28), True),
        (date(2023, 2, 28), True, date(2024, 2, 27), False),
        (date(2023, 3, 31), True, date(2024, 3, 30), False),
        (date(2023, 3, 31), True, date(2024, 3, 31), True),
        (date(2023, 6, 15), False, date(2030, 1, 1), False),  # closed
    ],
)
def test_is_gao_ig_act(issued: date, is_open: bool, today: date, expected: bool) -> None:
    assert is_gao_ig_act(issued, is_open, today) is expected


# --- age buckets ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("issued", "today", "expected"),
    [
        (date(2026, 5, 22), date(2026, 5, 22), U6),
        (date(2026, 5, 22), date(2026, 11, 21), U6),
        (date(2026, 5, 22), date(2026, 11, 22), M6_12),  # exactly six months
        (date(2026, 5, 22), date(2027, 5, 21), M6_12),
        (date(2026, 5, 22), date(2027, 5, 22), Y1_2),
        (date(2026, 5, 22), date(2028, 5, 21), Y1_2),
        (date(2026, 5, 22), date(2028, 5, 22), Y2_5),
        (date(2026, 5, 22), date(2031, 5, 21), Y2_5),
        (date(2026, 5, 22), date(2031, 5, 22), O5),
        (date(2026, 5, 22), date(2040, 1, 1), O5),
        (date(2023, 8, 31), date(2024, 2, 28), U6),  # six months is February 29
        (date(2023, 8, 31), date(2024, 2, 29), M6_12),
        (date(2023, 8, 31), date(2024, 8, 30), M6_12),
        (date(2023, 8, 31), date(2024, 8, 31), Y1_2),
        (date(2024, 2, 29), date(2025, 2, 27), M6_12),  # one year is February 28
        (date(2024, 2, 29), date(2025, 2, 28), Y1_2),
        (date(2024, 2, 29), date(2026, 2, 27), Y1_2),
        (date(2024, 2, 29), date(2026, 2, 28), Y2_5),
        (date(2024, 2, 29), date(2029, 2, 27), Y2_5),
        (date(2024, 2, 29), date(2029, 2, 28), O5),
        (date(2020, 8, 31), date(2025, 8, 30), Y2_5),
        (date(2020, 8, 31), date(2025, 8, 31), O5),
    ],
)
def test_age_bucket(issued: date, today: date, expected: AgeBucket) -> None:
    assert age_bucket(issued, today) is expected


@pytest.mark.parametrize(
    ("today", "bucket", "expected"),
    [
        (date(2026, 11, 22), U6, (date(2026, 5, 23), None)),
        (date(2026, 11, 22), M6_12, (date(2025, 11, 23), date(2026, 5, 23))),
        (date(2026, 11, 22), Y1_2, (date(2024, 11, 23), date(2025, 11, 23))),
        (date(2026, 11, 22), Y2_5, (date(2021, 11, 23), date(2024, 11, 23))),
        (date(2026, 11, 22), O5, (None, date(2021, 11, 23))),
        (date(2024, 2, 29), U6, (date(2023, 9, 1), None)),
        (date(2024, 2, 29), M6_12, (date(2023, 3, 1), date(2023, 9, 1))),
        (date(2024, 2, 29), Y1_2, (date(2022, 3, 1), date(2023, 3, 1))),
        (date(2024, 2, 29), Y2_5, (date(2019, 3, 1), date(2022, 3, 1))),
        (date(2024, 2, 29), O5, (None, date(2019, 3, 1))),
        (date(2024, 2, 28), U6, (date(2023, 8, 29), None)),  # Aug 29-31 + 6 months = Feb 29
        (date(2023, 2, 28), U6, (date(2022, 9, 1), None)),  # Aug 31 + 6 months = Feb 28
    ],
)
def test_age_bucket_bounds(today: date, bucket: AgeBucket, expected: tuple[date | None, date | None]) -> None:
    assert age_bucket_bounds(bucket, today) == expected


@pytest.mark.parametrize(
    "today",
    [date(2024, 2, 29), date(2026, 11, 22), date(2023, 2, 28), date(2024, 2, 28), date(2025, 12, 31)],
)
def test_age_bucket_bounds_agree_with_age_bucket(today: date) -> None:
    """The SQL bounds select exactly the issue dates that age_bucket puts in the bucket."""
    days = [today - timedelta(days=n) for n in range(-10, 2_100)]
    for bucket in AgeBucket:
        first, after = age_bucket_bounds(bucket, today)
        members = 0
        for day in days:
            in_bounds = (first is None or first <= day) and (after is None or day < after)
            assert in_bounds == (age_bucket(day, today) == bucket), (bucket, today, day)
            members += in_bounds
        assert members > 0, bucket


# --- semiannual reporting periods -------------------------------------------------------

OCT_2023 = Period(date(2023, 10, 1), date(2024, 3, 31))
APR_2024 = Period(date(2024, 4, 1), date(2024, 9, 30))
APR_2023 = Period(date(2023, 4, 1), date(2023, 9, 30))


@pytest.mark.parametrize(
    ("day", "expected", "label"),
    [
        (date(2023, 10, 1), OCT_2023, "October 1, 2023 – March 31, 2024"),
        (date(2023, 12, 31), OCT_2023, "October 1, 2023 – March 31, 2024"),
        (date(2024, 1, 1), OCT_2023, "October 1, 2023 – March 31, 2024"),
        (date(2024, 2, 29), OCT_2023, "October 1, 2023 – March 31, 2024"),
        (date(2024, 3, 31), OCT_2023, "October 1, 2023 – March 31, 2024"),
        (date(2024, 4, 1), APR_2024, "April 1, 2024 – September 30, 2024"),
        (date(2024, 9, 30), APR_2024, "April 1, 2024 – September 30, 2024"),
        (date(2023, 9, 30), APR_2023, "April 1, 2023 – September 30, 2023"),
    ],
)
def test_semiannual_period(day: date, expected: Period, label: str) -> None:
    period = semiannual_period(day)
    assert (period.start, period.end) == (expected.start, expected.end)
    assert period.label == label


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        (OCT_2023, APR_2023),
        (APR_2024, OCT_2023),
        (APR_2023, Period(date(2022, 10, 1), date(2023, 3, 31))),
    ],
)
def test_period_previous(period: Period, expected: Period) -> None:
    assert period.previous() == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2023, 10, 1), True),
        (date(2024, 2, 29), True),
        (date(2024, 3, 31), True),
        (date(2023, 9, 30), False),
        (date(2024, 4, 1), False),
        ("2024-01-01", False),
        (None, False),
    ],
)
def test_period_membership(day: object, expected: bool) -> None:
    assert (day in OCT_2023) is expected


# --- cut-off issue dates for list filters -----------------------------------------------


@pytest.mark.parametrize(
    ("today", "due", "expected"),
    [
        (date(2024, 6, 15), resolution_due, date(2023, 12, 14)),
        (date(2024, 3, 1), resolution_due, date(2023, 8, 31)),  # due Feb 29
        (date(2023, 3, 1), resolution_due, date(2022, 8, 31)),  # due Feb 28
        (date(2024, 9, 1), resolution_due, date(2024, 2, 29)),  # Mar 1 would be due Sep 1
        (date(2024, 3, 1), response_due, date(2023, 12, 1)),  # due Feb 29
        (date(2024, 1, 14), response_due, date(2023, 10, 15)),  # due Jan 13
        (date(2023, 3, 2), response_due, date(2022, 12, 1)),  # due Mar 1
    ],
)
def test_latest_issue_date_due_before(today: date, due: Callable[[date], date], expected: date) -> None:
    result = latest_issue_date_due_before(today, due)
    assert result == expected
    assert due(result) < today
    assert due(result + timedelta(days=1)) >= today


# --- clocks in words --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "due", "today", "text"),
    [
        ("Response", date(2024, 6, 14), date(2024, 6, 15), "Response overdue by 1 day"),
        ("Response", date(2024, 6, 3), date(2024, 6, 15), "Response overdue by 12 days"),
        ("Resolution", date(2021, 1, 28), date(2024, 6, 15), "Resolution overdue by 1,234 days"),
        ("Response", date(2024, 2, 28), date(2024, 3, 1), "Response overdue by 2 days"),  # leap day
        ("Response", date(2023, 2, 28), date(2023, 3, 1), "Response overdue by 1 day"),
        ("Resolution", date(2024, 6, 15), date(2024, 6, 15), "Resolution due today"),
        ("Update", date(2024, 6, 16), date(2024, 6, 15), "Update due tomorrow"),
        ("Update", date(2024, 6, 17), date(2024, 6, 15), "Update due in 2 days"),
        ("Update", date(2024, 6, 24), date(2024, 6, 15), "Update due in 9 days"),
        ("Update", date(2024, 1, 2), date(2023, 12, 31), "Update due in 2 days"),  # across year end
        ("Revised response", date(2025, 4, 10), date(2025, 2, 28), "Revised response due in 41 days"),
    ],
)
def test_clock_text(label: str, due: date, today: date, text: str) -> None:
    assert Clock(label, due, today).text == text


@pytest.mark.parametrize(
    ("due", "today", "days_left", "overdue"),
    [
        (date(2024, 6, 14), date(2024, 6, 15), -1, True),
        (date(2024, 6, 15), date(2024, 6, 15), 0, False),
        (date(2024, 3, 1), date(2024, 2, 28), 2, False),
        (date(2021, 1, 28), date(2024, 6, 15), -1234, True),
    ],
)
def test_clock_days_left(due: date, today: date, days_left: int, overdue: bool) -> None:
    clock = Clock("Response", due, today)
    assert clock.days_left == days_left
    assert clock.overdue is overdue


def test_clock_inline_text_keeps_the_month_capitalized() -> None:
    """Inside a PDF sentence the clock starts lower case, the month does not."""
    clock = Clock("Resolution", date(2024, 7, 15), date(2024, 7, 16), approximate=True)
    assert clock.inline_text == "resolution overdue since about July 2024 (the issue date is approximate)"
    assert Clock("Response", date(2024, 6, 14), date(2024, 6, 15)).inline_text == "response overdue by 1 day"


@pytest.mark.parametrize(
    ("due", "today", "days_left", "overdue", "text"),
    [
        # the day before, on and after each wording boundary
        (date(2024, 6, 13), date(2024, 6, 15), -2, True, "Update overdue by 2 days"),
        (date(2024, 6, 14), date(2024, 6, 15), -1, True, "Update overdue by 1 day"),
        (date(2024, 6, 15), date(2024, 6, 15), 0, False, "Update due today"),
        (date(2024, 6, 16), date(2024, 6, 15), 1, False, "Update due tomorrow"),
        (date(2024, 6, 17), date(2024, 6, 15), 2, False, "Update due in 2 days"),
        (date(2024, 3, 1), date(2024, 2, 29), 1, False, "Update due tomorrow"),  # leap day
        (date(2027, 3, 1), date(2024, 2, 29), 1096, False, "Update due in 1,096 days"),
    ],
)
def test_clock_boundaries(due: date, today: date, days_left: int, overdue: bool, text: str) -> None:
    clock = Clock("Update", due, today)
    assert (clock.days_left, clock.overdue, clock.text) == (days_left, overdue, text)


@pytest.mark.parametrize(
    ("due", "today", "text"),
    [
        (date(2024, 5, 31), date(2024, 6, 1), "Response overdue since about May 2024"),
        (date(2024, 6, 1), date(2024, 6, 1), "Response due about June 2024"),
        (date(2024, 6, 1), date(2024, 5, 31), "Response due about June 2024"),
        (date(2025, 1, 1), date(2024, 12, 31), "Response due about January 2025"),
        (date(2024, 12, 31), date(2025, 1, 1), "Response overdue since about December 2024"),
    ],
)
def test_approximate_clock_boundaries(due: date, today: date, text: str) -> None:
    """An approximate clock never counts days, even when its day is tomorrow or today."""
    clock = Clock("Response", due, today, approximate=True)
    assert clock.text == f"{text} {APPROX}"
    assert clock.inline_text == f"r{text[1:]} {APPROX}"


def test_clock_is_exact_unless_told() -> None:
    assert Clock("Response", date(2024, 6, 16), date(2024, 6, 15)).text == "Response due tomorrow"


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (date(2026, 3, 3), "March 3, 2026"),
        (date(2024, 2, 29), "February 29, 2024"),
        (date(2023, 12, 31), "December 31, 2023"),
        (date(2011, 1, 1), "January 1, 2011"),
    ],
)
def test_long_date(day: date, text: str) -> None:
    assert long_date(day) == text


def test_age_bucket_labels_in_order() -> None:
    assert [(bucket.value, bucket.label) for bucket in AgeBucket] == [
        ("under_6_months", "Under 6 months"),
        ("6_to_12_months", "6–12 months"),
        ("1_to_2_years", "1–2 years"),
        ("2_to_5_years", "2–5 years"),
        ("over_5_years", "Over 5 years"),
    ]
