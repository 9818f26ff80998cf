"""Status PDFs as background jobs: what a job holds (plain parameters), and the runner a
worker calls. The runner loads the subject again and checks the reader's access again,
as the user is when the job runs, not when it was asked for."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from app.auth import policy
from app.filters import RecFilters
from app.jobs import registry
from app.models import Component, Report
from app.pdf import engine, services
from app.pdf.data import TooManyRecommendations
from app.pdf.options import settings
from app.reports import queries as report_queries

KIND = "pdf"


def params_for(request: services.PdfRequest) -> dict[str, Any]:
    """The request as a job's parameters (JSON)."""
    return {
        "kind": request.kind,
        "as_of": request.as_of.isoformat(),
        "report_id": request.report.id if request.report else None,
        "component_id": request.component.id if request.component else None,
        "filters": request.filters.to_json() if request.filters is not None else None,
    }


def title_for(request: services.PdfRequest) -> str:
    """What the user asked for, in words (the job's title, on "My downloads")."""
    day = f"{request.as_of:%B} {request.as_of.day}, {request.as_of.year}"
    if request.report is not None:
        return f"Status PDF of {request.report.display_number}, as of {day}"
    if request.component is not None:
        return f"Status PDF of {request.component.abbreviation}, as of {day}"
    return f"Portfolio status PDF, as of {day}"


def request_from(session: Session, user: Any, params: dict[str, Any]) -> services.PdfRequest:
    """The request a job's parameters describe, if the user may still have it."""
    report = component = None
    if params.get("report_id") is not None:
        report = session.scalar(report_queries.report_detail(params["report_id"]))
        if report is None or not policy.can_view_report(user, report):
            raise registry.JobRefused("You can no longer see this report, so its PDF was not made.")
    if params.get("component_id") is not None:
        component = session.get(Component, params["component_id"])
        if component is None:
            raise registry.JobRefused("This component no longer exists, so its PDF was not made.")
    filters = RecFilters.from_json(params["filters"]) if params.get("filters") is not None else None
    return services.PdfRequest(
        params["kind"],
        date.fromisoformat(params["as_of"]),
        report=report if isinstance(report, Report) else None,
        component=component,
        filters=filters,
    )


def run(session: Session, user: Any, params: dict[str, Any], progress: registry.Progress) -> registry.Output:
    """Make the PDF (or take it from the cache) as `user` may see it now."""
    conf = settings()
    pdf_request = request_from(session, user, params)
    etag = services.etag_for(session, user, pdf_request)
    if conf.cache is not None and (cached := conf.cache.get(etag)) is not None:
        return registry.Output(cached, pdf_request.filename, "application/pdf")
    try:
        html = services.build_html(session, user, pdf_request, conf, progress)
    except TooManyRecommendations as exc:
        raise registry.JobRefused(str(exc)) from None
    progress("Rendering the PDF", None, None)
    try:
        result = engine.render(html, conf.static_root, conf.timeout_seconds)
    except engine.PdfError as exc:
        raise registry.JobRefused(f"The PDF could not be made: {exc}") from None
    cache = conf.cache
    keep = (lambda: cache.put(etag, result.pdf)) if cache is not None else None
    return registry.Output(result.pdf, pdf_request.filename, "application/pdf", then=keep)


registry.register(KIND, run)
