"""Asking for a job from a page, and answering with its file or its page. The view that
asks commits between the two (its one commit point)."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, make_response, redirect, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from app import clock, storage
from app.extensions import db
from app.jobs import queue, services
from app.models import Job, JobState, User
from app.web import note_access


def ask(session: Session, user: User, *, kind: str, title: str, params: dict[str, Any], key: str) -> Job:
    """The user's job for this work (an existing one, or a new one handed to the worker);
    a 503 page when no job can be queued. Commit afterwards, then answer(job)."""
    try:
        job, created = services.request_job(
            session, user, kind=kind, title=title, params=params, key=key, now=clock.now()
        )
        if created:
            queue.submit(session, job)
    except queue.JobsUnavailable as exc:
        session.rollback()
        abort(503, description=str(exc))
    return job


def ask_again(session: Session, job: Job) -> Job:
    """A new job with a failed or expired job's work; a 503 page when none can be queued."""
    try:
        fresh = services.retry(session, job, now=clock.now())
        queue.submit(session, fresh)
    except queue.JobsUnavailable as exc:
        session.rollback()
        abort(503, description=str(exc))
    return fresh


def answer(job: Job) -> Response:
    """The file when the job is done (it ran inline, or was done before); else its page,
    which follows the progress (303)."""
    if job.state == JobState.DONE and services.usable(job, clock.now()):
        return send_result(job)
    return redirect(url_for("jobs.detail", job_id=job.id), code=303)


def send_result(job: Job) -> Response:
    """The finished job's file, recorded in the audit trail as the download it is."""
    data = storage.blob_store(current_app.config).get(db.session, job.result_sha256 or "")
    if data is None:
        abort(404)
    audit = dict(job.params.get("audit") or {})
    details = {
        **(audit.get("details") or {}),
        **(job.params.get("result") or {}),
        "job": job.id,
        "file": job.result_name,
        "bytes": len(data),
    }
    note_access(
        audit.get("action", "download"),
        object_type=audit.get("object_type"),
        object_id=audit.get("object_id"),
        details=details,
    )
    response = make_response(data)
    response.headers["Content-Type"] = job.result_type or "application/octet-stream"
    response.headers["Content-Disposition"] = f'attachment; filename="{job.result_name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
