"""Read queries for reports. Each returns a Select; the view executes it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.auth import policy
from app.models import Addressee, Component, Recommendation, RecStatus, Report

REPORT_STATUSES = {
    "open": "Has open recommendations",
    "closed": "All entered recommendations closed",
    "none": "No recommendations entered",
}


@dataclass(frozen=True)
class ReportFilters:
    q: str = ""
    component_id: int | None = None
    status: str = ""
    year: int | None = None

    @property
    def active(self) -> bool:
        return bool(self.q or self.component_id or self.status or self.year)


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def recommendation_counts() -> sa.Subquery:
    """Per report: recommendations entered and still open (all of them, so counts stay
    honest even where a reader cannot see every text)."""
    open_ = Recommendation.status.in_(RecStatus.open_values())
    return (
        sa.select(
            Recommendation.report_id.label("report_id"),
            sa.func.count().label("entered"),
            sa.func.count().filter(open_).label("open"),
        )
        .group_by(Recommendation.report_id)
        .subquery("rec_counts")
    )


def report_list(user: Any, filters: ReportFilters) -> sa.Select[*tuple[Any, ...]]:
    """Reports this user may open, with their recommendation counts, newest first."""
    counts = recommendation_counts()
    stmt = (
        sa.select(
            Report,
            sa.func.coalesce(counts.c.entered, 0).label("entered"),
            sa.func.coalesce(counts.c.open, 0).label("open"),
        )
        .outerjoin(counts, counts.c.report_id == Report.id)
        .options(selectinload(Report.components))
        .where(policy.report_visibility(user))
        .order_by(Report.issued_on.desc().nulls_last(), Report.id.desc())
    )
    if filters.q:
        pattern = like_pattern(filters.q)
        stmt = stmt.where(
            sa.or_(
                Report.number.ilike(pattern, escape="\\"),
                Report.title.ilike(pattern, escape="\\"),
            )
        )
    if filters.component_id:
        cid = filters.component_id
        stmt = stmt.where(
            sa.or_(
                Report.components.any(Component.id == cid),
                Report.recommendations.any(
                    sa.and_(
                        policy.recommendation_visibility(user),
                        Recommendation.addressees.any(Addressee.component_id == cid),
                    )
                ),
            )
        )
    if filters.status == "open":
        stmt = stmt.where(sa.func.coalesce(counts.c.open, 0) > 0)
    elif filters.status == "closed":
        stmt = stmt.where(counts.c.entered > 0, counts.c.open == 0)
    elif filters.status == "none":
        stmt = stmt.where(counts.c.entered.is_(None))
    if filters.year:
        stmt = stmt.where(
            Report.issued_on >= date(filters.year, 1, 1), Report.issued_on <= date(filters.year, 12, 31)
        )
    return stmt


def report_detail(report_id: int) -> sa.Select[Report]:
    """One report with everything its page shows."""
    return (
        sa.select(Report)
        .where(Report.id == report_id)
        .options(
            selectinload(Report.components),
            selectinload(Report.recommendations)
            .selectinload(Recommendation.addressees)
            .joinedload(Addressee.component),
        )
    )


def report_for_edit(report_id: int) -> sa.Select[Report]:
    return (
        sa.select(Report)
        .where(Report.id == report_id)
        .options(selectinload(Report.components), selectinload(Report.recommendations))
    )


def issue_years(user: Any) -> sa.Select[Any]:
    """The years the user's reports were issued in (for the year filter)."""
    year = sa.cast(sa.extract("year", Report.issued_on), sa.Integer)
    return (
        sa.select(year)
        .where(policy.report_visibility(user), Report.issued_on.is_not(None))
        .distinct()
        .order_by(year.desc())
    )


def report_by_identity(number: str | None, title: str) -> sa.Select[Report]:
    """A report by its number, or by its title when it has none (seed and import files
    name reports this way), with its recommendations and addressees."""
    match = Report.number == number if number else sa.and_(Report.number.is_(None), Report.title == title)
    return (
        sa.select(Report)
        .where(match)
        .options(
            selectinload(Report.components),
            selectinload(Report.recommendations).selectinload(Recommendation.addressees),
        )
    )
