"""Lifecycle pages: every workflow step (one view serves the steps table), the work
queues, and document downloads."""

from __future__ import annotations

import dataclasses
import io
import logging
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request, send_file, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from app.auth import policy
from app.extensions import db
from app.lifecycle import deadlines, forms, queries, steps, workflow
from app.lifecycle.attachments import Upload
from app.lifecycle.clocks import Clock
from app.lifecycle.steps import Step, WorkflowError
from app.models import Addressee, Recommendation, Sensitivity
from app.storage import STORE_ERRORS, blob_store, digest
from app.web import note_access, save, today

bp = Blueprint("lifecycle", __name__)
log = logging.getLogger(__name__)

DOCUMENT_MISSING = "This document is missing; the administrators have been told."


def _load(rec_id: int) -> Recommendation:
    rec = db.first_or_404(queries.lifecycle_detail(rec_id))
    policy.require(policy.can_view_recommendation(current_user, rec))
    return rec


def _addressee(rec: Recommendation, addressee_id: int) -> Addressee:
    found = next((a for a in rec.addressees if a.id == addressee_id), None)
    if found is None:
        abort(404)
    return found


def _context(form: FlaskForm) -> workflow.Context:
    documents = getattr(form, "documents", None)
    files = [f for f in (documents.data or []) if getattr(f, "filename", "")] if documents else []
    return workflow.Context(
        user=current_user._get_current_object(),
        today=today(),
        storage=blob_store(current_app.config),
        max_attachment_bytes=current_app.config["ATTACHMENT_MAX_BYTES"],
        uploads=[Upload(f.filename, f.read()) for f in files],
        revised_response_days=current_app.config["REVISED_RESPONSE_DAYS"],
    )


def _target(
    rec_id: int, slug: str, addressee_id: int | None
) -> tuple[Step, Recommendation, Addressee | None]:
    """The step a URL names (the routes know only the table's slugs: another is a 404), on
    a recommendation the user may see (and on one of its components), if the user may take
    it now: otherwise 404, 403 or 409."""
    step = steps.by_slug(slug, on_addressee=addressee_id is not None)
    rec = _load(rec_id)
    addressee = _addressee(rec, addressee_id) if addressee_id is not None else None
    try:
        workflow.check(step, current_user, rec, addressee)
    except WorkflowError as exc:
        abort(exc.status, description=exc.message)
    return step, rec, addressee


def _no_change(step: Step) -> bool:
    """The step's short "no change since the last update" form is asked for."""
    return bool(step.no_change_form) and request.args.get("no_change") == "1"


def _open_form(step: Step, rec: Recommendation, addressee: Addressee | None) -> FlaskForm:
    """The step's form; on GET, loaded with the record's version (and what it prefills)."""
    form: FlaskForm = getattr(forms, step.no_change_form if _no_change(step) else step.form)()
    if request.method == "GET":
        if rec.sensitivity == Sensitivity.RESTRICTED:  # the form shows the recommendation in full
            note_access("read", object_type="recommendations", object_id=rec.id, details={"step": step.name})
        form.version.data = (addressee or rec).version
        for name, value in (step.prefill(addressee) if step.prefill and addressee else {}).items():
            form[name].data = value
    return form


def _step_data(step: Step, form: FlaskForm) -> Any:
    """The step's data from its form (the short form's marked no_change)."""
    data = steps.from_form(step.data, form.data)
    return dataclasses.replace(data, no_change=True) if _no_change(step) else data


ADDRESSEE_URL = "/recommendations/<int:rec_id>/components/<int:addressee_id>"
ON_PART = ",".join(f"{s.slug!r}" for s in steps.STEPS.values() if s.on_addressee)
ON_REC = ",".join(f"{s.slug!r}" for s in steps.STEPS.values() if not s.on_addressee)


@bp.route(f"/recommendations/<int:rec_id>/<any({ON_REC}):slug>", methods=["GET", "POST"])
@bp.route(f"{ADDRESSEE_URL}/<any({ON_PART}):slug>", methods=["GET", "POST"])
def step(rec_id: int, slug: str, addressee_id: int | None = None) -> Any:
    """Any workflow step (steps.STEPS): load, check who and when, validate, take, commit."""
    found, rec, addressee = _target(rec_id, slug, addressee_id)
    form = _open_form(found, rec, addressee)
    if form.validate_on_submit():
        anchor = f"addressee-{addressee.id}" if addressee else "decision"
        data = _step_data(found, form)
        saved = save(
            form,
            lambda: workflow.take(
                db.session, _context(form), found, rec, addressee, data, version=form.version.data
            ),
            success=found.done,
            redirect_to=url_for("recommendations.detail", rec_id=rec.id, _anchor=anchor),
        )
        if saved is not None:
            return saved
        rec = _load(rec_id)  # the rollback expired what the page shows
        addressee = _addressee(rec, addressee_id) if addressee_id is not None else None
    extra = {**found.shows(rec, addressee), "no_change": _no_change(found)}
    return render_template(found.templates, form=form, rec=rec, addressee=addressee, step=found, **extra)


@bp.route("/work")
def work() -> str:
    """My work: what this user's role owes or must decide, oldest first."""
    interval = current_app.config["UPDATE_INTERVAL_DAYS"]
    now = today()
    sections = []
    for queue in queries.queues_for(current_user, now, interval):
        total = db.session.scalar(queue.count) or 0
        items = db.session.scalars(queue.stmt.limit(queries.QUEUE_LIMIT)).unique().all()
        sections.append((queue, total, items))

    def clock_for(key: str, rec: Recommendation, item: Any) -> Clock | None:
        issued = rec.report.issued_on
        if key == "resolutions_overdue":
            return deadlines.recommendation_clocks(rec, issued, now).resolution
        clocks = deadlines.addressee_clocks(rec, item, issued, now, interval)
        return {"responses_due": clocks.response, "updates_due": clocks.update}.get(key)

    return render_template("lifecycle/work.html", sections=sections, clock_for=clock_for)


@bp.route("/attachments/<int:attachment_id>")
def download(attachment_id: int) -> Response | tuple[str, int]:
    """A supporting document, as a download, for those who may see it (recorded in the
    audit trail)."""
    attachment = db.first_or_404(queries.attachment_for_download(attachment_id))
    policy.require(policy.can_download_attachment(current_user, attachment))
    file = {"file": attachment.original_name, "sha256": attachment.sha256, "bytes": attachment.size_bytes}
    try:
        data = blob_store(current_app.config).get(db.session, attachment.sha256)
    except STORE_ERRORS as exc:
        data, problem = None, f"unreadable ({type(exc).__name__})"
    else:
        problem = "missing" if data is None else "corrupted"
    if data is None or digest(data) != attachment.sha256:
        return _document_missing(attachment.id, attachment.recommendation_id, problem, file)
    note_access("download", object_type="attachments", object_id=attachment.id, details=file)
    response = send_file(
        io.BytesIO(data),
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.original_name,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _document_missing(attachment_id: int, rec_id: int, problem: str, file: dict[str, Any]) -> tuple[str, int]:
    """A document whose stored bytes are gone or are not what was stored (their hash
    differs): an error in the log (ids, never the text), a failed download in the audit
    trail, and a page that says so (404: there is no document to give)."""
    log.error(
        "document %s of recommendation %s is %s: sha256 %s", attachment_id, rec_id, problem, file["sha256"]
    )
    note_access(
        "download",
        object_type="attachments",
        object_id=attachment_id,
        details={**file, "problem": problem},
        outcome="failure",
    )
    page = render_template(
        "errors/error.html", code=404, title="Document missing", message=DOCUMENT_MISSING, detail=None
    )
    return page, 404
