"""For load balancers, orchestrators and monitors; no sign-in, and nothing but states.

`/healthz`: the process is alive (always 200, no database). `/readyz`: this server can
serve now: the database answers, its schema is at the migration head, the job broker
answers, and the server is not draining after SIGTERM; 503 saying which is not."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Any

from flask import Blueprint, jsonify
from werkzeug.wrappers import Response

from app.extensions import db
from app.jobs import queue
from app.schema import schema_status
from app.unavailable import rollback_quietly

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

_draining = threading.Event()


def start_draining() -> None:
    """From now on /readyz answers 503 "draining", so a load balancer stops sending new
    requests while the ones in flight finish. For a gunicorn hook (worker_int) or SIGTERM."""
    if not _draining.is_set():
        log.info("draining: /readyz now answers 503")
    _draining.set()


def draining() -> bool:
    return _draining.is_set()


def install_sigterm_handler() -> None:
    """On SIGTERM, start draining, then do whatever was done before (gunicorn's worker
    shuts down gracefully on it). Only from the main thread, where signals are handled."""
    if threading.current_thread() is not threading.main_thread():
        return
    previous = signal.getsignal(signal.SIGTERM)
    if getattr(previous, "_rectrack_drains", False):
        return

    def on_sigterm(signum: int, frame: FrameType | None) -> Any:
        start_draining()
        if callable(previous):
            return previous(signum, frame)
        if previous == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.raise_signal(signal.SIGTERM)
        return None

    on_sigterm._rectrack_drains = True  # type: ignore[attr-defined]
    signal.signal(signal.SIGTERM, on_sigterm)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/healthz")
def healthz() -> Response:
    """200 while the process can answer at all; it asks nothing of the database."""
    return _no_store(jsonify({"status": "ok"}))


@bp.route("/readyz")
def readyz() -> tuple[Response, int]:
    """200 when this server can serve; 503 saying which dependency is down otherwise."""
    checks = {"database": "ok", "schema": "ok", "broker": "ok", "draining": "no"}
    try:
        status = schema_status(db.session.connection())
        if not status.at_head:
            checks["schema"] = "not at head"
    except Exception:  # SQLAlchemy's errors, or a driver's from a connection that is half made
        log.warning("readiness: database unavailable", exc_info=True)
        checks["database"] = "unavailable"
        checks["schema"] = "unknown"
    finally:
        rollback_quietly()
    if not queue.broker_reachable():
        checks["broker"] = "unavailable"
    if draining():
        checks["draining"] = "yes"
    ready = checks == {"database": "ok", "schema": "ok", "broker": "ok", "draining": "no"}
    response = jsonify({"status": "ok" if ready else "unavailable", **checks})
    return _no_store(response), 200 if ready else 503
