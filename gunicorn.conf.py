"""gunicorn's settings for RecTrack: `gunicorn -c gunicorn.conf.py wsgi:app` (README,
"Deploying"). A command-line option overrides the setting of the same name here."""

from __future__ import annotations

import os
from typing import Any

from gunicorn.http import wsgi as _gunicorn_wsgi

from config import BaseConfig

# Where to listen. RECTRACK_BIND (host:port, or unix:/path) wins; else PORT, which hosting
# platforms set, on every interface behind their router; else this machine only.
_port = os.environ.get("PORT", "").strip()
bind = os.environ.get("RECTRACK_BIND", "").strip() or (f"0.0.0.0:{_port}" if _port else "127.0.0.1:8000")

# Web worker processes (sync: one request at a time each).
workers = int(os.environ.get("WEB_CONCURRENCY", "") or 2)

# A worker silent for this long is killed; it must outlast every in-request limit: a PDF
# rendered in the request (PDF_TIMEOUT_SECONDS, 120 s) and the database statement timeout,
# plus a margin for the page around them. gunicorn's own default, 30 s, killed large PDFs.
_statement_seconds = getattr(BaseConfig, "DATABASE_STATEMENT_TIMEOUT_MS", 0) / 1000
timeout = int(max(BaseConfig.PDF_TIMEOUT_SECONDS, _statement_seconds)) + 30
# After SIGTERM a worker finishes the requests it has for up to this long, taking no new
# ones. The service manager must wait longer before it kills (systemd TimeoutStopSec,
# Kubernetes terminationGracePeriodSeconds).
graceful_timeout = timeout

# No control socket (gunicornc): unused, and its default path is one per machine user, so
# a second gunicorn on the host (a second site, a test server) would take it over.
control_socket_disable = True

# No access log: the app writes one JSON line per request itself.
accesslog = None
errorlog = "-"


# No `Server: gunicorn` header: it tells a scanner what to try. gunicorn writes it with its
# own default headers, which no WSGI middleware can reach, so leave that one line out there.
_default_headers = _gunicorn_wsgi.Response.default_headers


def _default_headers_without_server(self: Any) -> list[str]:
    return [h for h in _default_headers(self) if not h.startswith("Server:")]


_gunicorn_wsgi.Response.default_headers = _default_headers_without_server  # type: ignore[method-assign]


def worker_int(worker: Any) -> None:
    """SIGINT or SIGQUIT to a worker: it is going."""
    _start_draining()


def on_starting(server: Any) -> None:
    """In the master, before any worker: empty PROMETHEUS_MULTIPROC_DIR, whose files from an
    earlier run would otherwise be added to this run's counts."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        for name in os.listdir(folder):
            if name.endswith(".db"):
                os.remove(os.path.join(folder, name))


def child_exit(server: Any, worker: Any) -> None:
    """In the master, once a worker has gone: Prometheus multiprocess mode drops the dead
    worker's live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def _start_draining() -> None:
    """/readyz answers 503 from now on, so a load balancer stops sending this process new
    requests while it finishes those it has. (SIGTERM does the same: the app installs its
    handler at start, app.health.install_sigterm_handler.)"""
    from app import health

    health.start_draining()
