"""The Celery tasks: thin, they call the job services."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from app import clock
from app.extensions import db
from app.jobs import services
from app.jobs.execute import execute


@shared_task(name="rectrack.run_job", bind=True)
def run_job(self: Any, job_id: str) -> str:
    """Run one job in this worker (named by its Celery node name, as its heartbeat is)."""
    # the app context around the task (celery_app.FlaskTask) ends the session afterwards
    return execute(job_id, worker=self.request.hostname or "worker")


@shared_task(name="rectrack.expire_results")
def expire_results() -> int:
    """Done jobs past their expiry give up their result."""
    expired = services.expire_results(db.session, now=clock.now())
    db.session.commit()
    return expired
