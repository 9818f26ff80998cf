"""The recommendation list's filters: what each one means and how the query string sets
them. Part of the domain core: the list, its PDF, its CSV and XLSX exports and the `pdf`
command read filters from here, never from another view. The "as of" date that PDFs (and
the `pdf` command) accept is parsed here too."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any

from flask import abort, request

from app.lifecycle import clocks, deadlines
from app.lifecycle.clocks import AgeBucket
from app.models import RecStatus
from app.web import int_arg, today


@dataclass(frozen=True)
class RecFilters:
    q: str = ""
    status: str = ""  # "open", "closed" or one RecStatus value
    component_id: int | None = None
    report_id: int | None = None
    year: int | None = None
    significant: bool | None = None
    clock: str = ""
    age: str = ""  # an AGE_FILTERS key: open recommendations of that age
    closed_from: date | None = None
    closed_to: date | None = None
    money: bool = False  # only those with questioned costs or funds put to better use
    # only those with history from before RecTrack (deadlines.has_history_before_tracking)
    before_tracking: bool = False
    priority: bool = False  # only priority recommendations (priority=1)
    # A past date: statuses, clocks and counts as they stood at the end of that day
    # (None: today, the live rows). Set by filters_from_args, never to today.
    as_of: date | None = None

    @property
    def active(self) -> bool:
        return bool(self.report_id or self.year or self.narrows_recommendations())

    def day(self, today: date) -> date:
        """The day the filters describe: the "as of" date, else today."""
        return self.as_of or today

    def to_json(self) -> dict[str, Any]:
        """The filters as JSON values (dates as text), for a background job's parameters."""
        return {k: v.isoformat() if isinstance(v, date) else v for k, v in self.in_use().items()}

    @classmethod
    def from_json(cls, values: dict[str, Any]) -> RecFilters:
        """The filters to_json() wrote."""
        dates = {"closed_from", "closed_to", "as_of"}
        known = {f.name for f in fields(cls)}
        read: dict[str, Any] = {
            k: date.fromisoformat(v) if k in dates and v is not None else v
            for k, v in values.items()
            if k in known
        }
        return cls(**read)

    def in_use(self) -> dict[str, Any]:
        """The filters set to something, by name (what an export's audit event records)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) != f.default}

    def narrows_recommendations(self) -> bool:
        """Filters on the recommendations themselves, not only on which report."""
        return bool(
            self.q
            or self.status
            or self.component_id
            or self.significant is not None
            or self.clock
            or self.age
            or self.closed_from
            or self.closed_to
            or self.money
            or self.before_tracking
            or self.priority
            or self.as_of  # only those issued by then
        )

    def reads_hidden_content(self) -> bool:
        """Filters on what a placeholder row hides (text, components, significance,
        money, clocks, closing date, priority): such a row must never match them, or the match
        itself would leak what it hides. Status, age and report are shown."""
        return bool(
            self.q
            or (self.clock and self.clock not in CLOCKS_SHOWN_ON_PLACEHOLDERS)
            or self.component_id
            or self.significant is not None
            or self.money
            or self.closed_from
            or self.closed_to
            or self.priority
        )


# Open one year or more (GAO-IG Act) reads only the status and the issue date, which a
# placeholder row shows: placeholders match it, as the statutory table counts them.
CLOCKS_SHOWN_ON_PLACEHOLDERS = frozenset({"gao_ig_act"})

# Open more than six months after issuance (clocks.more_than_6_months): the semiannual
# report's table of that name, as a list filter beside the age buckets.
OPEN_OVER_6_MONTHS = "over_6_months"
AGE_FILTERS = {OPEN_OVER_6_MONTHS: "More than 6 months", **{b.value: b.label for b in AgeBucket}}

STATUS_FILTERS = {
    "open": "Open (resolved or not)",
    "closed": "Closed",
    **{s.value: s.label for s in RecStatus},
}


def filters_from_args() -> RecFilters:
    """The list's filters from the query string (shared by the list, its PDF and exports);
    a bad "as of" date is a 400 with the message (a download has no field to show it by)."""
    now = today()
    return replace(_filters(), as_of=past_day(as_of_arg(now), now))


def filters_for_page() -> tuple[RecFilters, dict[str, str]]:
    """The filters for a page that shows them in a form (the list, the dashboard): a bad
    "as of" date leaves today's state and a message for the field, by field name."""
    try:
        return replace(_filters(), as_of=past_day(parse_as_of(as_of_value(), today()), today())), {}
    except AsOfError as exc:
        return _filters(), {"as_of": str(exc)}


def past_day(day: date, now: date) -> date | None:
    """None for today (the live rows), the day otherwise."""
    return None if day == now else day


def as_of_value() -> str:
    """The "as of" date as written: the free date field, else the period picker's choice."""
    return (request.args.get("as_of_date") or request.args.get("as_of") or "").strip()


def _filters() -> RecFilters:
    args = request.args
    status = args.get("status", "")
    clock = args.get("clock", "")
    significant = {"yes": True, "no": False}.get(args.get("significant", ""))
    age = args.get("age", "")
    return RecFilters(
        q=args.get("q", "").strip()[:200],
        status=status if status in STATUS_FILTERS else "",
        component_id=int_arg("component"),
        report_id=int_arg("report"),
        year=int_arg("year", high=9999),
        significant=significant,
        clock=clock if clock in deadlines.CLOCK_FILTERS else "",
        age=age if age in AGE_FILTERS else "",
        closed_from=_date_arg("closed_from"),
        closed_to=_date_arg("closed_to"),
        money=args.get("money") == "yes",
        before_tracking=args.get("history") == "before_tracking",
        priority=args.get("priority") in ("1", "yes"),
    )


def _date_arg(name: str) -> date | None:
    value = request.args.get(name, "")
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        abort(400, description=f"“{name}” must be a date written YYYY-MM-DD.")


class AsOfError(ValueError):
    """An "as of" date that is not a real date, or lies in the future (the message says which)."""


# The Inspector General Act was signed on this day; no OIG report is older. An "as of"
# date before it describes nothing, and far earlier ones overflow the deadline arithmetic.
EARLIEST_AS_OF = date(1978, 10, 12)


def parse_as_of(value: str | None, now: date) -> date:
    """The "as of" date as written (YYYY-MM-DD): today when absent; AsOfError when it is
    not a real date, is later than today or earlier than EARLIEST_AS_OF. Shared by the
    pages and the command line."""
    if not value:
        return now
    try:
        as_of = date.fromisoformat(value)
    except ValueError:
        raise AsOfError("The “as of” date must be a real date written YYYY-MM-DD.") from None
    if as_of > now:
        raise AsOfError("The “as of” date cannot be in the future.")
    if as_of < EARLIEST_AS_OF:
        raise AsOfError(
            f"The “as of” date cannot be before {EARLIEST_AS_OF.isoformat()}, "
            "when the Inspector General Act was signed."
        )
    return as_of


def as_of_arg(now: date) -> date:
    """The "as of" date from the query string; a bad or future one is a 400 with the message."""
    try:
        return parse_as_of(as_of_value(), now)
    except AsOfError as exc:
        abort(400, description=str(exc))


# How many semiannual periods back the period picker offers.
PICKER_PERIODS = 10


def period_ends(now: date, count: int = PICKER_PERIODS) -> list[tuple[date, str]]:
    """The ends of the last `count` semiannual reporting periods that have ended by
    `now` (the one ending today included), newest first, with their labels."""
    period = clocks.semiannual_period(now)
    if period.end > now:
        period = period.previous()
    out: list[tuple[date, str]] = []
    while len(out) < count and period.end >= EARLIEST_AS_OF:
        out.append((period.end, f"End of the semiannual period ending {clocks.long_date(period.end)}"))
        period = period.previous()
    return out
