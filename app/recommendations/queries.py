"""Read queries for recommendations."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from app.models import Addressee, Recommendation, Report


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
