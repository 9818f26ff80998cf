"""Asking for a job, claiming it in a worker, finishing or failing it. Services flush,
never commit: the caller (a view, the worker task) owns the transaction."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import storage
from app.jobs.registry import Output
from app.models import Job, JobState, User, WorkerHeartbeat

ACTIVE = (JobState.QUEUED, JobState.RUNNING, JobState.DONE)
# A finished job's file stays in storage until the job expires (expire_results clears it).
storage.register_reference(Job.result_sha256)  # type: ignore[arg-type]


def job_key(kind: str, parts: dict[str, Any]) -> str:
    """The work's name: the same parts always give the same key."""
    text = json.dumps({"kind": kind, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def usable(job: Job, now: datetime) -> bool:
    """Queued, running, or done with a result that has not expired."""
    if job.state not in ACTIVE:
        return False
    return not (job.state == JobState.DONE and (job.expires_at is None or job.expires_at <= now))


def request_job(
    session: Session,
    user: User,
    *,
    kind: str,
    title: str,
    params: dict[str, Any],
    key: str,
    now: datetime,
) -> tuple[Job, bool]:
    """The user's job for this work: the one already asked for (queued, running, or done
    and not expired), or a new queued one. Returns (job, created)."""
    existing = session.scalars(
        sa.select(Job)
        .where(Job.user_id == user.id, Job.key == key, Job.state.in_(ACTIVE))
        .order_by(Job.created_at.desc())
    ).all()
    for job in existing:
        if usable(job, now):
            return job, False
    job = Job(
        id=uuid.uuid4().hex,
        user_id=user.id,
        kind=kind,
        title=title,
        params=params,
        key=key,
        state=JobState.QUEUED,
        stage="Waiting for a worker",
        created_at=now,
    )
    session.add(job)
    session.flush()
    return job, True


def worker_alive(session: Session, hostname: str, now: datetime, stale_after: timedelta) -> bool:
    """Whether the worker was heard from within `stale_after`."""
    seen = session.scalar(sa.select(WorkerHeartbeat.seen_at).where(WorkerHeartbeat.hostname == hostname))
    return seen is not None and now - seen < stale_after


def claim(
    session: Session,
    job_id: str,
    *,
    worker: str,
    now: datetime,
    stale_after: timedelta = timedelta(seconds=90),
) -> Job | None:
    """Start the job in this worker, or None when there is nothing to do: it is unknown,
    finished already, or running in another worker still heard from within `stale_after`
    (a redelivered task). A job whose worker went silent is taken over and run again."""
    job = session.get(Job, job_id, with_for_update=True)
    if job is None or job.state.finished:
        return None
    running_elsewhere = job.state == JobState.RUNNING and job.worker not in ("", worker)
    if running_elsewhere and worker_alive(session, job.worker, now, stale_after):
        return None
    job.state = JobState.RUNNING
    job.worker = worker
    job.attempts += 1
    job.started_at = now
    job.stage = "Starting"
    job.error = ""
    session.flush()
    return job


def finish(session: Session, job: Job, output: Output, sha256: str, *, now: datetime, ttl: timedelta) -> bool:
    """Record the result (its bytes already stored under `sha256`). False when another
    worker finished the job meanwhile: the job keeps that one result."""
    updated = session.execute(
        sa.update(Job)
        .where(Job.id == job.id, Job.state == JobState.RUNNING, Job.worker == job.worker)
        .values(
            state=JobState.DONE,
            stage="Ready",
            result_sha256=sha256,
            result_name=output.filename,
            result_type=output.content_type,
            result_size=len(output.data),
            params={**job.params, "result": output.details},
            finished_at=now,
            expires_at=now + ttl,
        )
        .execution_options(synchronize_session=False)
    )
    session.expire(job)
    return bool(cast(sa.CursorResult[Any], updated).rowcount)


def fail(session: Session, job: Job, message: str, *, now: datetime) -> None:
    """The job failed; `message` says why in words the user can read."""
    job.state = JobState.FAILED
    job.stage = "Failed"
    job.error = message
    job.finished_at = now
    session.flush()


def retry(session: Session, job: Job, *, now: datetime) -> Job:
    """Ask again for a failed or expired job's work: a new job with the same parameters."""
    fresh = Job(
        id=uuid.uuid4().hex,
        user_id=job.user_id,
        kind=job.kind,
        title=job.title,
        params=job.params,
        key=job.key,
        state=JobState.QUEUED,
        stage="Waiting for a worker",
        created_at=now,
    )
    session.add(fresh)
    session.flush()
    return fresh


def expire_results(session: Session, *, now: datetime) -> int:
    """Done jobs past their expiry lose their result (the storage's garbage collection
    then frees the bytes). Returns how many expired."""
    result = session.execute(
        sa.update(Job)
        .where(Job.state == JobState.DONE, Job.expires_at <= now)
        .values(state=JobState.EXPIRED, stage="Expired", result_sha256=None)
        .execution_options(synchronize_session=False)
    )
    return cast(sa.CursorResult[Any], result).rowcount or 0


def waiting_too_long(session: Session, *, now: datetime, older_than: timedelta) -> list[str]:
    """Jobs still queued `older_than` after they were asked for: their message was lost
    (the broker went away between the check and the send), so they are sent again."""
    return list(
        session.scalars(
            sa.select(Job.id).where(Job.state == JobState.QUEUED, Job.created_at < now - older_than)
        )
    )


def beat(session: Session, hostname: str, *, now: datetime, jobs_done: int = 0) -> None:
    """A worker's sign of life."""
    row = session.get(WorkerHeartbeat, hostname)
    if row is None:
        session.add(WorkerHeartbeat(hostname=hostname, seen_at=now, started_at=now, jobs_done=jobs_done))
    else:
        row.seen_at = now
        row.jobs_done += jobs_done
    session.flush()


def workers(session: Session) -> sa.Select[WorkerHeartbeat]:
    """Every worker that ever wrote a heartbeat, most recently heard first."""
    return sa.select(WorkerHeartbeat).order_by(WorkerHeartbeat.seen_at.desc())


def recent_failures(since: datetime, limit: int = 20) -> sa.Select[Job]:
    """Jobs that failed since `since`, newest first, with who asked."""
    return (
        sa.select(Job)
        .where(Job.state == JobState.FAILED, Job.finished_at > since)
        .order_by(Job.finished_at.desc())
        .limit(limit)
    )


def user_jobs(user: User) -> sa.Select[Job]:
    """A user's jobs, newest first ("My downloads")."""
    return sa.select(Job).where(Job.user_id == user.id).order_by(Job.created_at.desc(), Job.id)


def queue_summary(session: Session, *, now: datetime) -> dict[str, int]:
    """How many jobs wait, run, and failed in the last day (the admin panel)."""
    counts = dict(
        session.execute(
            sa.select(Job.state, sa.func.count())
            .where(Job.state.in_((JobState.QUEUED, JobState.RUNNING)))
            .group_by(Job.state)
        ).all()
    )
    failed = session.scalar(
        sa.select(sa.func.count())
        .select_from(Job)
        .where(Job.state == JobState.FAILED, Job.finished_at > now - timedelta(days=1))
    )
    return {
        "queued": counts.get(JobState.QUEUED, 0),
        "running": counts.get(JobState.RUNNING, 0),
        "failed_last_day": failed or 0,
    }
