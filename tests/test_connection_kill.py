"""The database drops the app's connections again and again while people browse
(issue 14, "Failure behaviour"): gunicorn with two workers on a PostgreSQL database of
its own; four browsers (three signed in, one not) ask for pages while another thread
runs pg_terminate_backend on every connection to that database twice a second.

Every answer is a page or the app's own 503 page with Retry-After: no 500, no server's
bare page, no dropped connection; once the killing stops, every next request succeeds.
PostgreSQL only (make test-pg, in .ci/run); skipped on SQLite. About 40 s. Alone:
TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test pytest tests/test_connection_kill.py -s
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests.servers import flask_command, free_port

# The servers marker: a real server on a database of its own, outside the suite's
# per-test transaction (tests/conftest.py db_session).
pytestmark = pytest.mark.servers

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PASSWORD = "connection kill test passphrase"
EMAILS = ("admin@kill.example", "oig@kill.example", "viewer@kill.example")
BROWSE_SECONDS = 20.0  # killing while the browsers browse
KILL_EVERY = 0.5
WAIT = 60.0  # the longest any one wait may take
MESSAGE = "RecTrack is temporarily unavailable"


@dataclass
class Browser:
    """One person's cookies, and what the server answered them."""

    base: str
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, body: str = "") -> tuple[int, dict[str, str], str]:
        host, port = self.base.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=WAIT)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body or None, headers=headers)
            response = conn.getresponse()
            status, head, text = response.status, response.headers, response.read().decode("utf-8", "replace")
        finally:
            conn.close()
        for cookie in head.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if value and "max-age=0" not in cookie.lower():
                self.cookies[name] = value
        return status, dict(head.items()), text

    def sign_in(self, email: str) -> None:
        status, _, page = self.request("GET", "/login")
        assert status == 200, status
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
            r'name="csrf_token" value="([^"]+)"', page
        )
        assert token, "no CSRF token on /login"
        from urllib.parse import urlencode

        body = urlencode({"csrf_token": token.group(1), "email": email, "password": PASSWORD, "next": ""})
        status, _, _ = self.request("POST", "/login", body)
        assert status in (302, 303), f"sign-in of {email}: {status}"


@dataclass
class Server:
    base: str
    database: str
    admin: sa.Engine
    log: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("the connection-kill test needs PostgreSQL: set TEST_DATABASE_URL (make test-pg)")
    tmp = tmp_path_factory.mktemp("kill")
    base_url = make_url(url)
    name = f"{base_url.database}_kill_{secrets.token_hex(4)}"
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TEST_DATABASE", "RECTRACK_"))},
        "APP_ENV": "development",  # production's Secure cookies would never come back over http://
        "DATABASE_URL": base_url.set(database=name).render_as_string(hide_password=False),
        "SECRET_KEY": secrets.token_urlsafe(48),
        "INSTANCE_PATH": str(tmp / "instance"),
        "JOBS_BACKEND": "inline",  # pages only: no broker needed
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    log = tmp / "gunicorn.log"
    process: subprocess.Popen[bytes] | None = None
    try:
        flask_command(env, "db", "upgrade")
        flask_command(env, "seed")
        for email, role in zip(EMAILS, ("admin", "oig", "viewer"), strict=True):
            flask_command(env, "users", "create", email, "--name", role, "--role", role, stdin=PASSWORD)
        port = free_port()
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "app:create_app()"],
            env=env,
            cwd=ROOT,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + WAIT
        while True:
            with contextlib.suppress(OSError):
                if Browser(base).request("GET", "/readyz")[0] == 200:
                    break
            assert process.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "gunicorn did not become ready"
            time.sleep(0.2)
        yield Server(base, name, admin, log)
    finally:
        if process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=15)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
            print(
                "--- last lines of gunicorn's log:",
                *log.read_text(errors="replace").splitlines()[-20:],
                sep="\n",
            )
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


def _a_recommendation(server: Server) -> str:
    engine = sa.create_engine(server.admin.url.set(database=server.database))
    try:
        with engine.connect() as conn:
            rec_id = conn.execute(sa.text("SELECT id FROM recommendations ORDER BY id LIMIT 1")).scalar_one()
    finally:
        engine.dispose()
    return f"/recommendations/{rec_id}"


def test_killing_the_apps_connections_gives_pages_or_503s_never_500s(server: Server) -> None:
    signed_in_pages = ["/", "/recommendations", _a_recommendation(server), "/reports"]
    browsers: list[tuple[Browser, list[str]]] = []
    for email in EMAILS:
        browser = Browser(server.base)
        browser.sign_in(email)
        browsers.append((browser, signed_in_pages))
    browsers.append((Browser(server.base), ["/login"]))

    answers: Counter[int] = Counter()
    wrong: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    kills: list[int] = []

    def browse(browser: Browser, pages: list[str]) -> None:
        i = 0
        while not stop.is_set():
            path = pages[i % len(pages)]
            i += 1
            try:
                status, headers, body = browser.request("GET", path)
            except OSError as exc:  # a worker died or hung up: as bad as a bare page
                with lock:
                    wrong.append(f"{path}: no answer ({type(exc).__name__})")
                continue
            with lock:
                answers[status] += 1
                if status == 200:
                    continue
                if (
                    status == 503
                    and headers.get("Retry-After")
                    and MESSAGE in body
                    and "<html" in body.lower()
                ):
                    continue
                wrong.append(f"{path}: {status} {body[:200]!r}")

    def kill() -> None:
        engine = sa.create_engine(server.admin.url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                while not stop.wait(KILL_EVERY):
                    killed = conn.execute(
                        sa.text(
                            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                            "WHERE datname = :name AND pid <> pg_backend_pid()"
                        ),
                        {"name": server.database},
                    ).scalar_one()
                    kills.append(int(killed))
        finally:
            engine.dispose()

    threads = [threading.Thread(target=browse, args=pair) for pair in browsers]
    threads.append(threading.Thread(target=kill))
    for thread in threads:
        thread.start()
    time.sleep(BROWSE_SECONDS)
    stop.set()
    for thread in threads:
        thread.join(timeout=WAIT)
    print(f"\n[kill] {sum(answers.values())} answers {dict(answers)}; {sum(kills)} connections killed")

    assert sum(kills) >= 10, kills  # the killing really happened
    assert sum(answers.values()) >= 100, answers  # and so did the browsing
    assert wrong == [], wrong[:10]
    assert set(answers) <= {200, 503}

    # The killing has stopped: every next request succeeds, first time.
    for browser, pages in browsers:
        for path in pages:
            status, _, _ = browser.request("GET", path)
            assert status == 200, (path, status)
