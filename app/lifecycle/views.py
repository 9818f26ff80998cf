"""Lifecycle pages: each step of the workflow, the work queues, and document downloads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from app.auth import policy
from app.extensions import db
from app.lifecycle import deadlines, forms, history, queries, workflow
from app.lifecycle.attachments import Storage, Upload
from app.lifecycle.clocks import Clock
from app.lifecycle.workflow import WorkflowError
from app.models import (
    Addressee,
    ClosureState,
    Concurrence,
    EventKind,
    Recommendation,
    RecommendationEvent,
    Sensitivity,
)
from app.web import note_access, save, today

bp = Blueprint("lifecycle", __name__)


def _load(rec_id: int) -> Recommendation:
    rec = db.first_or_404(queries.lifecycle_detail(rec_id))
    policy.require(policy.can_view_recommendation(current_user, rec))
    return rec


def _addressee(rec: Recommendation, addressee_id: int) -> Addressee:
    found = next((a for a in rec.addressees if a.id == addressee_id), None)
    if found is None:
        abort(404)
    return found


def _context(form: FlaskForm | None = None) -> workflow.Context:
    uploads: list[Upload] = []
    documents = getattr(form, "documents", None) if form is not None else None
    for storage in (documents.data or []) if documents is not None else []:
        if getattr(storage, "filename", ""):
            uploads.append(Upload(storage.filename, storage.read()))
    return workflow.Context(
        user=current_user._get_current_object(),
        today=today(),
        storage=Storage(Path(current_app.config["ATTACHMENT_DIR"])),
        max_attachment_bytes=current_app.config["ATTACHMENT_MAX_BYTES"],
        uploads=uploads,
        revised_response_days=current_app.config["REVISED_RESPONSE_DAYS"],
    )


def _step(
    step: str,
    rec_id: int,
    addressee_id: int | None,
    form_class: type[FlaskForm],
    run: Callable[[Recommendation, Addressee | None, Any], object],
    done: str,
) -> str | Response | tuple[str, int]:
    """One workflow step: load, check who and when, validate, apply, commit, flash."""
    rec = _load(rec_id)
    addressee = _addressee(rec, addressee_id) if addressee_id is not None else None
    try:
        workflow.check(step, current_user, rec, addressee)
    except WorkflowError as exc:
        abort(exc.status, description=exc.message)
    form = form_class()
    if request.method == "GET":
        if rec.sensitivity == Sensitivity.RESTRICTED:  # the form shows the recommendation in full
            note_access("read", object_type="recommendations", object_id=rec.id, details={"step": step})
        form.version.data = (addressee or rec).version
        if isinstance(form, forms.ResponseForm) and addressee is not None:
            _prefill_response(form, addressee)
    if form.validate_on_submit():
        anchor = f"addressee-{addressee.id}" if addressee else "decision"
        target = url_for("recommendations.detail", rec_id=rec.id, _anchor=anchor)
        saved = save(form, lambda: run(rec, addressee, form), success=done, redirect_to=target)
        if saved is not None:
            return saved
        rec = _load(rec_id)  # the rollback expired what the page shows
        addressee = _addressee(rec, addressee_id) if addressee_id is not None else None
    return render_template(
        "lifecycle/step.html",
        form=form,
        rec=rec,
        addressee=addressee,
        rule=workflow.TRANSITIONS[step],
        **_closure_context(step, rec, addressee),
    )


@dataclass(frozen=True)
class ClosureRequest:
    """A component's pending closure request, as the OIG decides on it: the latest
    request (its justification and evidence), and the evidence sent with earlier ones."""

    addressee: Addressee
    latest: RecommendationEvent | None
    earlier: list[RecommendationEvent]


def _closure_context(step: str, rec: Recommendation, addressee: Addressee | None) -> dict[str, Any]:
    """What a closure decision is made on, shown on its form: the pending requests and
    their evidence (to close or return one), or the OIG's reason for returning the last
    request (to ask again)."""
    if (
        step == "request_closure"
        and addressee is not None
        and addressee.closure_state == ClosureState.RETURNED
    ):
        returned = history.events_of(rec, addressee.id, EventKind.CLOSURE_RETURNED)
        return {"closure_returned": returned[0] if returned else None}
    if step in ("close", "return_closure"):
        parts = [addressee] if addressee is not None else rec.addressees
        requests = []
        for part in parts:
            if part.closure_state == ClosureState.REQUESTED:
                events = history.events_of(rec, part.id, EventKind.CLOSURE_REQUESTED)
                requests.append(ClosureRequest(part, events[0] if events else None, events[1:]))
        return {"closure_requests": requests}
    return {}


def _prefill_response(form: forms.ResponseForm, addressee: Addressee) -> None:
    """A revision starts from what was submitted before."""
    if addressee.concurrence != Concurrence.PENDING:
        form.concurrence.data = addressee.concurrence.value
    form.response.data = addressee.response
    form.corrective_action_plan.data = addressee.corrective_action_plan
    form.target_date.data = addressee.target_date
    form.responsible_official.data = addressee.responsible_official


ADDRESSEE_URL = "/recommendations/<int:rec_id>/components/<int:addressee_id>"


@bp.route(f"{ADDRESSEE_URL}/respond", methods=["GET", "POST"])
def respond(rec_id: int, addressee_id: int) -> Any:
    """A liaison submits or revises their component's response."""

    def run(rec: Recommendation, addressee: Addressee | None, form: forms.ResponseForm) -> object:
        data = workflow.ResponseData(
            concurrence=Concurrence(form.concurrence.data),
            response=form.response.data or "",
            corrective_action_plan=form.corrective_action_plan.data or "",
            target_date=form.target_date.data,
            responsible_official=form.responsible_official.data or "",
        )
        assert addressee is not None
        return workflow.submit_response(
            db.session, _context(form), rec, addressee, data, version=form.version.data
        )

    return _step(
        "submit_response",
        rec_id,
        addressee_id,
        forms.ResponseForm,
        run,
        "The response was submitted. The OIG will evaluate it.",
    )


@bp.route(f"{ADDRESSEE_URL}/accept", methods=["GET", "POST"])
def accept_response(rec_id: int, addressee_id: int) -> Any:
    """OIG staff accept one component's response."""

    def run(rec: Recommendation, addressee: Addressee | None, form: forms.NoteForm) -> object:
        assert addressee is not None
        return workflow.accept_response(
            db.session, _context(), rec, addressee, form.note.data or "", version=form.version.data
        )

    return _step("accept_response", rec_id, addressee_id, forms.NoteForm, run, "The response was accepted.")


@bp.route(f"{ADDRESSEE_URL}/return", methods=["GET", "POST"])
def return_response(rec_id: int, addressee_id: int) -> Any:
    """OIG staff keep the recommendation unresolved and return a response with a reason."""

    def run(rec: Recommendation, addressee: Addressee | None, form: forms.ReasonForm) -> object:
        assert addressee is not None
        return workflow.return_response(
            db.session, _context(), rec, addressee, form.reason.data or "", version=form.version.data
        )

    return _step(
        "return_response",
        rec_id,
        addressee_id,
        forms.ReasonForm,
        run,
        "The response was returned with your reason.",
    )


@bp.route(f"{ADDRESSEE_URL}/update", methods=["GET", "POST"])
def post_update(rec_id: int, addressee_id: int) -> Any:
    """A liaison posts a progress update, perhaps moving the target date."""

    def run(rec: Recommendation, addressee: Addressee | None, form: forms.UpdateForm) -> object:
        data = workflow.UpdateData(
            text=form.text.data or "",
            new_target_date=form.new_target_date.data,
            target_change_reason=form.target_change_reason.data or "",
        )
        assert addressee is not None
        return workflow.post_update(
            db.session, _context(form), rec, addressee, data, version=form.version.data
        )

    return _step(
        "post_update", rec_id, addressee_id, forms.UpdateForm, run, "The progress update was posted."
    )


@bp.route(f"{ADDRESSEE_URL}/request-closure", methods=["GET", "POST"])
def request_closure(rec_id: int, addressee_id: int) -> Any:
    """A liaison asks the OIG to close, with a justification and evidence."""

    def run(rec: Recommendation, addressee: Addressee | None, form: forms.ClosureRequestForm) -> object:
        assert addressee is not None
        return workflow.request_closure(
            db.session,
            _context(form),
            rec,
            addressee,
            form.justification.data or "",
            version=form.version.data,
        )

    return _step(
        "request_closure",
        rec_id,
        addressee_id,
        forms.ClosureRequestForm,
        run,
        "Closure was requested. The OIG will decide.",
    )


@bp.route(f"{ADDRESSEE_URL}/return-closure", methods=["GET", "POST"])
def return_closure(rec_id: int, addressee_id: int) -> Any:
    """OIG staff return a closure request with a reason."""

    def run(rec: Recommendation, addressee: Addressee | None, form: forms.ReasonForm) -> object:
        assert addressee is not None
        return workflow.return_closure(
            db.session, _context(), rec, addressee, form.reason.data or "", version=form.version.data
        )

    return _step(
        "return_closure",
        rec_id,
        addressee_id,
        forms.ReasonForm,
        run,
        "The closure request was returned with your reason.",
    )


@bp.route("/recommendations/<int:rec_id>/resolve", methods=["GET", "POST"])
def resolve(rec_id: int) -> Any:
    """OIG staff mark the recommendation Open–Resolved."""

    def run(rec: Recommendation, _a: Addressee | None, form: forms.NoteForm) -> object:
        return workflow.resolve(db.session, _context(), rec, form.note.data or "", version=form.version.data)

    return _step("resolve", rec_id, None, forms.NoteForm, run, "The recommendation is now Open–Resolved.")


@bp.route("/recommendations/<int:rec_id>/close", methods=["GET", "POST"])
def close(rec_id: int) -> Any:
    """OIG staff close the recommendation as a whole."""

    def run(rec: Recommendation, _a: Addressee | None, form: forms.CloseForm) -> object:
        return workflow.close(
            db.session,
            _context(),
            rec,
            implemented=form.outcome.data == "implemented",
            note=form.note.data or "",
            version=form.version.data,
        )

    return _step("close", rec_id, None, forms.CloseForm, run, "The recommendation was closed.")


@bp.route("/recommendations/<int:rec_id>/reopen", methods=["GET", "POST"])
def reopen(rec_id: int) -> Any:
    """OIG staff reopen a closed recommendation (back to Open–Unresolved)."""

    def run(rec: Recommendation, _a: Addressee | None, form: forms.ReasonForm) -> object:
        return workflow.reopen(db.session, _context(), rec, form.reason.data or "", version=form.version.data)

    return _step("reopen", rec_id, None, forms.ReasonForm, run, "The recommendation was reopened.")


@bp.route("/work")
def work() -> str:
    """My work: what this user's role owes or must decide, oldest first."""
    interval = current_app.config["UPDATE_INTERVAL_DAYS"]
    now = today()
    sections = []
    for queue in queries.queues_for(current_user, now, interval):
        total = db.session.scalar(queries.count_of(queue.stmt)) or 0
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
def download(attachment_id: int) -> Response:
    """A supporting document, as a download, for those who may see it (recorded in the
    audit trail)."""
    attachment = db.first_or_404(queries.attachment_for_download(attachment_id))
    policy.require(policy.can_download_attachment(current_user, attachment))
    path = Storage(Path(current_app.config["ATTACHMENT_DIR"])).path(attachment.sha256)
    if not path.is_file():
        abort(404)
    note_access(
        "download",
        object_type="attachments",
        object_id=attachment.id,
        details={
            "file": attachment.original_name,
            "sha256": attachment.sha256,
            "bytes": attachment.size_bytes,
        },
    )
    response = send_file(
        path,
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.original_name,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
