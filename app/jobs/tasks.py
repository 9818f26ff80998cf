"""The Celery tasks: thin, they call the job services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import shared_task

from app import clock
from app.extensions import db
from app.jobs import queue, services
from app.jobs.execute import execute

# A queued job waits at most this long before its message is sent again (run by beat).
RESEND_AFTER = timedelta(minutes=10)


@shared_task(name="rectrack.run_job", bind=True)
def run_job(self: Any, job_id: str) -> str:
    """Run one job in this worker (named by its Celery node name, as its heartbeat is)."""
    # the app context around the task (celery_app.FlaskTask) ends the session afterwards
    return execute(job_id, worker=self.request.hostname or "worker")


@shared_task(name="rectrack.expire_results")
def expire_results() -> int:
    """Done jobs past their expiry give up their result; jobs queued for too long (their
    message lost) are sent again."""
    now = clock.now()
    expired = services.expire_results(db.session, now=now)
    db.session.commit()
    for job_id in services.waiting_too_long(db.session, now=now, older_than=RESEND_AFTER):
        queue.send(job_id)
    return expired
