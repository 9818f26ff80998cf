"""Handing a job to whatever runs jobs (JOBS_BACKEND): "celery" (a worker, through the
broker) or "inline" (this request runs it, before answering: the test suite's)."""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.jobs.execute import execute
from app.models import Job

log = logging.getLogger(__name__)

UNAVAILABLE = (
    "Background work is unavailable right now, so RecTrack cannot make this file. "
    "Pages keep working; try again in a few minutes."
)


class JobsUnavailable(RuntimeError):
    """The broker cannot be reached: no job can be queued."""

    def __init__(self) -> None:
        super().__init__(UNAVAILABLE)


def _celery() -> Any:
    return current_app.extensions["celery"]


def broker_reachable() -> bool:
    """Whether a job could be queued now (a connection to the broker, briefly)."""
    if current_app.config["JOBS_BACKEND"] == "inline":
        return True
    try:
        with _celery().connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=current_app.config["CELERY_CONNECT_TIMEOUT"])
        return True
    except Exception:  # kombu raises the transport's own errors (redis, sqlite, OSError)
        log.warning("broker not reachable", exc_info=True)
        return False


def submit(session: Session, job: Job) -> None:
    """Start a newly created job: inline, run it now; with Celery, check the broker (so a
    refused job saves nothing) and send the job once the transaction has committed (the
    worker must find its row)."""
    if current_app.config["JOBS_BACKEND"] == "inline":
        execute(job.id, worker="inline", inline=True)
        return
    if not broker_reachable():
        raise JobsUnavailable
    pending: list[str] = session.info.setdefault("jobs_to_send", [])
    pending.append(job.id)


def send(job_id: str) -> None:
    """Put the job on the queue (used after commit, and to send a job again)."""
    from app.jobs.tasks import run_job

    run_job.apply_async(args=[job_id], retry=False)


@event.listens_for(Session, "after_commit")
def _send_committed(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint's release: the row is not visible yet
        return
    for job_id in session.info.pop("jobs_to_send", []):
        try:
            send(job_id)
        except Exception:  # the broker went away since the check: the job waits, queued
            log.exception("job %s could not be sent; it stays queued", job_id)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint's rollback: the outer write's jobs stay
        return
    session.info.pop("jobs_to_send", None)
