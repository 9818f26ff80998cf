"""What an operator sees of a running RecTrack: JSON log lines with request ids, and
Prometheus metrics at /metrics (README, "Logs and metrics")."""

from __future__ import annotations

from flask import Flask

from app.observability import logs, metrics, tracking


def register(app: Flask) -> None:
    """Logging, request ids and metrics for `app`; called by create_app after the other
    request hooks are registered (tracking's ordering depends on it)."""
    logs.configure(app)
    tracking.register(app)
    metrics.register(app)
