"""Prometheus metrics at /metrics.

Counters and histograms live in this process (prometheus-client). Under gunicorn, with
PROMETHEUS_MULTIPROC_DIR set (in the environment, before the app is imported), every
worker writes its values to files there and a scrape adds them up; gunicorn.conf.py must
call `prometheus_client.multiprocess.mark_process_dead(worker.pid)` in `child_exit`, and
the folder must be emptied before gunicorn starts. The jobs table is counted at scrape time.

/metrics answers only a request from METRICS_ALLOWED_ADDRESSES, or one with
`Authorization: Bearer <METRICS_TOKEN>`; anyone else gets a 404, and a log line.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, request
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from app import clock
from app.extensions import db
from app.models import Job
from app.models.job import JobState
from app.observability import logs
from config import weak_secret

# No *_created series: they double the output and nothing here reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]
ENDPOINT = "metrics"
UNMATCHED = "(no route)"  # a request no route matched: its path is never a label

REQUESTS = Counter(
    "rectrack_http_requests",
    "Requests answered, by route (the URL rule), method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "rectrack_http_request_duration_seconds",
    "Time to answer a request, by route (the URL rule), method and status.",
    ["route", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
JOB_FAILURES = Counter("rectrack_job_failures", "Background jobs that failed, by kind.", ["kind"])
# Mail arrives in a later issue; the counters are here so dashboards and alerts can be set up now.
EMAILS_SENT = Counter("rectrack_emails_sent", "E-mails handed to the mail server.")
EMAILS_FAILED = Counter("rectrack_emails_failed", "E-mails the mail server did not take.")
LOGIN_FAILURES = Counter(
    "rectrack_login_failures", "Sign-ins refused for a wrong password, unknown or disabled account."
)
LOGIN_THROTTLED = Counter(
    "rectrack_login_throttled", "Sign-ins refused unchecked: too many recent failures (throttled)."
)


def observe_request(route: str | None, method: str, status: int, seconds: float) -> None:
    labels = (route or UNMATCHED, method, str(status))
    REQUESTS.labels(*labels).inc()
    LATENCY.labels(*labels).observe(seconds)


class JobsCollector(Collector):
    """Jobs by state, and the age of the oldest waiting one, read from the database at
    scrape time. A database that fails gives rectrack_jobs_count_ok 0, not a failed scrape."""

    def collect(self) -> Iterator[Metric]:
        ok = GaugeMetricFamily("rectrack_jobs_count_ok", "1 when the jobs below could be counted.")
        try:
            counts = dict(db.session.execute(sa.select(Job.state, sa.func.count()).group_by(Job.state)).all())
            oldest = db.session.scalar(
                sa.select(sa.func.min(Job.created_at)).where(Job.state == JobState.QUEUED)
            )
        except sa.exc.SQLAlchemyError:
            db.session.rollback()
            logs.write(logging.WARNING, "metrics: the jobs table could not be counted", event="metrics")
            ok.add_metric([], 0)
            yield ok
            return
        ok.add_metric([], 1)
        yield ok
        jobs = GaugeMetricFamily(
            "rectrack_jobs", "Background jobs by state (queued is the queue length).", labels=["state"]
        )
        for state in JobState:
            jobs.add_metric([state.value], counts.get(state, 0))
        yield jobs
        waiting = GaugeMetricFamily(
            "rectrack_job_oldest_queued_seconds", "Age of the oldest queued job (0: none)."
        )
        waiting.add_metric([], (clock.now() - oldest).total_seconds() if oldest else 0)
        yield waiting


class _ProcessMetrics(Collector):
    """This process's own registry (one process: no PROMETHEUS_MULTIPROC_DIR)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def _allowed_networks(value: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    try:
        return [ipaddress.ip_network(part.strip(), strict=False) for part in value.split(",") if part.strip()]
    except ValueError:
        raise RuntimeError(
            f"METRICS_ALLOWED_ADDRESSES must be addresses or networks, comma-separated, not {value!r}."
        ) from None


def _from_allowed_address() -> bool:
    # Without trusted proxies, a request that came through one shows the proxy's address
    # (often 127.0.0.1): it is not taken for a local scraper.
    if not current_app.config["TRUSTED_PROXY_COUNT"] and (
        "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
    ):
        return False
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in current_app.extensions[ENDPOINT])


def _has_token() -> bool:
    token = current_app.config["METRICS_TOKEN"]
    sent = request.headers.get("Authorization", "")
    if not token or not sent.startswith("Bearer "):
        return False
    return hmac.compare_digest(sent.removeprefix("Bearer ").strip().encode(), token.encode())


def metrics() -> Any:
    """The metrics, for Prometheus; a 404 to anyone not allowed to read them."""
    if not (_from_allowed_address() or _has_token()):
        logs.mark("refused", "metrics: address not allowed and no valid token")
        raise NotFound()
    registry = CollectorRegistry(auto_describe=False)
    folder = current_app.config["PROMETHEUS_MULTIPROC_DIR"]
    if folder:
        MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]
    else:
        registry.register(_ProcessMetrics())
    registry.register(JobsCollector())
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def register(app: Flask) -> None:
    app.extensions[ENDPOINT] = _allowed_networks(app.config["METRICS_ALLOWED_ADDRESSES"])
    token = app.config["METRICS_TOKEN"]
    if token and (problem := weak_secret(token)):
        raise RuntimeError(f"METRICS_TOKEN {problem}.")
    folder = app.config["PROMETHEUS_MULTIPROC_DIR"]
    if folder and os.environ.get("PROMETHEUS_MULTIPROC_DIR") != folder:
        # prometheus-client reads the variable once, when it is imported.
        raise RuntimeError("PROMETHEUS_MULTIPROC_DIR must be set in the environment the app starts in.")
    if folder and not os.path.isdir(folder):
        raise RuntimeError(f"PROMETHEUS_MULTIPROC_DIR {folder!r} is not a folder; create it (empty) first.")
    app.add_url_rule("/metrics", ENDPOINT, metrics)
