"""The PDF settings, read once from the app's configuration for the PDF pages and the
`pdf` command alike."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import current_app

from app import storage
from app.extensions import db
from app.pdf.cache import PdfCache
from app.pdf.services import Settings
from app.web import today


def settings(*, cached: bool = True) -> Settings:
    """Today's PDF settings. The pages and jobs keep rendered PDFs in the shared PDF
    cache; the `pdf` command (`cached=False`) always renders afresh."""
    config = current_app.config
    cache = PdfCache(db.session, storage.blob_store(config), timedelta(hours=config["JOB_RESULT_TTL_HOURS"]))
    return Settings(
        today=today(),
        update_interval_days=config["UPDATE_INTERVAL_DAYS"],
        max_recommendations=config["PDF_MAX_RECOMMENDATIONS"],
        static_root=Path(current_app.static_folder or "static"),
        timeout_seconds=config["PDF_TIMEOUT_SECONDS"],
        cache=cache if cached else None,
    )
