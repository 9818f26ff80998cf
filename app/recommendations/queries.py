"""Read queries for recommendations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from app.auth import policy
from app.lifecycle import deadlines
from app.models import Addressee, Recommendation, RecStatus, Report
from app.search.queries import matching_recommendations


def recommendation_detail(rec_id: int) -> sa.Select[tuple[Recommendation]]:
    """One recommendation with its report and addressees."""
    return (
        sa.select(Recommendation)
        .where(Recommendation.id == rec_id)
        .options(
            joinedload(Recommendation.report).selectinload(Report.components),
            selectinload(Recommendation.addressees).joinedload(Addressee.component),
        )
    )


def report_with_numbers(report_id: int) -> sa.Select[tuple[Report]]:
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


@dataclass(frozen=True)
class RecFilters:
    q: str = ""
    status: str = ""  # "open", "closed" or one RecStatus value
    component_id: int | None = None
    report_id: int | None = None
    year: int | None = None
    significant: bool | None = None
    clock: str = ""

    @property
    def active(self) -> bool:
        return any(v not in ("", None) for v in vars(self).values())

    def reads_hidden_content(self) -> bool:
        """Filters on text or on the components' responses and dates: a placeholder row
        must never match them, or the match itself would leak what it hides."""
        return bool(self.q or self.clock)


STATUS_FILTERS = {
    "open": "Open (resolved or not)",
    "closed": "Closed",
    **{s.value: s.label for s in RecStatus},
}


def recommendation_list(user: Any, filters: RecFilters, today: date, interval_days: int) -> sa.Select[Any]:
    """Recommendations of the reports this user may open, newest report first.

    A restricted recommendation the user may not read stays in the list as a placeholder
    row (so counts stay honest), but never matches a filter on its text or clocks."""
    stmt = (
        sa.select(Recommendation)
        .join(Recommendation.report)
        .where(policy.report_visibility(user))
        .options(
            contains_eager(Recommendation.report),
            selectinload(Recommendation.addressees).joinedload(Addressee.component),
        )
        .order_by(Report.issued_on.desc(), Report.id.desc(), Recommendation.number)
    )
    if filters.reads_hidden_content():
        stmt = stmt.where(policy.recommendation_visibility(user))
    if filters.q:
        stmt = stmt.where(Recommendation.id.in_(matching_recommendations(filters.q)))
    if filters.status == "open":
        stmt = stmt.where(Recommendation.status.in_(RecStatus.open_values()))
    elif filters.status == "closed":
        stmt = stmt.where(Recommendation.status.in_(RecStatus.closed_values()))
    elif filters.status:
        stmt = stmt.where(Recommendation.status == RecStatus(filters.status))
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
    if filters.clock:
        stmt = stmt.where(deadlines.clock_criterion(filters.clock, today, interval_days))
    return stmt
