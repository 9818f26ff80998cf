"""Two web servers and two background workers on one PostgreSQL database and one Redis
broker, as production runs them: gunicorn and Celery in processes of their own.

What one server stores (a document, a finished PDF, a write) the other serves at once; a
worker killed in the middle of a job leaves it to the other worker, which finishes it
exactly once. The test makes its own database (test_servers_<random>) and uses its own
Redis database (RECTRACK_SERVERS_REDIS_URL, default redis://127.0.0.1:6379/5), flushed
at the start.

Skipped unless TEST_DATABASE_URL is PostgreSQL and Redis answers; in CI (CI=true) a
PostgreSQL run without Redis fails instead. Alone:
TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test pytest -m servers -s
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests.servers import flask_command, free_port

pytestmark = pytest.mark.servers

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
REDIS_URL = os.environ.get("RECTRACK_SERVERS_REDIS_URL", "redis://127.0.0.1:6379/5")
PASSWORD = "two servers test passphrase"
WAIT = 60.0  # seconds any one wait may take
VISIBILITY_TIMEOUT = 10  # an unacknowledged job message is delivered again after this
STALE_SECONDS = 6  # a worker not heard from for this long is taken for dead
JOB_DELAY = 3  # every job waits this long after its claim: the window to kill a worker in
PDF = (
    b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n% two servers "
    + secrets.token_bytes(8).hex().encode()
    + b"\n"
)
ACCOUNTS = {
    "admin": ("admin@servers.example", "admin"),
    "oig1": ("oig1@servers.example", "oig"),
    "oig2": ("oig2@servers.example", "oig"),
}


def _elapsed(start: float) -> str:
    return f"{time.monotonic() - start:.1f} s"


def _wait_for(what: str, check: Callable[[], Any], timeout: float = WAIT, every: float = 0.2) -> Any:
    """check()'s first truthy answer; a failure naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer:
            return answer
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def _unavailable() -> tuple[str, bool] | None:
    """Why the test cannot run here, and whether CI must fail rather than skip."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        return "two servers need PostgreSQL: set TEST_DATABASE_URL (make test-pg)", False
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        return f"Redis not reachable at {REDIS_URL} ({exc}): start redis-server", True
    return None


# --- HTTP, one cookie jar per signed-in person (both servers are 127.0.0.1) -------------


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


@dataclass
class Person:
    """A browser: its cookies, sent to whichever server it asks."""

    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self, base: str, method: str, path: str, body: bytes | None = None, content_type: str = ""
    ) -> Answer:
        host, port = base.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=WAIT)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            answer = Answer(response.status, response.headers, response.read())
        finally:
            conn.close()
        for cookie in answer.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if value and "max-age=0" not in cookie.lower():
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        return answer

    def get(self, base: str, path: str) -> Answer:
        return self.request(base, "GET", path)

    def post(
        self, base: str, path: str, fields: dict[str, str], files: dict[str, tuple[str, bytes]]
    ) -> Answer:
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in fields.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            )
        for name, (filename, data) in files.items():
            head = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            )
            parts.append(head.encode() + data + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request(base, "POST", path, b"".join(parts), f"multipart/form-data; boundary={boundary}")

    def form(self, base: str, path: str) -> dict[str, str]:
        """The hidden fields (CSRF token, record version) of the form at `path`."""
        page = self.get(base, path)
        assert page.status == 200, (path, page.status)
        hidden = {}
        for tag in re.findall(r"<input[^>]*>", page.text):
            if 'type="hidden"' in tag and (name := re.search(r'name="([^"]+)"', tag)):
                value = re.search(r'value="([^"]*)"', tag)
                hidden[name.group(1)] = value.group(1) if value else ""
        assert "csrf_token" in hidden, f"no CSRF token on {path}"
        return hidden

    def sign_in(self, base: str, email: str) -> None:
        fields = {**self.form(base, "/login"), "email": email, "password": PASSWORD, "next": ""}
        answer = self.post(base, "/login", fields, {})
        assert answer.status in (302, 303), f"sign-in of {email} on {base}: {answer.status}"
        assert self.get(base, "/downloads").status == 200


# --- the servers and workers --------------------------------------------------------------


@dataclass
class Cluster:
    web: dict[str, str]  # "A" and "B": base URLs
    workers: dict[str, subprocess.Popen[bytes]]  # "w1" and "w2"
    engine: sa.Engine
    logs: Path

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()

    def job(self, job_id: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = conn.execute(sa.text("SELECT * FROM jobs WHERE id = :id"), {"id": job_id}).mappings().one()
        return dict(row)

    def job_count(self) -> int:
        return int(self.scalar("SELECT count(*) FROM jobs"))


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End the process and its children (each runs in a process group of its own):
    politely, then for good after ten seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):  # whatever of the group is left
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    reason = _unavailable()
    if reason is not None:
        message, ci_must_fail = reason
        if ci_must_fail and os.environ.get("CI") == "true":
            pytest.fail(f"CI=true: {message}")
        pytest.skip(message)
    import redis

    started = time.monotonic()
    tmp = tmp_path_factory.mktemp("servers")
    base_url = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"test_servers_{secrets.token_hex(4)}"
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    url = base_url.set(database=name)
    engine = sa.create_engine(url)
    redis.Redis.from_url(REDIS_URL).flushdb()
    processes: list[subprocess.Popen[bytes]] = []
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TEST_DATABASE", "RECTRACK_"))},
        # development settings: production's Secure cookies would never come back over http://
        "APP_ENV": "development",
        "DATABASE_URL": url.render_as_string(hide_password=False),
        "SECRET_KEY": secrets.token_urlsafe(48),  # shared: a session signed by A is good on B
        "INSTANCE_PATH": str(tmp / "instance"),
        "JOBS_BACKEND": "celery",
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "JOB_WORKER_STALE_SECONDS": str(STALE_SECONDS),
        "JOB_TEST_DELAY_SECONDS": str(JOB_DELAY),
        "STORAGE_BACKEND": "database",
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    try:
        flask_command(env, "db", "upgrade", timeout=120)
        flask_command(env, "seed", timeout=120)
        for email, role in ACCOUNTS.values():
            flask_command(
                env,
                "users",
                "create",
                email,
                "--name",
                email.split("@")[0],
                "--role",
                role,
                stdin=PASSWORD,
                timeout=120,
            )
        print(f"\n[servers] database {name} migrated, seeded, accounts made: {_elapsed(started)}")

        def start(label: str, command: list[str], **extra: str) -> subprocess.Popen[bytes]:
            log = (tmp / f"{label}.log").open("wb")
            process = subprocess.Popen(
                command,
                env={**env, **extra},
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killed as a whole
            )
            processes.append(process)
            return process

        web = {}
        for label in ("A", "B"):
            port = free_port()
            start(
                f"web-{label}",
                # the deployed gunicorn settings; the app's factory, since wsgi.py serves
                # production only and production refuses JOB_TEST_DELAY_SECONDS
                [
                    str(BIN / "gunicorn"),
                    *("-c", "gunicorn.conf.py", "-w", "1", "-b", f"127.0.0.1:{port}"),
                    "app:create_app()",
                ],
                PDF_CACHE_DIR=str(tmp / f"pdf-cache-{label}"),  # B never sees A's cached files
            )
            web[label] = f"http://127.0.0.1:{port}"
        workers = {}
        for label in ("w1", "w2"):
            workers[label] = start(
                label,
                [
                    str(BIN / "celery"),
                    "-A",
                    "app.jobs.worker",
                    "worker",
                    "--pool=prefork",
                    "--concurrency=1",
                    "-n",
                    f"{label}@%h",
                    "--without-mingle",
                    "--without-gossip",
                    "--loglevel=INFO",
                ],
                PDF_CACHE_DIR=str(tmp / f"pdf-cache-{label}"),
            )
        for label, base in web.items():
            _wait_for(f"/readyz on server {label}", lambda base=base: _healthy(base))
        for label in workers:
            _wait_for(
                f"worker {label}'s heartbeat",
                lambda label=label: _scalar(
                    engine, "SELECT count(*) FROM worker_heartbeats WHERE hostname LIKE :h", h=f"{label}@%"
                ),
            )
        print(f"[servers] two web servers and two workers up: {_elapsed(started)}")
        yield Cluster(web, workers, engine, tmp)
    finally:
        for process in processes:
            _stop(process)
        for log in sorted(tmp.glob("*.log")):  # shown when the test fails (or with -s)
            print(
                f"--- last lines of {log.name}:",
                *log.read_text(errors="replace").splitlines()[-15:],
                sep="\n",
            )
        engine.dispose()
        redis.Redis.from_url(REDIS_URL).flushdb()
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()
        print(f"[servers] all stopped, database dropped: {_elapsed(started)} in all (logs in {tmp})")


def _scalar(engine: sa.Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def _healthy(base: str) -> bool:
    try:
        return Person().get(base, "/readyz").status == 200
    except OSError:  # not listening yet
        return False


def _job_id(answer: Answer) -> str:
    assert answer.status == 303, answer.status
    found = re.fullmatch(r"(?:http://[^/]+)?/jobs/([0-9a-f]{32})", answer.location)
    assert found, answer.location
    return found.group(1)


def _finished(person: Person, base: str, job_id: str) -> dict[str, Any]:
    def state() -> dict[str, Any] | None:
        status = json.loads(person.get(base, f"/jobs/{job_id}/status.json").body)
        assert status["state"] != "failed", status
        return status if status["state"] == "done" else None

    return _wait_for(f"job {job_id} to finish", state)


def _report_pdf(cluster: Cluster) -> str:
    report_id = cluster.scalar(
        "SELECT r.id FROM reports r JOIN recommendations c ON c.report_id = r.id "
        "JOIN addressees a ON a.recommendation_id = c.id "
        "WHERE c.status = 'open_unresolved' AND a.response_state = 'none' "
        "AND c.sensitivity = 'public' ORDER BY r.id LIMIT 1"
    )
    return f"/reports/{report_id}/status.pdf"


# --- the test ---------------------------------------------------------------------------------


def test_two_servers_share_everything_and_a_dead_worker_hands_its_job_on(cluster: Cluster) -> None:
    started = time.monotonic()
    a, b = cluster.web["A"], cluster.web["B"]
    admin, oig1, oig2 = Person(), Person(), Person()
    admin.sign_in(a, ACCOUNTS["admin"][0])
    oig1.sign_in(a, ACCOUNTS["oig1"][0])
    oig2.sign_in(b, ACCOUNTS["oig2"][0])
    pdf_path = _report_pdf(cluster)

    # b. A PDF made for a request on A is served by B at once, to another OIG user too.
    step = time.monotonic()
    job_id = _job_id(oig1.get(a, pdf_path))
    status = _finished(oig1, a, job_id)
    assert status["download"] == f"/jobs/{job_id}/download"
    made = oig1.get(a, status["download"])
    assert made.status == 200
    assert made.headers["Content-Type"] == "application/pdf"
    assert made.body.startswith(b"%PDF-")
    jobs_before = cluster.job_count()
    assert jobs_before == 1
    on_b = oig2.get(b, pdf_path)
    assert on_b.status == 200, on_b.status
    assert on_b.headers["Content-Type"] == "application/pdf"
    assert on_b.body == made.body
    assert cluster.job_count() == jobs_before  # no new job
    same_cookie_on_b = oig1.get(b, f"/jobs/{job_id}/download")
    assert same_cookie_on_b.status == 200
    assert same_cookie_on_b.body == made.body
    print(f"[servers] b. PDF made via A served by B: {_elapsed(step)}")

    # a. A document uploaded through A downloads through B, byte for byte.
    step = time.monotonic()
    rec_id, addressee_id = _respondable(cluster, pdf_path)
    respond = f"/recommendations/{rec_id}/components/{addressee_id}/respond"
    response_text = f"Two-servers test response {secrets.token_hex(4)}"
    fields = {**admin.form(a, respond), "concurrence": "non_concur", "response": response_text}
    saved = admin.post(a, respond, fields, {"documents": ("plan.pdf", PDF)})
    assert saved.status in (302, 303), saved.text[:2000]
    attachment_id = cluster.scalar("SELECT max(id) FROM attachments")
    assert attachment_id is not None
    document = oig2.get(b, f"/attachments/{attachment_id}")
    assert document.status == 200
    assert document.body == PDF
    print(f"[servers] a. document uploaded on A downloaded from B: {_elapsed(step)}")

    # c. The write on A shows on B at once, and B's PDF is made anew (the data version moved).
    step = time.monotonic()
    page = oig2.get(b, f"/recommendations/{rec_id}")
    assert page.status == 200
    assert response_text in page.text
    new_job_id = _job_id(oig2.get(b, pdf_path))
    assert new_job_id != job_id
    assert cluster.job_count() == jobs_before + 1
    assert cluster.job(new_job_id)["key"] != cluster.job(job_id)["key"]
    new_status = _finished(oig2, b, new_job_id)
    remade = oig2.get(b, new_status["download"])
    assert remade.status == 200
    assert remade.body.startswith(b"%PDF-")
    assert remade.body != made.body
    print(f"[servers] c. write on A seen on B, PDF made anew: {_elapsed(step)}")

    # d. A worker killed in the middle of a job: the other finishes it, once.
    step = time.monotonic()
    crash_id = _job_id(oig1.get(a, "/recommendations/status.pdf"))

    def running() -> dict[str, Any] | None:
        job = cluster.job(crash_id)
        assert job["state"] in ("queued", "running"), job["state"]
        return job if job["state"] == "running" else None

    job = _wait_for("the job to start", running, every=0.05)
    victim = next(label for label in cluster.workers if job["worker"].startswith(f"{label}@"))
    survivor = next(label for label in cluster.workers if label != victim)
    os.killpg(cluster.workers[victim].pid, signal.SIGKILL)
    cluster.workers[victim].wait(timeout=WAIT)
    killed = time.monotonic()
    print(f"[servers] d. {victim} killed while running job {crash_id} ({_elapsed(step)} after asking)")
    status = _finished(oig1, a, crash_id)
    print(f"[servers] d. {survivor} finished it {_elapsed(killed)} after the kill")
    job = cluster.job(crash_id)
    assert job["state"] == "done"
    assert job["attempts"] == 2
    assert job["worker"].startswith(f"{survivor}@")
    assert job["result_sha256"] is not None
    rescued = oig1.get(b, status["download"])
    assert rescued.status == 200
    assert rescued.body.startswith(b"%PDF-")
    assert cluster.scalar("SELECT count(*) FROM jobs WHERE id = :id", id=crash_id) == 1
    print(f"[servers] whole test body: {_elapsed(started)}")


def _respondable(cluster: Cluster, pdf_path: str) -> tuple[int, int]:
    """A public, unresolved recommendation of the PDF's report with a part not yet answered."""
    report_id = int(pdf_path.split("/")[2])
    with cluster.engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT c.id, a.id FROM recommendations c JOIN addressees a ON a.recommendation_id = c.id "
                "WHERE c.report_id = :r AND c.status = 'open_unresolved' AND a.response_state = 'none' "
                "AND c.sensitivity = 'public' ORDER BY c.id, a.id LIMIT 1"
            ),
            {"r": report_id},
        ).one()
    return int(row[0]), int(row[1])
