"""The PDF settings, read once from the app's configuration for the PDF pages and the
`pdf` command alike."""

from __future__ import annotations

from pathlib import Path

from flask import current_app

from app.pdf.cache import PdfCache
from app.pdf.services import Settings
from app.web import today


def settings(*, cached: bool = True) -> Settings:
    """Today's PDF settings. The pages keep rendered PDFs in the PDF cache; the `pdf`
    command (`cached=False`) always renders afresh."""
    config = current_app.config
    return Settings(
        today=today(),
        update_interval_days=config["UPDATE_INTERVAL_DAYS"],
        max_recommendations=config["PDF_MAX_RECOMMENDATIONS"],
        static_root=Path(current_app.static_folder or "static"),
        timeout_seconds=config["PDF_TIMEOUT_SECONDS"],
        cache=PdfCache(Path(config["PDF_CACHE_DIR"])) if cached else None,
    )
