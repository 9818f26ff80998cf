"""Streaming exports of a filtered recommendation list, with the pages' visibility rules.

Rows are read in batches and written as they come, so 100,000 rows never sit in memory
at once: CSV and XLSX are both streamed straight to the response (the XLSX zip is written
as the rows come, app.exports.xlsx)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from app.auth import policy
from app.exports import xlsx
from app.exports.columns import FORMULA_PREFIXES, KEYS, PLACEHOLDER
from app.filters import RecFilters
from app.issue_dates import IssueDate
from app.lifecycle.periods import AsOf
from app.models import Addressee, Component, IssuePrecision, Recommendation, Report, report_components
from app.recommendations.queries import recommendation_list
from app.text import NOT_KNOWN

BATCH = 2000


def _report_components(session: Session, report_ids: sa.Select[Any]) -> dict[int, str]:
    out: dict[int, list[str]] = {}
    stmt = (
        sa.select(report_components.c.report_id, Component.abbreviation)
        .join(Component, Component.id == report_components.c.component_id)
        .where(report_components.c.report_id.in_(report_ids))
        .order_by(report_components.c.report_id, Component.abbreviation)
    )
    for report_id, abbreviation in session.execute(stmt):
        out.setdefault(report_id, []).append(abbreviation)
    return {k: "; ".join(v) for k, v in out.items()}


REPORT_COLUMNS = (
    Report.id.label("report_id"),
    Report.number.label("report_number"),
    Report.title.label("report_title"),
    Report.issuing_office.label("report_issuing_office"),
    Report.issued_on.label("report_issued_on"),
    Report.issued_on_approximate.label("report_issued_on_approximate"),
    Report.issued_precision.label("report_issued_precision"),
    Report.report_type.label("report_type"),
    Report.sensitivity.label("report_sensitivity"),
    Report.url.label("report_url"),
    Report.recommendations_published.label("report_recommendations_published"),
)


def _issue_date(on: date | None, precision: IssuePrecision) -> date | str:
    """A date known to the day as a date; a month or fiscal year as its text (2024-09,
    FY2024); an unknown one as "not known" (what the import reads back)."""
    if on is None:
        return NOT_KNOWN
    if precision == IssuePrecision.DAY:
        return on
    return IssueDate(on, precision).text


def _rec_number(number: int | None) -> int | str:
    """The number, or "not known" (what the import reads back)."""
    return NOT_KNOWN if number is None else number


def _report_values(row: Any, components: dict[int, str]) -> dict[str, Any]:
    return {
        "report_number": row.report_number,
        "report_title": row.report_title,
        "report_issuing_office": row.report_issuing_office,
        "report_issued_on": _issue_date(row.report_issued_on, row.report_issued_precision),
        "report_issued_on_approximate": row.report_issued_on_approximate,
        "report_type": row.report_type.value if row.report_type else None,
        "report_sensitivity": row.report_sensitivity.value,
        "report_url": row.report_url,
        "report_recommendations_published": row.report_recommendations_published,
        "report_components": components.get(row.report_id, ""),
    }


def _repeat_links(session: Session, user: Any, rec_ids: sa.Select[Any]) -> dict[int, tuple[str, int | None]]:
    """rec id -> (earlier report's number or title, earlier recommendation's number), for
    links to a recommendation of a report the user may open (an other is left blank)."""
    earlier, earlier_report = aliased(Recommendation), aliased(Report)
    stmt = (
        sa.select(
            Recommendation.id,
            sa.func.coalesce(earlier_report.number, earlier_report.title),
            earlier.number,
        )
        .join(earlier, earlier.id == Recommendation.repeats_id)
        .join(earlier_report, earlier_report.id == earlier.report_id)
        .where(
            Recommendation.id.in_(rec_ids),
            earlier.report_id.in_(sa.select(Report.id).where(policy.report_visibility(user))),
        )
    )
    return {rec_id: (report, number) for rec_id, report, number in session.execute(stmt)}


REC_STATE = ("status", "resolved_on", "closed_on")
ADDRESSEE_STATE = (
    "concurrence",
    "response",
    "response_date",
    "response_state",
    "corrective_action_plan",
    "target_date",
    "responsible_official",
    "last_update_on",
    "closure_state",
)


def _state_columns(at: AsOf | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The columns of what changes over time: today's, or those of the state periods
    covering the day (AsOf.join and a join of AsOf.addressees on the addressee)."""
    if at is None:
        return (
            {n: getattr(Recommendation, n) for n in REC_STATE},
            {n: getattr(Addressee, n) for n in ADDRESSEE_STATE},
        )
    return (
        {n: at.recommendations.c[n].label(n) for n in REC_STATE},
        {n: at.addressees.c[n].label(n) for n in ADDRESSEE_STATE},
    )


def export_rows(
    session: Session, user: Any, filters: RecFilters, today: date, interval_days: int
) -> Iterator[dict[str, Any]]:
    """Every row of the export, typed (dates, Decimals, booleans), in batches."""
    recs = recommendation_list(user, filters, today, interval_days)
    rec_ids = recs.with_only_columns(Recommendation.id).order_by(None)
    visible = sa.case((policy.recommendation_visibility(user), sa.true()), else_=sa.false()).label("visible")
    at = AsOf(filters.as_of) if filters.as_of is not None else None
    rec_state, part_state = _state_columns(at)
    stmt = (
        sa.select(
            *REPORT_COLUMNS,
            Recommendation.id.label("rec_id"),
            Recommendation.number.label("rec_number"),
            Recommendation.text.label("rec_text"),
            Recommendation.text_source,
            Recommendation.source_url,
            Recommendation.tracked_since,
            Recommendation.significant,
            Recommendation.questioned_costs,
            Recommendation.funds_put_to_better_use,
            Recommendation.sensitivity.label("rec_sensitivity"),
            Recommendation.priority,
            Recommendation.priority_reason,
            *rec_state.values(),
            visible,
            Component.abbreviation.label("component"),
            Addressee.is_lead,
            *part_state.values(),
        )
        .select_from(Recommendation)
        .join(Report, Report.id == Recommendation.report_id)
        .join(Addressee, Addressee.recommendation_id == Recommendation.id)
        .join(Component, Component.id == Addressee.component_id)
        .where(Recommendation.id.in_(rec_ids))
        .order_by(
            Report.issued_on.desc().nulls_last(),
            Report.id.desc(),
            Recommendation.number.nulls_last(),
            Addressee.is_lead.desc(),
            Component.abbreviation,
        )
        .execution_options(yield_per=BATCH)
    )
    if at is not None:
        stmt = at.join(stmt).join(at.addressees, at.addressees.c.id == Addressee.id)
    report_ids = recs.with_only_columns(Recommendation.report_id).order_by(None)
    components = _report_components(session, report_ids)
    links = _repeat_links(session, user, rec_ids)
    placeholder_done: set[int] = set()
    for row in session.execute(stmt):
        base = _report_values(row, components)
        if not row.visible:
            if row.rec_id in placeholder_done:
                continue
            placeholder_done.add(row.rec_id)
            yield {
                **base,
                "rec_number": _rec_number(row.rec_number),
                "rec_text": PLACEHOLDER,
                "rec_sensitivity": row.rec_sensitivity.value,
                "status": row.status.label,
            }
            continue
        yield {
            **base,
            "rec_number": _rec_number(row.rec_number),
            "rec_text": row.rec_text,
            "rec_text_source": row.text_source.value,
            "rec_source_url": row.source_url,
            "rec_significant": row.significant,
            "rec_questioned_costs": row.questioned_costs,
            "rec_funds_put_to_better_use": row.funds_put_to_better_use,
            "rec_sensitivity": row.rec_sensitivity.value,
            "priority": row.priority,
            "priority_reason": row.priority_reason,
            "repeats_report": links.get(row.rec_id, (None, None))[0],
            "repeats_number": links.get(row.rec_id, (None, None))[1],
            "component": row.component,
            "lead": row.is_lead,
            "concurrence": row.concurrence.label,
            "response": row.response,
            "response_date": row.response_date,
            "status": row.status.label,
            "resolved_on": row.resolved_on,
            "closed_on": row.closed_on,
            "response_state": row.response_state.label,
            "corrective_action_plan": row.corrective_action_plan,
            "target_date": row.target_date,
            "responsible_official": row.responsible_official,
            "last_update_on": row.last_update_on,
            "closure_state": row.closure_state.label,
            "rec_tracked_since": row.tracked_since,
        }
    if not filters.narrows_recommendations():
        # Reports with nothing entered yet, so an export holds every report in scope.
        empty = (
            sa.select(*REPORT_COLUMNS)
            .where(policy.report_visibility(user), ~Report.recommendations.any())
            .order_by(Report.issued_on.desc().nulls_last(), Report.id.desc())
        )
        if filters.report_id:
            empty = empty.where(Report.id == filters.report_id)
        if filters.year:
            empty = empty.where(
                Report.issued_on.between(date(filters.year, 1, 1), date(filters.year, 12, 31))
            )
        extra = _report_components(session, empty.with_only_columns(Report.id).order_by(None))
        for row in session.execute(empty):
            yield _report_values(row, extra)


def cell_text(value: Any) -> str:
    """A value as spreadsheet text; text that a spreadsheet would run as a formula gets a
    leading apostrophe (import removes it again)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_chunks(rows: Iterator[dict[str, Any]], every: int = 500) -> Iterator[str]:
    """CSV text in chunks: a header, then rows as they come."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")  # so Excel reads UTF-8
    writer.writerow(KEYS)
    for n, row in enumerate(rows, 1):
        writer.writerow([cell_text(row.get(key)) for key in KEYS])
        if n % every == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def xlsx_chunks(
    rows: Iterable[dict[str, Any]], notes: list[tuple[str, str]] | None = None
) -> Iterator[bytes]:
    """An XLSX workbook in chunks, written as the rows come (app.exports.xlsx): the sheet
    "Recommendations" with the column keys in bold, then the rows. `notes` adds a second
    sheet, "Columns", explaining each column."""
    sheets = [xlsx.Sheet("Recommendations", KEYS, ([row.get(key) for key in KEYS] for row in rows))]
    if notes:
        sheets.append(xlsx.Sheet("Columns", ("column", "what to write"), notes, widths=(32, 100)))
    return xlsx.workbook_chunks(sheets)
