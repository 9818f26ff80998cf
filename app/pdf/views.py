"""PDF downloads: one click from the page each report summarizes. Each PDF sent is
recorded in the audit trail (a 304, the browser's own copy, sends nothing)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, make_response, request
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth import policy
from app.database import WRITING_GETS
from app.extensions import db
from app.filters import as_of_arg, filters_from_args
from app.jobs import downloads
from app.models import Component
from app.pdf import engine, services
from app.pdf import jobs as pdf_jobs
from app.pdf.data import TooManyRecommendations
from app.pdf.options import settings
from app.reports import queries as report_queries
from app.web import commit, note_access

bp = Blueprint("pdf", __name__)
WRITING_GETS.update({"pdf.report_pdf", "pdf.component_pdf", "pdf.portfolio_pdf"})  # they may ask for a job


def _send(pdf_request: services.PdfRequest, conf: services.Settings) -> Response:
    """304 when the browser has this exact version; the PDF when it is made already (here,
    or by a job on any server); else a job that makes it, and its page (303). An anonymous
    visitor of the portal has no "My downloads" to follow a job on: the report PDF (the
    only one the portal offers, a few pages) is made in the request and cached."""
    reader = current_user._get_current_object()
    etag = services.etag_for(db.session, reader, pdf_request)
    response: Response
    if etag in request.if_none_match:
        response = make_response("", 304)
    elif (ready := _ready(etag, conf)) is not None:
        response = _pdf_response(ready, pdf_request)
    elif not reader.is_authenticated:
        response = _pdf_response(_made_now(reader, pdf_request, conf, etag), pdf_request)
    else:
        params = {**pdf_jobs.params_for(pdf_request), "audit": _audit(pdf_request)}
        title = pdf_jobs.title_for(pdf_request)
        job = downloads.ask(db.session, reader, kind=pdf_jobs.KIND, title=title, params=params, key=etag)
        commit()
        response = downloads.answer(job)
        if response.status_code == 303:  # a worker makes it: its page shows the progress
            return response
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _ready(etag: str, conf: services.Settings) -> bytes | None:
    """The PDF for this key, if made already (by any server's job: a job keeps its PDF in
    the shared cache as it finishes)."""
    return conf.cache.get(etag) if conf.cache is not None else None


def _made_now(reader: Any, pdf_request: services.PdfRequest, conf: services.Settings, etag: str) -> bytes:
    """The PDF made in this request, kept in the shared cache for the next visitor."""
    try:
        result = services.make_pdf(db.session, reader, pdf_request, conf, etag)
    except (TooManyRecommendations, engine.PdfError):
        abort(503, description="The PDF could not be made just now. Try again in a minute.")
    commit()  # the cache entry
    return result.pdf


def _pdf_response(pdf: bytes, pdf_request: services.PdfRequest) -> Response:
    response: Response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{pdf_request.filename}"'
    audit = _audit(pdf_request)
    note_access(
        "pdf", object_type=audit["object_type"], object_id=audit["object_id"], details=audit["details"]
    )
    return response


def _audit(pdf_request: services.PdfRequest) -> dict[str, Any]:
    """The access event a download of this PDF leaves (now, or from a job later)."""
    subject = pdf_request.report or pdf_request.component
    details: dict[str, object] = {
        "kind": pdf_request.kind,
        "as_of": pdf_request.as_of.isoformat(),
        "file": pdf_request.filename,
    }
    if pdf_request.filters is not None:
        details["filters"] = pdf_request.filters.to_json()
    return {
        "action": "pdf",
        "object_type": None if subject is None else subject.__tablename__,
        "object_id": None if subject is None else subject.id,
        "details": details,
    }


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
