"""Making the three status reports: gather the data, fill the template, render, cache."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import render_template
from sqlalchemy.orm import Session

from app import charts
from app.auth import policy
from app.cache import data_version, reader_scope
from app.database import utcnow
from app.filters import AGE_FILTERS, STATUS_FILTERS, RecFilters, past_day
from app.lifecycle.deadlines import CLOCK_FILTERS
from app.models import Component, RecStatus, Report
from app.pdf import data, engine
from app.pdf.cache import PdfCache, cache_key


@dataclass(frozen=True)
class PdfRequest:
    kind: str  # "report", "component" or "portfolio"
    as_of: date
    report: Report | None = None
    component: Component | None = None
    filters: RecFilters | None = None

    def key_parts(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "as_of": self.as_of.isoformat(),
            "report": self.report.id if self.report else None,
            "component": self.component.id if self.component else None,
            "filters": asdict(self.filters) if self.filters else None,
        }

    @property
    def filename(self) -> str:
        subject = {
            "report": (self.report.number or f"report-{self.report.id}") if self.report else "",
            "component": self.component.abbreviation.replace("&", "and") if self.component else "",
            "portfolio": "portfolio",
        }[self.kind]
        return f"rectrack-{subject}-status-{self.as_of.isoformat()}.pdf"


@dataclass(frozen=True)
class Settings:
    today: date
    update_interval_days: int
    max_recommendations: int
    static_root: Path
    timeout_seconds: float
    cache: PdfCache | None = None


@dataclass(frozen=True)
class PdfResult:
    pdf: bytes
    etag: str
    filename: str
    from_cache: bool


# Which rules decided what a PDF holds. Raise it when a release changes which items or
# text a PDF shows for the same request, reader and data: a PDF cached, or an ETag given
# out, by an earlier release is then never served again. 2: the component PDF leaves out
# what the component page leaves out.
CONTENT_RULES = 2


def etag_for(session: Session, reader: Any, request: PdfRequest) -> str:
    """The cache key: the request, what the reader may see, the data version and the
    content rules."""
    return cache_key(
        {
            **request.key_parts(),
            "scope": reader_scope(reader),
            "data": data_version(session),
            "rules": CONTENT_RULES,
        }
    )


def describe_filters(session: Session, reader: Any, filters: RecFilters) -> str:
    """The filters in words, naming only a report the reader may open."""
    parts = []
    if filters.status:
        parts.append(f"status {STATUS_FILTERS[filters.status]}")
    if filters.component_id:
        component = session.get(Component, filters.component_id)
        parts.append(f"component {component.abbreviation if component else filters.component_id}")
    if filters.report_id:
        report = session.scalar(
            sa.select(Report).where(Report.id == filters.report_id, policy.report_visibility(reader))
        )
        parts.append(f"report {report.display_number}" if report else "a report not available to this reader")
    if filters.year:
        parts.append(f"issued in {filters.year}")
    if filters.significant is not None:
        parts.append("significant only" if filters.significant else "not significant")
    if filters.clock:
        parts.append(CLOCK_FILTERS[filters.clock].lower())
    if filters.age:
        parts.append(f"open, {AGE_FILTERS[filters.age].lower()} since issuance")
    if filters.closed_from or filters.closed_to:
        since = f" from {filters.closed_from.isoformat()}" if filters.closed_from else ""
        until = f" to {filters.closed_to.isoformat()}" if filters.closed_to else ""
        parts.append(f"closed{since}{until}")
    if filters.money:
        parts.append("with questioned costs or funds put to better use")
    if filters.before_tracking:
        parts.append("with history from before RecTrack")
    if filters.priority:
        parts.append("priority recommendations only")
    if filters.q:
        parts.append(f"text contains “{filters.q}”")
    return "; ".join(parts) or "none (every recommendation the reader may see)"


def _charts(summary: data.Summary) -> list[dict[str, str]]:
    statuses = list(RecStatus)
    status_svg = charts.bar_chart(
        [s.label for s in statuses], [summary.by_status.get(s, 0) for s in statuses], series="Recommendations"
    )
    top = summary.by_component[:12]
    component_svg = charts.bar_chart([c[0] for c in top], [c[1] for c in top], series="Open")
    ages = [(b.label, n) for b, n in summary.age_buckets.items()]
    if summary.age_not_known:
        ages.append(("Issue date not known", summary.age_not_known))
    age_svg = charts.bar_chart(
        [label for label, _ in ages], [n for _, n in ages], series="Open", horizontal=False
    )
    return [
        {
            "title": "Recommendations by status",
            "uri": charts.data_uri(status_svg),
            "alt": "; ".join(f"{s.label}: {summary.by_status.get(s, 0)}" for s in statuses),
        },
        {
            "title": "Open recommendations by component",
            "uri": charts.data_uri(component_svg),
            "alt": "; ".join(f"{c[0]}: {c[1]} open" for c in top) or "No open recommendations",
        },
        {
            "title": "Open recommendations by age",
            "uri": charts.data_uri(age_svg),
            "alt": "; ".join(f"{label}: {n}" for label, n in ages),
        },
    ]


def _status_page(
    template: str, status: data.ReportStatus | data.ComponentStatus, subject: str, common: dict[str, Any]
) -> str:
    """A report's or a component's status PDF, titled by its subject."""
    title = f"{subject}: recommendation status"
    return render_template(template, data=status, doc_title=title, hidden=status.summary.hidden, **common)


def _no_progress(stage: str, done: int | None, total: int | None) -> None:
    """Progress goes nowhere (a request, the CLI)."""


def build_html(
    session: Session, reader: Any, request: PdfRequest, settings: Settings, progress: Any = _no_progress
) -> str:
    """The report as HTML for WeasyPrint (raises data.TooManyRecommendations). `progress`
    hears the stages, with the number of recommendations once known (a background job)."""
    progress("Reading the recommendations", None, None)
    interval, as_of = settings.update_interval_days, request.as_of
    common: dict[str, Any] = {
        "as_of": as_of,
        "historical": as_of < settings.today,
        "generated_at": utcnow(),
        "audience": reader.role.label if reader.role is not None else "Public",
    }
    if request.kind == "report":
        assert request.report is not None
        status = data.report_status(session, reader, request.report, as_of, interval)
        _laying_out(progress, len(status.lines))
        return _status_page("pdf/report.html", status, request.report.display_number, common)
    if request.kind == "component":
        assert request.component is not None
        parts = data.component_status(session, reader, request.component, as_of, interval)
        _laying_out(progress, sum(len(lines) for _report, lines in parts.groups))
        subject = f"{request.component.abbreviation} ({request.component.name})"
        return _status_page("pdf/component.html", parts, subject, common)
    # the list's filters on the state of the PDF's day (as the list as of that day)
    filters = replace(request.filters or RecFilters(), as_of=past_day(as_of, settings.today))
    folio = data.portfolio(session, reader, filters, as_of, interval, settings.max_recommendations)
    _laying_out(progress, folio.summary.total)
    return render_template(
        "pdf/portfolio.html",
        data=folio,
        doc_title="Portfolio status of OIG recommendations",
        hidden=folio.summary.hidden,
        filter_text=describe_filters(session, reader, filters),
        charts=_charts(folio.summary),
        **common,
    )


def _laying_out(progress: Any, count: int) -> None:
    progress(f"Laying out {count:,} recommendation{'s' if count != 1 else ''}", 0, count)


def make_pdf(
    session: Session, reader: Any, request: PdfRequest, settings: Settings, etag: str | None = None
) -> PdfResult:
    """The PDF for a request: from the cache when nothing changed, else rendered.
    `etag` is etag_for(...) when the caller has it already."""
    etag = etag or etag_for(session, reader, request)
    if settings.cache is not None and (cached := settings.cache.get(etag)) is not None:
        return PdfResult(cached, etag, request.filename, from_cache=True)
    html = build_html(session, reader, request, settings)
    result = engine.render(html, settings.static_root, settings.timeout_seconds)
    if settings.cache is not None:
        settings.cache.put(etag, result.pdf)
    return PdfResult(result.pdf, etag, request.filename, from_cache=False)
