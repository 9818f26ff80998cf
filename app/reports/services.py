"""Rules for creating, changing and deleting reports. Services flush; views commit."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import wording
from app.issue_dates import IssueDate, check_not_later_than, normalized
from app.lifecycle.history import has_lifecycle_history
from app.locking import UNCHECKED, Expected, bump_version, check_version
from app.models import Component, IssuePrecision, Report, ReportType, Sensitivity
from app.service_errors import ServiceError


class ReportError(ServiceError):
    """A report rule was broken; `field` names the form field it belongs to."""


@dataclass
class ReportData:
    title: str
    issued_on: date | None  # None: not known (no source gives even the fiscal year)
    number: str | None = None
    issuing_office: str = "DHS OIG"
    issued_on_approximate: bool = False
    # how precisely issued_on is known; for a month or fiscal year issued_on is its last day
    issued_precision: IssuePrecision = IssuePrecision.DAY
    report_type: ReportType | None = None
    url: str | None = None
    summary: str = ""
    recommendations_published: int | None = None
    concurrence_summary: str = ""
    sensitivity: Sensitivity = Sensitivity.PUBLIC
    component_ids: list[int] = field(default_factory=list)
    sources: str = ""
    notes: str = ""

    @classmethod
    def of(cls, report: Report) -> ReportData:
        """The report's facts as they are now."""
        return cls(
            **{name: getattr(report, name) for name in REPORT_COLUMNS},
            component_ids=sorted(c.id for c in report.components),
        )


# The facts of ReportData kept in the Report columns of the same names (all but components).
REPORT_COLUMNS = tuple(f.name for f in fields(ReportData) if f.name != "component_ids")


def check_issue_date(issued: date | IssueDate, today: date) -> None:
    """A report cannot have been issued after today (the OIG's today, app.clock); a month
    or fiscal year is entered once it has ended (app/issue_dates.py)."""
    problem = check_not_later_than(issued if isinstance(issued, IssueDate) else IssueDate(issued), today)
    if problem:
        raise ReportError(problem, field="issued_on")


def _check(session: Session, data: ReportData, report: Report | None, today: date) -> list[Component]:
    if data.issued_on is not None:
        check_issue_date(normalized(data.issued_on, data.issued_precision), today)
    if data.number:
        clash = session.scalar(
            sa.select(Report.id).where(
                Report.number == data.number, Report.id != (report.id if report else -1)
            )
        )
        if clash is not None:
            raise ReportError(f"Report {data.number} is already in RecTrack.", field="number")
    if report is not None and data.recommendations_published is not None:
        entered = len(report.recommendations)
        if data.recommendations_published < entered:
            raise ReportError(
                f"{wording.count(entered, 'recommendation')} {wording.noun(entered, 'is', 'are')} "
                "already entered for this report; "
                "the published number cannot be smaller.",
                field="recommendations_published",
            )
    components = list(session.scalars(sa.select(Component).where(Component.id.in_(data.component_ids))).all())
    if len(components) != len(set(data.component_ids)):
        raise ReportError("Choose components from the list.", field="components")
    return components


def _apply(report: Report, data: ReportData, components: list[Component]) -> None:
    for name in REPORT_COLUMNS:
        setattr(report, name, getattr(data, name))
    report.number = data.number or None
    if data.issued_on is None:
        report.issued_on, report.issued_precision = None, IssuePrecision.DAY
    else:
        report.issued_on = normalized(data.issued_on, data.issued_precision).on
    report.components = sorted(components, key=lambda c: c.abbreviation)


def create_report(session: Session, data: ReportData, *, today: date, flush: bool = True) -> Report:
    """Log a new report (issued today at the latest). flush=False: the caller flushes
    (an import, in batches); the report is added only once its checks pass."""
    components = _check(session, data, None, today)
    report = Report()
    _apply(report, data, components)
    session.add(report)
    if flush:
        session.flush()
    return report


def update_report(
    session: Session, report: Report, data: ReportData, *, today: date, version: Expected = UNCHECKED
) -> None:
    """Change a report's facts, unless it changed since `version` (ConflictError).
    Restricting a report restricts its recommendations too."""
    check_version(report, version)
    components = _check(session, data, report, today)
    _apply(report, data, components)
    if report.sensitivity == Sensitivity.RESTRICTED:
        for rec in report.recommendations:
            rec.sensitivity = Sensitivity.RESTRICTED
    bump_version(report)
    session.flush()


def delete_report(session: Session, report: Report) -> None:
    """Delete a report entered by mistake, with its recommendations (the audit trail
    keeps every deleted row in full). Refused once any recommendation has a lifecycle."""
    if has_lifecycle_history(session, [r.id for r in report.recommendations]):
        raise ReportError(
            "A recommendation of this report has responses or decisions in its history, "
            "so the report was not entered by mistake and cannot be deleted.",
            status=409,
        )
    session.delete(report)
    session.flush()
