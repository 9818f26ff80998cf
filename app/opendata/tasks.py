"""The scheduler's daily build of the open-data files (Celery beat, at OPEN_DATA_HOUR in
APP_TIMEZONE; app/jobs/celery_app.py)."""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from app import audit, clock, storage
from app.database import writing
from app.extensions import db
from app.opendata import services

ACTOR = audit.AuditActor.system("open data")


@shared_task(name="rectrack.opendata_build")
def build() -> int:
    """Build today's files (replacing the published set); the number of recommendations."""
    audit.set_actor(db.session, ACTOR)
    with writing():
        built = services.build(
            db.session, storage.blob_store(current_app.config), now=clock.now(), today=clock.today()
        )
        db.session.commit()
    return built.rows
