"""The rows of the open-data files: one per public recommendation of a public report,
read with columns only (three queries in all, whatever the number of rows).

Not the CSV export's rows (app.exports.services.export_rows): those are one per
addressed component, include placeholder rows for restricted recommendations and the
reports with none entered, and write issue dates the way the import reads them back.
The CSV cells are written by the export's own `cell_text` (the same spreadsheet-formula
guard)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.exports.services import cell_text
from app.feeds.queries import public_items
from app.models import (
    Addressee,
    Component,
    IssuePrecision,
    Recommendation,
    RecommendationEvent,
    Report,
)

Row = dict[str, Any]
BATCH = 2000


def report_date(on: date | None, precision: IssuePrecision | None) -> str | None:
    """ISO 8601 at the precision known: a day, a month, or a fiscal year as the interval
    it covers (FY2024: 2023-10-01/2024-09-30); None when not known."""
    if on is None:
        return None
    if precision == IssuePrecision.MONTH:
        return f"{on:%Y-%m}"
    if precision == IssuePrecision.FISCAL_YEAR:
        return f"{date(on.year - 1, 10, 1).isoformat()}/{on.isoformat()}"
    return on.isoformat()


def _public_recommendations() -> sa.Select[*tuple[Any, ...]]:
    return (
        sa.select(
            Recommendation.id,
            Report.number.label("report_number"),
            Report.title.label("report_title"),
            Report.issued_on,
            Report.issued_precision,
            Report.issued_on_approximate,
            Report.url.label("report_url"),
            Recommendation.number,
            Recommendation.text,
            Recommendation.text_source,
            Recommendation.significant,
            Recommendation.questioned_costs,
            Recommendation.funds_put_to_better_use,
            Recommendation.status,
            Recommendation.priority,
            Recommendation.tracked_since,
            Recommendation.resolved_on,
            Recommendation.closed_on,
        )
        .join(Report, Report.id == Recommendation.report_id)
        .where(public_items())
        .order_by(
            Report.issued_on.desc().nulls_last(),
            Report.id.desc(),
            Recommendation.number.nulls_last(),
            Recommendation.id,
        )
    )


def _public_ids() -> sa.Select[Any]:
    return (
        sa.select(Recommendation.id).join(Report, Report.id == Recommendation.report_id).where(public_items())
    )


def _addressees(session: Session) -> dict[int, list[Any]]:
    stmt = (
        sa.select(
            Addressee.recommendation_id,
            Component.abbreviation,
            Addressee.is_lead,
            Addressee.concurrence,
            Addressee.target_date,
        )
        .join(Component, Component.id == Addressee.component_id)
        .where(Addressee.recommendation_id.in_(_public_ids()))
        .order_by(Addressee.recommendation_id, Addressee.is_lead.desc(), Component.abbreviation)
    )
    out: dict[int, list[Any]] = {}
    for row in session.execute(stmt):
        out.setdefault(row.recommendation_id, []).append(row)
    return out


def _last_status_changes(session: Session) -> dict[int, date]:
    """rec id -> effective date of its latest status change (the timeline's order)."""
    stmt = (
        sa.select(RecommendationEvent.recommendation_id, sa.func.max(RecommendationEvent.effective_on))
        .where(
            RecommendationEvent.status_after.is_not(None),
            RecommendationEvent.recommendation_id.in_(_public_ids()),
        )
        .group_by(RecommendationEvent.recommendation_id)
    )
    return {row[0]: row[1] for row in session.execute(stmt)}


def public_rows(session: Session) -> Iterator[Row]:
    """Every public recommendation of a public report, newest report first, typed: dates,
    Decimals, booleans, lists and dicts (the JSON's values; `csv_cells` flattens them).
    Read in batches and given one at a time, so the rows never sit in memory together."""
    parts = _addressees(session)
    changes = _last_status_changes(session)
    stmt = _public_recommendations().execution_options(yield_per=BATCH)
    for r in session.execute(stmt):
        addressed = parts.pop(r.id, [])
        yield (
            {
                "report_number": r.report_number,
                "report_title": r.report_title,
                "report_date": report_date(r.issued_on, r.issued_precision),
                "report_date_precision": r.issued_precision.value if r.issued_on else None,
                "report_date_approximate": bool(r.issued_on_approximate),
                "report_url": r.report_url,
                "recommendation_number": r.number,
                "recommendation_text": r.text,
                "recommendation_text_source": r.text_source.value,
                "significant": r.significant,
                "questioned_costs": r.questioned_costs,
                "funds_for_better_use": r.funds_put_to_better_use,
                "status": r.status.label,
                "components": [a.abbreviation for a in addressed],
                "lead_component": next((a.abbreviation for a in addressed if a.is_lead), None),
                "concurrence": {a.abbreviation: a.concurrence.label for a in addressed},
                "priority": bool(r.priority),
                "target_dates": {a.abbreviation: a.target_date for a in addressed if a.target_date},
                "tracked_since": r.tracked_since,
                "resolved_on": r.resolved_on,
                "closed_on": r.closed_on,
                "last_status_change": changes.get(r.id),
            }
        )


def withheld_count(session: Session, published: int) -> int:
    """Recommendations in RecTrack that are not in the files (restricted, or of a
    restricted report)."""
    total = session.scalar(sa.select(sa.func.count()).select_from(Recommendation)) or 0
    return total - published


def _pairs(mapping: dict[str, Any]) -> str:
    return "; ".join(f"{key}: {cell_text(value)}" for key, value in mapping.items())


def csv_cell(value: Any) -> str:
    """A value as the CSV writes it: lists joined by "; ", mappings as "KEY: value; ...",
    the rest as the spreadsheet export writes its cells."""
    if isinstance(value, list):
        return "; ".join(cell_text(v) for v in value)
    if isinstance(value, dict):
        return _pairs(value)
    return cell_text(value)


def json_value(value: Any) -> Any:
    """A value as the JSON holds it: ISO dates, money as numbers, the rest as it is."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_value(v) for v in value]
    return value


def csv_cells(row: Row, names: Iterable[str]) -> list[str]:
    return [csv_cell(row.get(name)) for name in names]
