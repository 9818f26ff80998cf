"""Logs, request ids and metrics (issue 14): the JSON lines on stderr and the text at
/metrics are parsed, as a log shipper and Prometheus would read them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from app import clock, create_app
from app.extensions import db
from app.models import Job, JobState, Role
from config import TestingConfig
from tests.conftest import EMAILS, PASSWORD, login, rec, user_by_email
from tests.states import step_url

TOKEN = "metrics-token-for-tests-0123456789abcdefABCDEF"
HEX_ID = re.compile(r"[0-9a-f]{32}")


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The JSON lines logged since the last call. (The test run also has Alembic's plain
    handler on the root logger, from the migrations, which repeats them as text.)"""
    return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]


def _requests(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line.get("event") == "request"]


def _sample(client: Any, name: str, **labels: str) -> float:
    """One sample's value from /metrics (0 when the series does not exist yet)."""
    response = client.get("/metrics")
    assert response.status_code == 200
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


# --- the request line -------------------------------------------------------------------


def test_one_json_line_per_request_with_its_fields(client, capsys) -> None:
    viewer = login(client, "viewer")
    target = rec("OIG-12-15", 1)
    capsys.readouterr()
    # a whole second ahead (a session signed "in the future" would be refused), held still
    instant = clock.now().replace(microsecond=0) + timedelta(seconds=1)
    with time_machine.travel(instant, tick=False):
        response = client.get(f"/recommendations/{target.id}?sort=secret-query-words")
    assert response.status_code == 200
    (line,) = _requests(_lines(capsys))
    assert line["time"] == f"{instant:%Y-%m-%dT%H:%M:%S}.000+00:00"
    assert line["level"] == "INFO"
    assert line["logger"] == "rectrack.request"
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert HEX_ID.fullmatch(line["request_id"])
    assert (line["user_id"], line["role"]) == (viewer.id, "viewer")
    assert line["method"] == "GET"
    assert line["route"] == "/recommendations/<int:rec_id>"  # the rule, not the address
    assert line["endpoint"] == "recommendations.detail"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["duration_ms"] >= 0
    assert line["db_queries"] > 0


def test_every_request_writes_exactly_one_line(client, capsys) -> None:
    login(client, "oig")
    capsys.readouterr()
    statuses = [client.get(url).status_code for url in ("/", "/reports", "/no/such/page", "/reports/987654")]
    assert statuses == [200, 200, 404, 404]
    lines = _requests(_lines(capsys))
    assert [line["status"] for line in lines] == statuses
    assert [line["route"] for line in lines] == ["/", "/reports", None, "/reports/<int:report_id>"]
    assert len({line["request_id"] for line in lines}) == 4


def test_an_anonymous_request_has_no_user(client, capsys) -> None:
    capsys.readouterr()
    assert client.get("/login").status_code == 200
    (line,) = _requests(_lines(capsys))
    assert (line["user_id"], line["role"], line["endpoint"]) == (None, None, "auth.login")


def test_query_strings_form_bodies_and_record_text_are_never_logged(client, capsys) -> None:
    target = rec("OIG-12-15", 1)
    target_id, text = target.id, target.text
    capsys.readouterr()
    client.post("/login", data={"email": "someone-typed@example.org", "password": "p4ss-NEVER-LOGGED"})
    login(client, "oig")
    client.get("/search?q=unusual-search-words")
    client.get(f"/recommendations/{target_id}")
    err = capsys.readouterr().err
    assert len(_requests([json.loads(line) for line in err.splitlines() if line.startswith("{")])) == 3
    for secret in ("someone-typed", "p4ss-NEVER-LOGGED", "unusual-search-words", text[:40]):
        assert secret not in err


def test_other_log_lines_made_during_a_request_carry_its_id(app: Flask, capsys) -> None:
    import logging

    from app.observability import request_id

    capsys.readouterr()
    with app.test_request_context(headers={"X-Request-ID": "given-by-the-proxy-1"}):
        assert request_id.assign() == "given-by-the-proxy-1"
        logging.getLogger("app.some.module").warning("a warning %s", "here")
    logging.getLogger("app.some.module").warning("outside")
    inside, outside = _lines(capsys)
    assert (inside["request_id"], inside["message"], inside["level"]) == (
        "given-by-the-proxy-1",
        "a warning here",
        "WARNING",
    )
    assert outside["request_id"] is None


# --- request ids --------------------------------------------------------------------------


@pytest.mark.parametrize("given", ["abcd1234", "req-2026.11.16_1700", "A" * 128])
def test_a_well_formed_incoming_id_is_reused(client, capsys, given: str) -> None:
    capsys.readouterr()
    response = client.get("/login", headers={"X-Request-ID": given})
    assert response.headers["X-Request-ID"] == given
    (line,) = _requests(_lines(capsys))
    assert line["request_id"] == given


@pytest.mark.parametrize(
    "given", ["short", "A" * 129, "has space 12345", 'quote"12345678', "slash/12345678", ""]
)
def test_a_malformed_incoming_id_is_replaced(client, capsys, given: str) -> None:
    capsys.readouterr()
    response = client.get("/login", headers={"X-Request-ID": given})
    echoed = response.headers["X-Request-ID"]
    assert echoed != given
    assert HEX_ID.fullmatch(echoed)
    (line,) = _requests(_lines(capsys))
    assert line["request_id"] == echoed


def test_error_pages_show_the_request_id(as_role, capsys) -> None:
    client = as_role("viewer")
    capsys.readouterr()
    not_found = client.get("/reports/987654", headers={"X-Request-ID": "quote-me-404"})
    refused = client.get("/admin/users", headers={"X-Request-ID": "quote-me-403"})
    assert (not_found.status_code, refused.status_code) == (404, 403)
    assert "Request id: <code>quote-me-404</code>" in not_found.get_data(as_text=True)
    assert "Request id: <code>quote-me-403</code>" in refused.get_data(as_text=True)
    lines = _lines(capsys)
    (refusal,) = [line for line in lines if line.get("event") == "refused"]
    viewer = user_by_email(EMAILS["viewer"])
    assert refusal["level"] == "WARNING"
    assert (refusal["status"], refusal["reason"], refusal["request_id"]) == (403, "forbidden", "quote-me-403")
    assert (refusal["user_id"], refusal["role"], refusal["route"]) == (viewer.id, "viewer", "/admin/users")


# --- refused requests, conflicts, errors -----------------------------------------------------


def test_a_csrf_failure_is_logged_as_refused(app: Flask, client, capsys) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        capsys.readouterr()
        response = client.post("/login", data={"email": EMAILS["oig"], "password": PASSWORD})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    lines = _lines(capsys)
    (refusal,) = [line for line in lines if line.get("event") == "refused"]
    assert refusal["reason"] == "csrf: The CSRF token is missing."
    assert refusal["status"] == 400
    assert _requests(lines)[0]["request_id"] == refusal["request_id"] == response.headers["X-Request-ID"]


def test_a_throttled_sign_in_is_logged_and_counted(client, capsys) -> None:
    failures = _sample(client, "rectrack_login_failures_total")
    throttled = _sample(client, "rectrack_login_throttled_total")
    capsys.readouterr()
    statuses = [
        client.post(
            "/login",
            data={"email": EMAILS["oig"], "password": f"wrong-{n}"},
            environ_base={"REMOTE_ADDR": "198.51.100.7"},
        ).status_code
        for n in range(6)
    ]
    assert statuses == [200] * 5 + [429]  # LOGIN_LIMIT_PER_ADDRESS_AND_ACCOUNT: 5 per 15 minutes
    lines = _lines(capsys)
    (refusal,) = [line for line in lines if line.get("event") == "refused"]
    assert refusal["status"] == 429
    assert refusal["reason"] == "throttled: too many failures from this address for this account"
    assert "wrong-" not in json.dumps(lines)
    assert EMAILS["oig"] not in json.dumps(lines)
    assert _sample(client, "rectrack_login_failures_total") == failures + 5
    assert _sample(client, "rectrack_login_throttled_total") == throttled + 1


def test_a_conflict_is_logged(as_role, capsys) -> None:
    url = step_url(1, "update", "I&A")()  # Open-Unresolved: no update is due yet
    client = as_role("liaison")
    capsys.readouterr()
    assert client.get(url).status_code == 409
    (conflict,) = [line for line in _lines(capsys) if line.get("event") == "conflict"]
    assert (conflict["status"], conflict["role"]) == (409, "liaison")


def test_a_500_logs_its_traceback_server_side_only(database_url: str, capsys) -> None:
    config = TestingConfig(database_url)
    config.PROPAGATE_EXCEPTIONS = False
    broken = create_app(config)

    @broken.route("/boom")
    def boom() -> str:
        raise RuntimeError("internal detail 7d1f")

    client = broken.test_client()
    user = login(client, "oig")
    capsys.readouterr()
    response = client.get("/boom", headers={"X-Request-ID": "boom-request-1"})
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "internal detail 7d1f" not in page
    assert "Traceback" not in page
    assert "Request id: <code>boom-request-1</code>" in page
    lines = _lines(capsys)
    (error,) = [line for line in lines if line.get("event") == "error"]
    assert error["level"] == "ERROR"
    assert error["exception"] == "RuntimeError"
    assert "Traceback" in error["traceback"]
    assert "internal detail 7d1f" in error["traceback"]
    assert (error["request_id"], error["route"], error["user_id"]) == ("boom-request-1", "/boom", user.id)
    (line,) = _requests(lines)
    assert (line["status"], line["level"], line["request_id"]) == (500, "ERROR", "boom-request-1")
    assert not any("Exception on" in line["message"] for line in lines)  # Flask's copy is dropped


# --- /metrics -----------------------------------------------------------------------------


def test_the_request_counter_moves_by_exactly_the_requests_made(as_role) -> None:
    client = as_role("viewer")
    labels = {"route": "/reports", "method": "GET", "status": "200"}
    before = _sample(client, "rectrack_http_requests_total", **labels)
    before_count = _sample(client, "rectrack_http_request_duration_seconds_count", **labels)
    for _ in range(3):
        assert client.get("/reports").status_code == 200
    assert client.get("/reports/987654").status_code == 404  # another route: not counted here
    assert _sample(client, "rectrack_http_requests_total", **labels) == before + 3
    assert _sample(client, "rectrack_http_request_duration_seconds_count", **labels) == before_count + 3
    missing = {"route": "/reports/<int:report_id>", "method": "GET", "status": "404"}
    assert _sample(client, "rectrack_http_requests_total", **missing) >= 1


def test_a_wrong_password_counts_one_login_failure(client) -> None:
    before = _sample(client, "rectrack_login_failures_total")
    response = client.post("/login", data={"email": EMAILS["viewer"], "password": "not the password"})
    assert response.status_code == 200
    assert _sample(client, "rectrack_login_failures_total") == before + 1
    client.post("/login", data={"email": EMAILS["viewer"], "password": PASSWORD})  # a success
    assert _sample(client, "rectrack_login_failures_total") == before + 1


def test_metrics_are_refused_from_other_addresses_without_the_token(app: Flask, client, capsys) -> None:
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    app.config["METRICS_TOKEN"] = TOKEN
    try:
        assert client.get("/metrics", environ_base=outside).status_code == 404
        wrong = {"Authorization": "Bearer " + TOKEN[:-1] + "x"}
        assert client.get("/metrics", environ_base=outside, headers=wrong).status_code == 404
        # through a proxy the app does not trust, 127.0.0.1 is the proxy, not a local scraper
        proxied = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        assert proxied.status_code == 404
        capsys.readouterr()
        allowed = client.get("/metrics", environ_base=outside, headers={"Authorization": f"Bearer {TOKEN}"})
    finally:
        app.config["METRICS_TOKEN"] = ""
    assert allowed.status_code == 200
    assert "rectrack_http_requests_total" in allowed.get_data(as_text=True)
    capsys.readouterr()
    assert (
        client.get("/metrics", environ_base=outside, headers={"Authorization": f"Bearer {TOKEN}"}).status_code
        == 404
    )
    (refusal,) = [line for line in _lines(capsys) if line.get("event") == "refused"]
    assert (refusal["status"], refusal["route"]) == (404, "/metrics")
    assert refusal["reason"] == "metrics: address not allowed and no valid token"
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200


def test_the_job_queue_is_counted_at_scrape_time(client) -> None:
    before = {state: _sample(client, "rectrack_jobs", state=state.value) for state in JobState}
    viewer = user_by_email(EMAILS["viewer"])
    for n, state in enumerate((JobState.QUEUED, JobState.QUEUED, JobState.FAILED)):
        db.session.add(
            Job(id=f"{n:032d}", user_id=viewer.id, kind="pdf", title="t", key=f"{n}" * 64, state=state)
        )
    db.session.commit()  # a savepoint here: a request ends by dropping what is only flushed
    assert _sample(client, "rectrack_jobs_count_ok") == 1
    assert _sample(client, "rectrack_jobs", state="queued") == before[JobState.QUEUED] + 2
    assert _sample(client, "rectrack_jobs", state="failed") == before[JobState.FAILED] + 1
    assert _sample(client, "rectrack_jobs", state="done") == before[JobState.DONE]
    assert _sample(client, "rectrack_job_oldest_queued_seconds") >= 0


def test_a_database_failure_does_not_fail_the_scrape(client, monkeypatch, capsys) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise sa.exc.OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", refuse)
    capsys.readouterr()
    assert _sample(client, "rectrack_jobs_count_ok") == 0
    assert any(line.get("event") == "metrics" and line["level"] == "WARNING" for line in _lines(capsys))
    monkeypatch.undo()
    assert _sample(client, "rectrack_jobs_count_ok") == 1


def test_a_failed_job_is_counted(as_role, app: Flask, monkeypatch) -> None:
    from app.jobs import queue
    from app.jobs.execute import execute
    from tests.factories import make_report

    sent: list[str] = []
    monkeypatch.setattr(queue, "submit", lambda _session, job: sent.append(job.id))
    report_id = make_report(restricted=True, title="A restricted report").id
    db.session.commit()
    client = as_role("oig")
    before = _sample(client, "rectrack_job_failures_total", kind="pdf")
    client.get(f"/reports/{report_id}/status.pdf")
    (job_id,) = sent
    user_by_email(EMAILS["oig"]).role = Role.VIEWER  # no longer sees the restricted report
    db.session.commit()
    with app.app_context():
        assert execute(job_id, worker="test-worker", inline=True) == "failed"
    assert _sample(client, "rectrack_job_failures_total", kind="pdf") == before + 1


def test_email_counters_are_exposed(client) -> None:
    text = client.get("/metrics").get_data(as_text=True)
    names = {family.name for family in text_string_to_metric_families(text)}
    assert {"rectrack_emails_sent", "rectrack_emails_failed"} <= names


def test_metrics_add_up_across_worker_processes(tmp_path: Path, root: Path) -> None:
    """Under gunicorn each worker is a process: with PROMETHEUS_MULTIPROC_DIR, a scrape in
    any of them counts the requests all of them served."""
    folder = tmp_path / "prometheus"
    folder.mkdir()
    script = (
        "import sys\n"
        "from app import create_app\n"
        "from config import TestingConfig\n"
        "config = TestingConfig('sqlite://')\n"
        "config.PROMETHEUS_MULTIPROC_DIR = sys.argv[1]\n"
        "client = create_app(config).test_client()\n"
        "for _ in range(int(sys.argv[2])):\n"
        "    assert client.get('/login').status_code == 200\n"
        "if sys.argv[3] == 'scrape':\n"
        "    sys.stdout.write(client.get('/metrics').get_data(as_text=True))\n"
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    outputs = [
        subprocess.run(
            [sys.executable, "-c", script, str(folder), str(n), action],
            env=env,
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
        for n, action in ((3, "-"), (2, "-"), (1, "scrape"))
    ]
    families = text_string_to_metric_families(outputs[-1])
    counts = [
        sample.value
        for family in families
        for sample in family.samples
        if sample.name == "rectrack_http_requests_total" and sample.labels.get("route") == "/login"
    ]
    assert counts == [6.0]


# --- start-up checks --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "value", "says"),
    [
        ("METRICS_ALLOWED_ADDRESSES", "127.0.0.1,localhost", "METRICS_ALLOWED_ADDRESSES"),
        ("METRICS_TOKEN", "short", "METRICS_TOKEN must be at least 32 characters"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL"),
        (
            "PROMETHEUS_MULTIPROC_DIR",
            "prometheus-folder",
            "PROMETHEUS_MULTIPROC_DIR must be set in the environment",
        ),
    ],
)
def test_bad_settings_stop_the_start(
    database_url: str, monkeypatch, setting: str, value: str, says: str
) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    config = TestingConfig(database_url)
    setattr(config, setting, value)
    with pytest.raises(RuntimeError, match=re.escape(says)):
        create_app(config)
