"""Read queries for recommendations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, contains_eager, selectinload

from app.auth import policy
from app.filters import OPEN_OVER_6_MONTHS, RecFilters
from app.keyset import SortKey
from app.lifecycle import clocks, deadlines, history
from app.lifecycle.history import RecSnapshot
from app.lifecycle.periods import AsOf
from app.models import Addressee, Recommendation, RecStatus, Report
from app.search.queries import matching_recommendations


def report_with_numbers(report_id: int) -> sa.Select[Report]:
    """A report with its recommendations loaded (for numbering and sensitivity rules)."""
    return (
        sa.select(Report)
        .where(Report.id == report_id)
        .options(selectinload(Report.recommendations), selectinload(Report.components))
    )


def suggested_number(report: Report) -> int:
    """The first number not yet entered (within the published count when known)."""
    taken = {r.number for r in report.recommendations}
    n = 1
    while n in taken:
        n += 1
    return n


def recommendation_list(user: Any, filters: RecFilters, today: date, interval_days: int) -> sa.Select[Any]:
    """Recommendations of the reports this user may open, newest report first.

    A restricted recommendation the user may not read stays in the list as a placeholder
    row (so counts stay honest), but never matches a filter on its text or clocks.
    With `filters.as_of`, only those issued by that day, and the filters on their state
    (status, clocks, age, closing) read the state of that day (app.lifecycle.periods)."""
    stmt = (
        sa.select(Recommendation)
        .join(Recommendation.report)
        .where(policy.report_visibility(user))
        .options(
            contains_eager(Recommendation.report),
            selectinload(Recommendation.addressees).joinedload(Addressee.component),
        )
        .order_by(Report.issued_on.desc().nulls_last(), Report.id.desc(), Recommendation.number.nulls_last())
    )
    if filters.reads_hidden_content():
        stmt = stmt.where(policy.recommendation_visibility(user))
    if filters.q:
        stmt = stmt.where(Recommendation.id.in_(matching_recommendations(filters.q)))
    if filters.component_id:
        stmt = stmt.where(Recommendation.addressees.any(Addressee.component_id == filters.component_id))
    if filters.report_id:
        stmt = stmt.where(Recommendation.report_id == filters.report_id)
    if filters.year:
        stmt = stmt.where(
            Report.issued_on >= date(filters.year, 1, 1), Report.issued_on <= date(filters.year, 12, 31)
        )
    if filters.significant is not None:
        stmt = stmt.where(Recommendation.significant.is_(filters.significant))
    if filters.money:
        stmt = stmt.where(
            sa.or_(Recommendation.questioned_costs > 0, Recommendation.funds_put_to_better_use > 0)
        )
    if filters.before_tracking:
        stmt = stmt.where(deadlines.history_before_tracking_criterion())
    if filters.priority:
        stmt = stmt.where(Recommendation.priority.is_(True))
    state = state_criteria(filters, filters.day(today), interval_days)
    if filters.as_of is None:
        return stmt.where(*state)
    as_of = AsOf(filters.as_of)
    return as_of.join(stmt).where(*(as_of.adapt(c) for c in state))


def states_on(session: Session, rec_ids: list[int], as_of: date | None) -> dict[int, RecSnapshot]:
    """A page's recommendations as they stood at the end of `as_of`, by id (none for
    today: the rows themselves are today's state). One page: a replay of each is cheap."""
    if as_of is None or not rec_ids:
        return {}
    return history.states_as_of(session, as_of, rec_ids)


def state_criteria(filters: RecFilters, today: date, interval_days: int) -> list[sa.ColumnElement[bool]]:
    """The filters on what changes over time (status, clocks, age while open, closing
    date), written on the live columns; AsOf.adapt reads them on a past day's."""
    out: list[sa.ColumnElement[bool]] = []
    if filters.status == "open":
        out.append(Recommendation.status.in_(RecStatus.open_values()))
    elif filters.status == "closed":
        out.append(Recommendation.status.in_(RecStatus.closed_values()))
    elif filters.status:
        out.append(Recommendation.status == RecStatus(filters.status))
    if filters.clock:
        # With a component chosen, a clock of a component's part is that component's own.
        own = Addressee.component_id == filters.component_id if filters.component_id else None
        out.append(deadlines.clock_criterion(filters.clock, today, interval_days, own))
    if filters.age == OPEN_OVER_6_MONTHS:
        out.append(Recommendation.status.in_(RecStatus.open_values()))
        out.append(Report.issued_on <= clocks.latest_issue_date_due_before(today, clocks.resolution_due))
    elif filters.age:
        first, after = clocks.age_bucket_bounds(clocks.AgeBucket(filters.age), today)
        out.append(Recommendation.status.in_(RecStatus.open_values()))
        if first is not None:
            out.append(Report.issued_on >= first)
        if after is not None:
            out.append(Report.issued_on < after)
    if filters.closed_from or filters.closed_to:
        out.append(Recommendation.status.in_(RecStatus.closed_values()))
        if filters.closed_from:
            out.append(Recommendation.closed_on >= filters.closed_from)
        if filters.closed_to:
            out.append(Recommendation.closed_on <= filters.closed_to)
    return out


STATUS_ORDER = {status: i for i, status in enumerate(RecStatus)}
_status_rank = sa.case(STATUS_ORDER, value=Recommendation.status)
_no_number = sa.case((Report.number.is_(None), 1), else_=0)


@dataclass(frozen=True)
class Sort:
    label: str
    keys: tuple[SortKey, ...]
    values: Callable[[Recommendation], tuple[Any, ...]]


# A report whose issue date is not known sorts after every dated one, newest or oldest first.
_NEWEST = (SortKey(Report.issued_on, True, "date", nullable=True), SortKey(Report.id, True))
_WITHIN = (SortKey(Recommendation.number, nullable=True), SortKey(Recommendation.id))

SORTS: dict[str, Sort] = {
    "newest": Sort(
        "Newest report first",
        (*_NEWEST, *_WITHIN),
        lambda r: (r.report.issued_on, r.report.id, r.number, r.id),
    ),
    "oldest": Sort(
        "Oldest report first",
        (SortKey(Report.issued_on, kind="date", nullable=True), SortKey(Report.id), *_WITHIN),
        lambda r: (r.report.issued_on, r.report.id, r.number, r.id),
    ),
    "report": Sort(
        "Report number",
        (
            SortKey(_no_number),
            SortKey(sa.func.coalesce(Report.number, ""), kind="str"),
            SortKey(Report.id),
            *_WITHIN,
        ),
        lambda r: (int(r.report.number is None), r.report.number or "", r.report.id, r.number, r.id),
    ),
    "status": Sort(
        "Status",
        (SortKey(_status_rank), *_NEWEST, *_WITHIN),
        lambda r: (STATUS_ORDER[r.status], r.report.issued_on, r.report.id, r.number, r.id),
    ),
}


def sort_for(name: str, filters: RecFilters) -> str:
    """The sort to use: as of a past date the rows are ordered by what does not change
    (the status sort would order by today's status), so "status" becomes "newest"."""
    return "newest" if name == "status" and filters.as_of is not None else name
