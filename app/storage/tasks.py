"""The scheduler's sweep of stored bytes (Celery beat, `rectrack.sweep_storage`): import
uploads whose dry run expired, then the blobs nothing refers to any more."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from flask import current_app

from app import clock
from app.database import writing
from app.extensions import db
from app.storage import GRACE, blob_store, expire_staged, referenced_hashes, staged_ttl

log = logging.getLogger(__name__)


def sweep(config: Any) -> tuple[int, int]:
    """Remove expired import uploads, then unreferenced blobs; (uploads, blobs) removed.
    Commits (a task or a command's one transaction)."""
    now = clock.now()
    with writing():
        uploads = expire_staged(db.session, now=now, ttl=staged_ttl(config))
        blobs = blob_store(config).remove_unreferenced(db.session, referenced_hashes(), now - GRACE)
        db.session.commit()
    return uploads, blobs


@shared_task(name="rectrack.sweep_storage")
def sweep_storage() -> list[int]:
    """Run by beat every SWEEP_EVERY seconds (app/jobs/celery_app.py)."""
    uploads, blobs = sweep(current_app.config)
    if uploads or blobs:
        log.info("storage sweep: %s expired import uploads, %s unreferenced blobs removed", uploads, blobs)
    return [uploads, blobs]
