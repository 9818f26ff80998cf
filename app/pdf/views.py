"""PDF downloads: one click from the page each report summarizes. Each PDF sent is
recorded in the audit trail (a 304, the browser's own copy, sends nothing)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, make_response, request
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth import policy
from app.extensions import db
from app.filters import as_of_arg, filters_from_args
from app.models import Component
from app.pdf import services
from app.pdf.data import TooManyRecommendations
from app.pdf.engine import PdfError
from app.pdf.options import settings
from app.reports import queries as report_queries
from app.web import note_access

bp = Blueprint("pdf", __name__)


def _send(pdf_request: services.PdfRequest, conf: services.Settings) -> Response:
    """304 when the browser has this exact version; else the PDF, cached or fresh."""
    reader = current_user._get_current_object()
    etag = services.etag_for(db.session, reader, pdf_request)
    if etag in request.if_none_match:
        response = make_response("", 304)
    else:
        try:
            result = services.make_pdf(db.session, reader, pdf_request, conf, etag)
        except TooManyRecommendations as exc:
            abort(400, description=str(exc))
        except PdfError:
            current_app.logger.exception("PDF rendering failed")
            abort(500)
        response = make_response(result.pdf)
        response.headers["Content-Type"] = "application/pdf"
        response.headers["Content-Disposition"] = f'attachment; filename="{result.filename}"'
        _note_pdf(pdf_request, result.filename)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _note_pdf(pdf_request: services.PdfRequest, filename: str) -> None:
    subject = pdf_request.report or pdf_request.component
    details: dict[str, object] = {"kind": pdf_request.kind, "as_of": pdf_request.as_of, "file": filename}
    if pdf_request.filters is not None:
        details["filters"] = pdf_request.filters.in_use()
    note_access(
        "pdf",
        object_type=None if subject is None else subject.__tablename__,
        object_id=None if subject is None else subject.id,
        details=details,
    )


@bp.route("/reports/<int:report_id>/status.pdf")
def report_pdf(report_id: int) -> Response:
    """Report status: one OIG report and each of its recommendations."""
    report = db.first_or_404(report_queries.report_detail(report_id))
    policy.require(policy.can_view_report(current_user, report))
    conf = settings()
    as_of = as_of_arg(conf.today)
    return _send(services.PdfRequest("report", as_of, report=report), conf)


@bp.route("/components/<int:component_id>/status.pdf")
def component_pdf(component_id: int) -> Response:
    """Component status: every recommendation addressed to one component."""
    component = db.get_or_404(Component, component_id)
    conf = settings()
    as_of = as_of_arg(conf.today)
    return _send(services.PdfRequest("component", as_of, component=component), conf)


@bp.route("/recommendations/status.pdf")
def portfolio_pdf() -> Response:
    """Portfolio status: every recommendation matching the list's filters."""
    conf = settings()
    as_of = as_of_arg(conf.today)
    return _send(services.PdfRequest("portfolio", as_of, filters=filters_from_args()), conf)
