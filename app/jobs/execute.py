"""Running one job from start to end: claim it, call its runner, store the result, record
success or failure. The Celery task and the inline backend both come here.

In a worker each step commits on its own, so the user's page sees progress, and progress
is written on a connection of its own (at most twice a second). Inline (the request
itself runs the job, as in the test suite) nothing commits here: the runner works in a
savepoint and progress is set on the job row in the request's transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import nullcontext
from datetime import timedelta
from time import monotonic, sleep
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, selectinload

from app import audit, clock, storage
from app.database import writing
from app.extensions import db
from app.jobs import services
from app.jobs.registry import WRITERS, JobRefused, Progress, runner_for
from app.models import Job, User
from app.observability.metrics import JOB_FAILURES

log = logging.getLogger(__name__)

FAILED_MESSAGE = (
    "Something went wrong while making this file. Try again; if it fails again, tell an administrator."
)


def _ttl() -> timedelta:
    return timedelta(hours=current_app.config["JOB_RESULT_TTL_HOURS"])


def _inline_progress(session: Session, job: Job) -> Progress:
    def report(stage: str, done: int | None = None, total: int | None = None) -> None:
        job.stage, job.done_count, job.total_count = stage[:200], done, total
        session.flush()

    return report


def _worker_progress(job_id: str) -> Progress:
    last_stage, last_at = [""], [0.0]

    def report(stage: str, done: int | None = None, total: int | None = None) -> None:
        now = monotonic()
        if stage == last_stage[0] and now - last_at[0] < 0.5:
            return  # a count that moved a little: not worth a write
        last_stage[0], last_at[0] = stage, now
        try:
            with Session(db.engine) as progress_session, progress_session.begin():
                if progress_session.get_bind().dialect.name == "sqlite":
                    # the job's own transaction may hold SQLite's write lock (an import):
                    # skip this report rather than wait for it
                    progress_session.execute(sa.text("PRAGMA busy_timeout = 0"))
                progress_session.execute(
                    sa.update(Job)
                    .where(Job.id == job_id)
                    .values(stage=stage[:200], done_count=done, total_count=total)
                )
        except sa.exc.OperationalError:  # progress is a courtesy: the job goes on
            log.info("progress of job %s not written (database busy)", job_id)

    return report


def execute(job_id: str, *, worker: str, inline: bool = False) -> str:
    """Run the job; returns its state afterwards ("done", "failed", or "skipped" when
    there was nothing to do)."""
    session = db.session
    commit: Callable[[], Any] = (lambda: None) if inline else session.commit
    stale = timedelta(seconds=current_app.config["JOB_WORKER_STALE_SECONDS"])
    with writing():
        job = services.claim(session, job_id, worker=worker, now=clock.now(), stale_after=stale)
        # read before the commit expires the job: reading it after would begin the next
        # transaction, outside writing()
        writes = job is not None and job.kind in WRITERS
        commit()
    if job is None:
        return "skipped"
    if not inline and current_app.config["JOB_TEST_DELAY_SECONDS"] > 0:
        sleep(current_app.config["JOB_TEST_DELAY_SECONDS"])  # the crash test's window (config.py)
    # A writer's transaction begins with this read: on SQLite it must take the write lock
    # now, or its first write fails at once when another connection wrote in between.
    with writing() if writes else nullcontext():
        user = session.scalar(
            sa.select(User).where(User.id == job.user_id).options(selectinload(User.components))
        )
    progress = _inline_progress(session, job) if inline else _worker_progress(job.id)
    savepoint = session.begin_nested() if inline else None
    try:
        if user is None or not user.is_active:
            raise JobRefused("The account that asked for this file is no longer active.")
        audit.set_actor(session, audit.AuditActor.for_user(user, job.params.get("source_ip")))
        with writing() if writes else nullcontext():
            output = runner_for(job.kind)(session, user, dict(job.params), progress)
        progress("Saving the file", None, None)
        commit()  # the runner only read: end its transaction, so the writes below begin one
        with writing():
            sha256 = storage.blob_store(current_app.config).put(session, output.data)
            if output.then is not None:
                output.then()
            if savepoint is not None:
                savepoint.commit()
            finished = services.finish(session, job, output, sha256, now=clock.now(), ttl=_ttl())
            commit()
        return "done" if finished else "skipped"
    except JobRefused as exc:
        JOB_FAILURES.labels(job.kind).inc()
        return _failed(session, savepoint, inline, job_id, str(exc))
    except Exception:
        log.exception("job %s (%s) failed", job_id, job.kind)
        JOB_FAILURES.labels(job.kind).inc()
        return _failed(session, savepoint, inline, job_id, FAILED_MESSAGE)


def _failed(session: Session, savepoint: Any, inline: bool, job_id: str, message: str) -> str:
    """Undo the job's own work (a savepoint inline; the transaction in a worker) and record
    the failure."""
    if savepoint is not None:
        savepoint.rollback()
    elif not inline:
        session.rollback()
    with writing():
        services.fail(session, _reload(session, job_id), message, now=clock.now())
        if not inline:
            session.commit()
    return "failed"


def _reload(session: Session, job_id: str) -> Job:
    job = session.get(Job, job_id)
    assert job is not None
    return job
