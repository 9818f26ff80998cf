"""Issue dates as precise as the source: a day (2024-09-27), a month (2024-09) or only a
federal fiscal year (FY2024, which runs from October 1, 2023 to September 30, 2024).

RecTrack stores one representative date (Report.issued_on) for sorting, filters and
clocks, plus the precision. The representative date is the LAST day the report can have
been issued (the end of the month or of the fiscal year): clocks counted from it never
claim a deadline passed before it certainly did. A month or fiscal year can therefore be
entered only once it has ended; until then the exact day is the way to enter it.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from app.models.enums import IssuePrecision
from app.text import NOT_KNOWN, is_not_known

FORMS_HINT = "2024-09-27 (a day), 2024-09 (a month) or FY2024 (a federal fiscal year)"
MESSAGE = f'Write the issue date as {FORMS_HINT}, or "not known".'
# A report whose issue date no source gives (Report.issued_on NULL) is written "not known"
# (app.text.NOT_KNOWN): every clock counted from it is "not known", never late.
NOT_KNOWN_LABEL = "Not known"

_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_FY = re.compile(r"^FY\s?(\d+)$", re.IGNORECASE)


class IssueDateError(ValueError):
    """Text that is not an issue date in one of the three forms; the message says why."""


@dataclass(frozen=True)
class IssueDate:
    on: date  # the representative (last possible) day
    precision: IssuePrecision = IssuePrecision.DAY

    @property
    def first_day(self) -> date:
        """The earliest day the report can have been issued."""
        if self.precision == IssuePrecision.MONTH:
            return self.on.replace(day=1)
        if self.precision == IssuePrecision.FISCAL_YEAR:
            return date(self.on.year - 1, 10, 1)
        return self.on

    @property
    def text(self) -> str:
        """The form people type and spreadsheets carry: 2024-09-27, 2024-09 or FY2024."""
        if self.precision == IssuePrecision.MONTH:
            return f"{self.on:%Y-%m}"
        if self.precision == IssuePrecision.FISCAL_YEAR:
            return f"FY{self.on.year}"
        return self.on.isoformat()

    def label(self, approximate: bool = False) -> str:
        """What a page shows: "September 27, 2024", "September 2024" or "FY2024"."""
        if self.precision == IssuePrecision.MONTH:
            text = f"{self.on:%B} {self.on.year}"
        elif self.precision == IssuePrecision.FISCAL_YEAR:
            text = f"FY{self.on.year}"
        else:
            text = f"{self.on:%B} {self.on.day}, {self.on.year}"
        return f"about {text}" if approximate else text


def month(year: int, month_: int) -> IssueDate:
    return IssueDate(date(year, month_, calendar.monthrange(year, month_)[1]), IssuePrecision.MONTH)


def fiscal_year(year: int) -> IssueDate:
    return IssueDate(date(year, 9, 30), IssuePrecision.FISCAL_YEAR)


def normalized(on: date, precision: IssuePrecision) -> IssueDate:
    """The issue date of the day, month or fiscal year `on` falls in, with its
    representative (last) day."""
    if precision == IssuePrecision.MONTH:
        return month(on.year, on.month)
    if precision == IssuePrecision.FISCAL_YEAR:
        return fiscal_year(on.year + 1 if on.month >= 10 else on.year)
    return IssueDate(on)


def parse_or_not_known(text: str) -> IssueDate | None:
    """parse(), except that "not known" gives None (the issue date is not known)."""
    return None if is_not_known(text) else parse(text)


def label(issue: IssueDate | None, approximate: bool = False) -> str:
    """IssueDate.label, or "Not known"."""
    return NOT_KNOWN_LABEL if issue is None else issue.label(approximate)


def text(issue: IssueDate | None) -> str:
    """IssueDate.text, or "not known" (the form people type it in)."""
    return NOT_KNOWN if issue is None else issue.text


def parse(text: str) -> IssueDate:
    """Read "2024-09-27", "2024-09" or "FY2024"; IssueDateError says what is wrong."""
    value = text.strip()
    if found := _FY.match(value):
        digits = found.group(1)
        if len(digits) != 4:
            raise IssueDateError(f"Write the fiscal year with four digits, such as FY2024 (not {value}).")
        return fiscal_year(int(digits))
    if found := _MONTH.match(value):
        year, number = int(found.group(1)), int(found.group(2))
        if len(found.group(2)) != 2 or not 1 <= number <= 12:
            raise IssueDateError(f"{value} is not a month: write it as 2024-09 (month 01 to 12).")
        return month(year, number)
    if found := _DAY.match(value):
        try:
            day = date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
        except ValueError:
            raise IssueDateError(f"{value} is not a real date. {MESSAGE}") from None
        if len(found.group(2)) != 2 or len(found.group(3)) != 2:
            raise IssueDateError(f"{value}: write the month and the day with two digits each. {MESSAGE}")
        return IssueDate(day)
    raise IssueDateError(MESSAGE)


def check_not_later_than(issue: IssueDate, today: date) -> str | None:
    """Why the date cannot be an issue date as of `today`, or None."""
    if issue.on <= today:
        return None
    long_today = f"{today:%B} {today.day}, {today.year}"
    if issue.precision == IssuePrecision.DAY:
        return f"The issue date cannot be later than today ({long_today})."
    return (
        f"{issue.text} has not ended yet (today is {long_today}): enter the exact issue date, "
        "or the month or fiscal year once it has ended."
    )
