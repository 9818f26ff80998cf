"""Taking a lifecycle step through the API: the same checks, step objects and
`workflow.take` as the step's page (app/lifecycle/views.py), with the version sent."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_smorest import abort

from app.api import render, support
from app.extensions import db
from app.lifecycle import workflow
from app.lifecycle.steps import Step, WorkflowError
from app.models import Addressee, Recommendation
from app.storage import blob_store
from app.web import today


def target(step: Step, rec_id: int, addressee_id: int | None) -> tuple[Recommendation, Addressee | None]:
    """The recommendation (and component's part) a step URL names, if the caller may see
    it and take the step now: otherwise 404, 403 or 409, as on the page."""
    rec = support.load_rec(rec_id)
    addressee = None
    if step.on_addressee:
        addressee = next((a for a in rec.addressees if a.id == addressee_id), None)
        if addressee is None:
            abort(404, message="That component is not addressed by this recommendation.")
    try:
        workflow.check(step, support.user(), rec, addressee)
    except WorkflowError as exc:
        abort(exc.status, message=exc.message)
    return rec, addressee


def take(
    step: Step, body: dict[str, Any], rec: Recommendation, addressee: Addressee | None
) -> dict[str, Any]:
    """Take the step with the body's data and version; commit; the recommendation as it is now."""
    data = step.data(**{k: v for k, v in body.items() if k != "version"})
    config = current_app.config
    ctx = workflow.Context(
        user=support.user(),
        today=today(),
        storage=blob_store(config),
        max_attachment_bytes=config["ATTACHMENT_MAX_BYTES"],
        revised_response_days=config["REVISED_RESPONSE_DAYS"],
    )
    rec_id = rec.id
    event = support.write(
        lambda: workflow.take(db.session, ctx, step, rec, addressee, data, version=body["version"])
    )
    event_id = event.id
    db.session.expire_all()
    fresh = support.load_rec(rec_id)
    interval = config["UPDATE_INTERVAL_DAYS"]
    return {
        "event_id": event_id,
        "message": step.done,
        "recommendation": render.rec_detail(fresh, support.user(), today(), interval),
    }
