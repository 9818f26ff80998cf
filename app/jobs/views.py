"""A job's page (its progress, then its file), its status for the page's script, the
download, a retry, and "My downloads". A job is its owner's: anyone else gets a 404."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from app import clock
from app.auth import policy
from app.extensions import db
from app.forms import ConfirmForm
from app.jobs import queue, services
from app.jobs.downloads import ask_again, send_result
from app.models import Job, JobState
from app.web import commit

bp = Blueprint("jobs", __name__)

DOWNLOADS_SHOWN = 100


def _own_job(job_id: str) -> Job:
    job = db.session.get(Job, job_id) if len(job_id) == 32 else None
    if job is None or job.user_id != current_user.id:
        abort(404)
    return job


def _state(job: Job) -> dict[str, Any]:
    """What the page's script reads."""
    ready = job.state == JobState.DONE and services.usable(job, clock.now())
    return {
        "state": job.state.value if ready or job.state != JobState.DONE else JobState.EXPIRED.value,
        "label": job.state.label,
        "stage": job.stage,
        "done": job.done_count,
        "total": job.total_count,
        "percent": job.percent,
        "error": job.error,
        "download": url_for("jobs.download", job_id=job.id) if ready else None,
        "file": job.result_name if ready else None,
        "summary": (job.params.get("result") or {}).get("summary") if ready else None,
    }


@bp.route("/jobs/<job_id>")
def detail(job_id: str) -> str:
    """A job's progress; the page refreshes itself (or its script polls) until the file is ready."""
    job = _own_job(job_id)
    return render_template("jobs/detail.html", job=job, status=_state(job), form=ConfirmForm())


@bp.route("/jobs/<job_id>/status.json")
def status(job_id: str) -> Response:
    """The job's state, for the page's script."""
    response = jsonify(_state(_own_job(job_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/jobs/<job_id>/download")
def download(job_id: str) -> Response | tuple[str, int]:
    """The file, while it is kept; afterwards a page offering to make it again."""
    job = _own_job(job_id)
    if job.state != JobState.DONE or not services.usable(job, clock.now()):
        return render_template("jobs/detail.html", job=job, status=_state(job), form=ConfirmForm()), 410
    return send_result(job)


@bp.route("/jobs/<job_id>/retry", methods=["POST"])
def retry(job_id: str) -> Response | tuple[str, int]:
    """Run a failed or expired job's work again, as a new job."""
    job = _own_job(job_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not job.state.finished and services.usable(job, clock.now()):
        return redirect(url_for("jobs.detail", job_id=job.id), code=303)
    fresh = ask_again(db.session, job)
    commit()
    return redirect(url_for("jobs.detail", job_id=fresh.id), code=303)


@bp.route("/admin/background")
def background() -> str:
    """Background work for administrators: the queue, the workers, recent failures."""
    policy.require(policy.can_manage_users(current_user))
    now = clock.now()
    stale = timedelta(seconds=current_app.config["JOB_WORKER_STALE_SECONDS"])
    heartbeats = db.session.scalars(services.workers(db.session)).all()
    failures = db.session.scalars(
        services.recent_failures(now - timedelta(days=1)).options(joinedload(Job.user))
    ).all()
    return render_template(
        "jobs/background.html",
        summary=services.queue_summary(db.session, now=now),
        workers=[(w, now - w.seen_at < stale) for w in heartbeats],
        failures=failures,
        broker=queue.broker_reachable(),
        backend=current_app.config["JOBS_BACKEND"],
    )


@bp.route("/downloads")
def downloads() -> str:
    """The files this user asked for, newest first."""
    jobs = db.session.scalars(services.user_jobs(current_user).limit(DOWNLOADS_SHOWN)).all()
    return render_template("jobs/downloads.html", jobs=jobs, states={j.id: _state(j) for j in jobs})
