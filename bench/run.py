"""RecTrack benchmark: `make bench`.

For each database (SQLite, PostgreSQL) and scale (10,000 and 100,000 recommendations):
build a fresh database with synthetic data, start the app under gunicorn (gunicorn.conf.py,
2 workers; production settings on PostgreSQL, development ones on SQLite, which production
refuses) on 127.0.0.1, and measure:

- p50/p95 latency and requests per second with wrk (2 connections, 10 s each, after a
  2 s warm-up as the same reader) for the
  login page, dashboard, list (first page and a deep keyset page), a search and a
  recommendation page, signed in as OIG staff (who see everything), the dashboard of a
  FEMA liaison, and a ceiling: a bare route running the list's main SQL query with no
  template;
- the first dashboard view after a write (the cache is per data version), for OIG
  staff and for the liaison;
- a CSV export of every row: time and peak memory of the app's processes;
- portfolio PDFs of about 100 and 1,000 recommendations: a job a Celery worker makes,
  followed from the click to the downloaded file, with the peak memory of the server's
  and the worker's processes (the renderer is forked by the worker); then the cached
  re-download;
- 20 concurrent clients for 30 s, a mix of pages and writes (progress updates): errors,
  and whether the audit events of the writes equal the successful writes.

Prints a table and writes bench/results.json and bench/results.md. Environment:
BENCH_SCALES (default "10000,100000"), BENCH_DATABASES ("sqlite,postgresql"),
BENCH_PG_URL (an admin URL of the PostgreSQL server), BENCH_SECONDS (10).
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the app's own code picks test data and cursors
OUT = ROOT / "bench" / "out"
VENV = ROOT / ".venv" / "bin"
FLASK = [str(VENV / "flask"), "--app", "app"]
PASSWORD = "benchmark passphrase, not a secret"
SCALES = [int(x) for x in os.environ.get("BENCH_SCALES", "10000,100000").split(",") if x]
DATABASES = [x for x in os.environ.get("BENCH_DATABASES", "sqlite,postgresql").split(",") if x]
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
# BENCH_SECTIONS: only these sections (comma-separated names, see bench_one); all when unset.
SECTIONS = {x for x in os.environ.get("BENCH_SECTIONS", "").split(",") if x}
PDF_SIZES = (1000, 5000, 10000)
DIGEST_USERS = 2000
USERS = {
    "oig": ("bench-oig@rectrack.example", "oig", []),
    "fema": ("bench-fema@rectrack.example", "liaison", ["FEMA"]),
}

TARGETS = {
    "dashboard_p95_ms": 150,
    "list_p95_ms": 150,
    "list_vs_ceiling": 1.5,
    "deep_vs_first": 1.5,
    "pdf_1000_seconds": 8,
    "pdf_1000_peak_mb": 400,
    "pdf_cached_p95_ms": 20,
}


def log(message: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", flush=True)


def run(args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    result = subprocess.run(args, cwd=ROOT, env=env, input=stdin, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


# --- databases ---------------------------------------------------------------------------


def database_url(kind: str, scale: int) -> str:
    if kind == "sqlite":
        path = OUT / f"bench-{scale}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    import sqlalchemy as sa

    name = f"rectrack_bench_{scale}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def app_env(url: str, scale: int, kind: str) -> dict[str, str]:
    instance = OUT / f"instance-{kind}-{scale}"
    shutil.rmtree(instance, ignore_errors=True)
    instance.mkdir(parents=True)
    return {
        **os.environ,
        # Production refuses SQLite. The development configuration differs from it in
        # cookie flags, Strict-Transport-Security and demo accounts, none of which is timed.
        "APP_ENV": "development" if url.startswith("sqlite") else "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": url,
        "INSTANCE_PATH": str(instance),
        "RATELIMIT_STORAGE_URI": "memory://",
        "API_RATE_LIMIT": "1000000 per minute",  # the bench's token asks far more than a client would
        "LOGIN_LIMIT_PER_ADDRESS": "10000 per minute",  # every bench client comes from 127.0.0.1
        "BENCH_ROUTES": "1",
        # Production asks OIG staff and liaisons for a second factor, which the bench's
        # HTTP clients cannot give: every page would answer with a redirect to enrol one.
        # The factor is checked once at sign-in, so pages after it cost the same.
        "MFA_REQUIRED_ROLES": "",
    }


def build(
    kind: str, scale: int, url: str | None = None, instance: str | None = None
) -> tuple[dict[str, str], dict[str, Any]]:
    """Migrate, seed and fill a fresh database (`url`: one made empty already)."""
    url = url or database_url(kind, scale)
    env = app_env(url, scale, instance or kind)
    run([*FLASK, "db", "upgrade"], env)
    run([*FLASK, "seed", "--components-only"], env)
    started = time.perf_counter()
    out = run(
        [
            *FLASK,
            "demo-data",
            "--reports",
            str(max(1, scale // 10)),
            "--recommendations",
            str(scale),
            "--seed",
            "1",
        ],
        env,
    )
    build_seconds = time.perf_counter() - started
    for email, role, components in USERS.values():
        args = [*FLASK, "users", "create", email, "--name", email.split("@")[0], "--role", role]
        for component in components:
            args += ["--component", component]
        run(args, env, stdin=PASSWORD + "\n")
    log(f"{kind} {scale:,}: {out.strip()}")
    return env, {"build_seconds": round(build_seconds, 1), "demo_data": out.strip()}


# --- the server and a client -------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(env: dict[str, str]) -> Any:
    port = free_port()
    log_path = Path(env["INSTANCE_PATH"]) / "gunicorn.log"  # a file: a pipe nobody reads fills up
    log = log_path.open("w")
    process = subprocess.Popen(
        [
            str(VENV / "gunicorn"),
            "-c",
            "gunicorn.conf.py",  # the deployed settings, timeout included
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            # wsgi.py serves production only; SQLite runs the development configuration
            "wsgi:app" if env["APP_ENV"] == "production" else "app:create_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = ("127.0.0.1", port)
    for _ in range(200):
        try:
            if Client(base).get("/login")[0] == 200:
                break
        except OSError:
            pass
        time.sleep(0.1)
    else:
        process.kill()
        log.close()
        raise RuntimeError(f"gunicorn did not start: {log_path.read_text()[-4000:]}")
    try:
        yield base, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


class Client:
    """A minimal HTTP client with one keep-alive connection and a session cookie."""

    def __init__(self, base: tuple[str, int]) -> None:
        self.base = base
        self.cookie = ""
        self.conn = http.client.HTTPConnection(*base, timeout=600)

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes, dict[str, str], float]:
        head = {"Cookie": self.cookie} if self.cookie else {}
        head.update(headers or {})
        data = None
        if body is not None:
            data = urlencode(body)
            head["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=data, headers=head)
                response = self.conn.getresponse()
                payload = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                if attempt:
                    raise
                self.conn = http.client.HTTPConnection(*self.base, timeout=600)
        elapsed = time.perf_counter() - started
        # The session cookie, among others (a sign-in also sets the device cookie).
        for cookie in response.headers.get_all("Set-Cookie") or []:
            if cookie.startswith("rectrack_session="):
                self.cookie = cookie.split(";", 1)[0]
        return response.status, payload, dict(response.getheaders()), elapsed

    def get(
        self, path: str, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes, dict[str, str], float]:
        return self.request("GET", path, headers=headers)

    def post(self, path: str, body: dict[str, str]) -> tuple[int, bytes, dict[str, str], float]:
        return self.request("POST", path, body)

    def sign_in(self, who: str) -> Client:
        _status, page, _h, _t = self.get("/login")
        token = csrf(page)
        status, _b, _h, _t = self.post(
            "/login", {"csrf_token": token, "email": USERS[who][0], "password": PASSWORD}
        )
        if status != 302:
            raise RuntimeError(f"sign-in as {who} failed: {status}")
        return self


def csrf(page: bytes) -> str:
    match = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        rb'name="csrf_token" value="([^"]+)"', page
    )
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1).decode()


# --- measuring ------------------------------------------------------------------------------


def wrk(
    base: tuple[str, int],
    path: str,
    cookie: str = "",
    connections: int = 2,
    seconds: int = SECONDS,
    header: str = "",
) -> dict[str, Any]:
    args = [
        "wrk",
        "-t",
        str(min(connections, 2)),
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--timeout",
        "30s",
        "-s",
        str(ROOT / "bench" / "wrk_report.lua"),
    ]
    if cookie:
        args += ["-H", f"Cookie: {cookie}"]
    if header:
        args += ["-H", header]
    output = subprocess.run(
        [*args, f"http://{base[0]}:{base[1]}{path}"], capture_output=True, text=True, check=True
    )
    line = next(x for x in output.stdout.splitlines() if x.startswith("{"))
    raw = json.loads(line)
    return {
        "p50_ms": round(raw["p50_us"] / 1000, 1),
        "p95_ms": round(raw["p95_us"] / 1000, 1),
        "p99_ms": round(raw["p99_us"] / 1000, 1),
        "rps": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        "requests": raw["requests"],
        "errors": raw["socket_errors"] + raw["not_200"],
    }


def process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    tree, stack = [], [root]
    while stack:
        pid = stack.pop()
        tree.append(pid)
        stack.extend(children.get(pid, []))
    return tree


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


# --- choosing data ------------------------------------------------------------------------


def pick(env: dict[str, str]) -> dict[str, Any]:
    """Ids, a deep cursor and PDF filters for this database, using the app's own code."""
    os.environ.update(
        {k: v for k, v in env.items() if k in ("DATABASE_URL", "SECRET_KEY", "APP_ENV", "INSTANCE_PATH")}
    )
    import sqlalchemy as sa

    from app import create_app, keyset
    from app.extensions import db
    from app.models import Addressee, Component, Recommendation, RecStatus, Report
    from app.recommendations import queries

    app = create_app()
    with app.app_context():
        session = db.session
        total = session.scalar(sa.select(sa.func.count(Recommendation.id)))
        sort = queries.SORTS["newest"]
        deep = (
            session.execute(
                sa.select(Recommendation)
                .join(Report)
                .order_by(*keyset.ordering(sort.keys))
                .offset(int(total * 0.9))
                .limit(1)
            )
            .scalars()
            .one()
        )
        cursor = keyset.encode(sort.values(deep))
        rec_id = session.scalar(
            sa.select(Recommendation.id)
            .join(Addressee)
            .group_by(Recommendation.id)
            .having(sa.func.count() > 1)
            .order_by(Recommendation.id)
            .limit(1)
        )
        fema = session.scalar(sa.select(Component.id).where(Component.abbreviation == "FEMA"))
        writers = session.execute(
            sa.select(Recommendation.id, Addressee.id)
            .join(Addressee)
            .where(Recommendation.status == RecStatus.OPEN_RESOLVED, Addressee.component_id == fema)
            .order_by(Recommendation.id)
            .limit(20)
        ).all()
        # Portfolio filters for PDFs of about 100 and 1,000 recommendations: count every
        # (year, status, component) combination in one pass over one query.
        counts: dict[tuple[int, str, int | None], set[int]] = {}
        rows = session.execute(
            sa.select(Recommendation.id, Report.issued_on, Recommendation.status, Addressee.component_id)
            .join(Report)
            .join(Addressee)
        )
        for rid, issued, status, component in rows:
            for status_key in ("", "open" if status in RecStatus.open_values() else "closed"):
                for component_key in (None, component):
                    counts.setdefault((issued.year, status_key, component_key), set()).add(rid)
        pdfs = {}
        for target in (100, 1000):
            (year, status, component), ids = min(counts.items(), key=lambda kv: abs(len(kv[1]) - target))
            query = {"year": year, "status": status, "component": component or ""}
            pdfs[target] = {
                "path": "/recommendations/status.pdf?" + urlencode({k: v for k, v in query.items() if v}),
                "count": len(ids),
            }
        # A read token for the API rows, as OIG staff.
        from datetime import timedelta

        from app import audit, clock
        from app.models import TokenScope, User
        from app.tokens import services as tokens

        oig = session.scalars(sa.select(User).where(User.email == USERS["oig"][0])).one()
        audit.set_actor(session, audit.AuditActor.for_user(oig))
        now = clock.now()
        api_token = tokens.create(
            session, oig, name="bench", scope=TokenScope.READ, expires_at=now + timedelta(days=1), now=now
        ).secret
        session.commit()
        session.remove()
        db.engine.dispose()
    return {
        "api_token": api_token,
        "total": total,
        "cursor": cursor,
        "rec_id": rec_id,
        "writers": [tuple(w) for w in writers],
        "pdfs": pdfs,
    }


def audit_writes(env: dict[str, str], since: datetime) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(env["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        count = conn.execute(
            sa.text(
                "SELECT count(*) FROM audit_events WHERE action = 'create' AND object_type = 'recommendation_events' "
                "AND actor_label = :who AND occurred_at >= :since"
            ),
            {"who": USERS["fema"][0], "since": since.replace(tzinfo=None)},
        ).scalar()
    engine.dispose()
    return int(count or 0)


# --- the mixed load -----------------------------------------------------------------------


@dataclass
class Mix:
    reads: int = 0
    writes: int = 0
    errors: int = 0
    write_errors: int = 0
    notes: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def mixed_load(
    base: tuple[str, int], picks: dict[str, Any], clients: int = 20, seconds: int = 30
) -> dict[str, Any]:
    mix = Mix()
    deadline = time.monotonic() + seconds
    reads = [
        "/",
        "/recommendations",
        f"/recommendations/{picks['rec_id']}",
        "/search?q=grant+oversight",
        "/work",
    ]
    writers = picks["writers"]

    def worker(n: int) -> None:
        rng = random.Random(n)
        try:
            client = Client(base).sign_in("fema")
        except Exception as exc:
            with mix.lock:
                mix.errors += 1
                mix.notes.append(f"sign-in: {exc}")
            return
        rec_id, addressee_id = writers[n % len(writers)]
        while time.monotonic() < deadline:
            try:
                if rng.random() < 0.25:
                    path = f"/recommendations/{rec_id}/components/{addressee_id}/update"
                    status, page, _h, _t = client.get(path)
                    version = re.search(rb'name="version" type="hidden" value="(\d+)"', page)
                    status, _b, _h, _t = client.post(
                        path,
                        {
                            "csrf_token": csrf(page),
                            "version": version.group(1).decode() if version else "",
                            "text": f"Benchmark progress update from client {n}.",
                        },
                    )
                    with mix.lock:
                        if status == 302:
                            mix.writes += 1
                        else:
                            mix.write_errors += 1
                            mix.errors += 1
                            mix.notes.append(f"write {status}")
                else:
                    status, _b, _h, _t = client.get(rng.choice(reads))
                    with mix.lock:
                        if status == 200:
                            mix.reads += 1
                        else:
                            mix.errors += 1
                            mix.notes.append(f"read {status}")
            except Exception as exc:
                with mix.lock:
                    mix.errors += 1
                    mix.notes.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {
        "clients": clients,
        "seconds": seconds,
        "reads": mix.reads,
        "writes": mix.writes,
        "errors": mix.errors,
        "write_errors": mix.write_errors,
        "error_samples": mix.notes[:5],
    }


def page_rows(
    base: tuple[str, int], picks: dict[str, Any], label: str, names: set[str] | None = None
) -> dict[str, Any]:
    """The page rows (all, or those in `names`) with wrk against a running server, signed in
    as the bench's OIG staff member (the FEMA liaison's row as the liaison; the API's with
    the read token)."""
    oig = Client(base).sign_in("oig")
    fema = Client(base).sign_in("fema")
    paths = {
        "login page": ("/login", ""),
        "dashboard": ("/", oig.cookie),
        "dashboard, FEMA liaison": ("/", fema.cookie),
        "list, first page": ("/recommendations", oig.cookie),
        "list, deep keyset page": (f"/recommendations?after={picks['cursor']}", oig.cookie),
        "search": ("/search?q=grant+oversight", oig.cookie),
        "recommendation page": (f"/recommendations/{picks['rec_id']}", oig.cookie),
        "ceiling: list query as JSON": ("/_bench/list-query", oig.cookie),
        "API: recommendations list": ("/api/v1/recommendations", ""),
    }
    bearer = f"Authorization: Bearer {picks['api_token']}"
    rows: dict[str, Any] = {}
    for name, (path, cookie) in paths.items():
        if names is not None and name not in names:
            continue
        # Warm up as the same reader, long enough for both workers to fill their caches:
        # the rows measure the steady state. A cold start is measured on its own ("first
        # view after a write").
        header = bearer if path.startswith("/api/") else ""
        wrk(base, path, cookie, seconds=2, header=header)
        rows[name] = wrk(base, path, cookie, header=header)
        log(f"{label} {name}: {rows[name]}")
    return rows


# --- one configuration -------------------------------------------------------------------


def bench_one(kind: str, scale: int) -> dict[str, Any]:
    log(f"building {kind} with {scale:,} recommendations")
    env, built = build(kind, scale)
    picks = pick(env)
    result: dict[str, Any] = {"database": kind, "recommendations": picks["total"], **built, "endpoints": {}}

    with server(env) as (base, _master):
        result["endpoints"] = page_rows(base, picks, f"{kind} {scale:,}")

    # Each section below is its own measurement; one that fails is recorded with its error
    # and the run goes on (a run takes most of an hour).
    def section(name: str, measure: Any) -> None:
        if SECTIONS and name not in SECTIONS:
            return
        started = time.perf_counter()
        try:
            result[name] = measure()
        except Exception as exc:
            result[name] = {"error": f"{type(exc).__name__}: {exc}"}
        result["section_seconds"][name] = round(time.perf_counter() - started, 1)
        log(
            f"{kind} {scale:,} {name} ({result['section_seconds'][name]} s): {json.dumps(result[name], default=str)[:600]}"
        )

    result["section_seconds"] = {}
    largest = scale == max(SCALES)

    def cold_paths() -> dict[str, Any]:
        import cold

        with server(env) as (base, _master):
            return cold.measure(base, Client(base).sign_in("oig"), Client(base).sign_in("fema"), picks)

    def exports_first_byte() -> dict[str, Any]:
        import exports

        with server(env) as (base, master):
            return exports.measure(env, base, Client(base).sign_in("oig").cookie, master)

    def pdfs() -> dict[str, Any]:
        """A signed-in user's uncached PDF is a job (303 to its page): asked, followed until
        done and downloaded, as the user does; "seconds" is from the click to the file, the
        peak is the largest process of the server and the worker (the renderer is forked by
        the worker). Then the same link again, served from the cache."""
        import exports

        out: dict[str, Any] = {}
        with server(env) as (base, master):
            oig = Client(base).sign_in("oig")
            with exports.celery_worker(env, "pdfs") as worker:
                for target, pdf in picks["pdfs"].items():
                    measured = exports.export(base, oig.cookie, [master, worker], {master}, pdf["path"])
                    if "error" in measured or measured.get("download_status", measured["status"]) != 200:
                        raise RuntimeError(f"PDF {pdf['path']}: {measured}")
                    out[f"pdf_{target}"] = {
                        **measured,
                        "seconds": measured.get("total_s"),
                        "recommendations": pdf["count"],
                    }
            cached = picks["pdfs"][1000]["path"]
            status, body, _h, _t = oig.get(cached)
            if status != 200 or not body.startswith(b"%PDF-"):
                raise RuntimeError(f"the PDF made by the job is not served from the cache: {status}")
            out["pdf_cached"] = wrk(base, cached, oig.cookie, connections=1, seconds=5)
        return out

    def pdf_baseline() -> dict[str, Any]:
        import pdf

        sizes = [n for n in PDF_SIZES if n <= picks["total"]] if largest else [1000]
        return pdf.measure(env, sizes=sizes, rounds=2)

    def heavy_work() -> dict[str, Any]:
        import heavy

        return heavy.measure(env)

    def digests() -> dict[str, Any]:
        import digests as digest_bench

        return digest_bench.measure(env, users=DIGEST_USERS)

    def two_servers() -> dict[str, Any]:
        import servers

        return servers.measure(env)

    def mixed() -> dict[str, Any]:
        with server(env) as (base, _master):
            since = datetime.now(UTC)
            out = mixed_load(base, picks)
            out["audit_events_of_writes"] = audit_writes(env, since)
            return out

    section("cold", cold_paths)
    section("exports", exports_first_byte)
    section("pdfs", pdfs)
    section("pdf_baseline", pdf_baseline)
    section("heavy", heavy_work)
    if largest:
        section("digests", digests)
    if largest and kind == "postgresql":
        section("servers", two_servers)
    section("mixed_load", mixed)
    return result


def check(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every target of this run: the page rows' own, then each section's ("targets" in
    what it returned), named "<section>: <target>"."""
    e = result["endpoints"]
    first, deep, ceiling = (
        e["list, first page"],
        e["list, deep keyset page"],
        e["ceiling: list query as JSON"],
    )
    measured: dict[str, Any] = {
        "dashboard_p95_ms": e["dashboard"]["p95_ms"],
        "list_p95_ms": first["p95_ms"],
        "list_vs_ceiling": round(first["p50_ms"] / max(ceiling["p50_ms"], 0.1), 2),
        "deep_vs_first": round(deep["p50_ms"] / max(first["p50_ms"], 0.1), 2),
    }
    pdfs = result.get("pdfs", {})
    if "pdf_1000" in pdfs:
        measured["pdf_1000_seconds"] = pdfs["pdf_1000"]["seconds"]
        measured["pdf_1000_peak_mb"] = pdfs["pdf_1000"]["peak_process_mb"]
        measured["pdf_cached_p95_ms"] = pdfs["pdf_cached"]["p95_ms"]
    out = {
        name: {"measured": value, "target": TARGETS[name], "met": value <= TARGETS[name]}
        for name, value in measured.items()
    }
    mixed = result.get("mixed_load", {})
    if "errors" in mixed:
        out["mixed_load_zero_errors"] = {
            "measured": mixed["errors"],
            "target": 0,
            "met": mixed["errors"] == 0,
        }
        out["audit_equals_writes"] = {
            "measured": f"{mixed['audit_events_of_writes']} audit events for {mixed['writes']} writes",
            "target": "equal",
            "met": mixed["audit_events_of_writes"] == mixed["writes"],
        }
    for name, value in result.items():
        if isinstance(value, dict) and "error" in value:
            out[f"{name}: ran"] = {"measured": value["error"], "target": "no error", "met": False}
        elif isinstance(value, dict) and isinstance(value.get("targets"), dict):
            for target, figures in value["targets"].items():
                out[f"{name}: {target}"] = figures
    return out


def _get(r: dict[str, Any], *path: Any) -> Any:
    """r[path[0]][path[1]]…, or None where a section did not run or failed."""
    for key in path:
        if not isinstance(r, dict) or key not in r:
            return None
        r = r[key]
    return r


def markdown(results: list[dict[str, Any]], imports: list[dict[str, Any]] | None = None) -> str:
    head = "| | " + " | ".join(f"{r['database']} {r['recommendations']:,}" for r in results) + " |"
    lines = [head, "|---" * (len(results) + 1) + "|"]

    def row(label: str, cell: Any) -> None:
        cells = []
        for r in results:
            try:
                value = cell(r)
            except (KeyError, TypeError, ZeroDivisionError):
                value = None
            cells.append("—" if value is None else str(value))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    for name in results[0]["endpoints"]:
        row(
            f"{name}: p50 / p95 ms (req/s)",
            lambda r, n=name: (
                f"{r['endpoints'][n]['p50_ms']} / {r['endpoints'][n]['p95_ms']} ({r['endpoints'][n]['rps']})"
            ),
        )
    row("list vs ceiling (p50)", lambda r: f"{r['targets']['list_vs_ceiling']['measured']}×")
    row(
        "API list vs ceiling (p50)",
        lambda r: (
            f"{round(r['endpoints']['API: recommendations list']['p50_ms'] / r['endpoints']['ceiling: list query as JSON']['p50_ms'], 2)}×"
        ),
    )
    row("deep page vs first (p50)", lambda r: f"{r['targets']['deep_vs_first']['measured']}×")
    for key, label in (
        ("dashboard_after_write", "dashboard, OIG staff"),
        ("liaison_dashboard_after_write", "dashboard, FEMA liaison"),
        ("list_after_write", "list, first page"),
    ):
        row(
            f"first view after a write, {label}: p50 / max ms",
            lambda r, k=key: f"{r['cold'][k]['p50_ms']} / {r['cold'][k]['max_ms']}",
        )
    for kind in ("one word", "several words", "acronym"):
        row(
            f"search, {kind}: p50 / p95 ms",
            lambda r, k=kind: (
                f"{r['cold']['search'][k]['p50_ms']} / {r['cold']['search'][k]['p95_ms']} "
                f"({r['cold']['search'][k]['query']!r})"
            ),
        )
    for fmt in ("csv", "xlsx"):
        row(
            f"{fmt.upper()} export of every row: first byte s, done s, peak MB",
            lambda r, f=f"{fmt}_every_row": (
                f"{r['exports'][f]['first_byte_s']}, {r['exports'][f].get('done_s', r['exports'][f].get('total_s'))}, "
                f"{r['exports'][f]['peak_process_mb']} ({r['exports'][f].get('via')})"
            ),
        )
    for target in (100, 1000):
        row(
            f"portfolio PDF ~{target} (web): recs, s, peak MB",
            lambda r, t=target: (
                f"{r['pdfs'][f'pdf_{t}']['recommendations']}, {r['pdfs'][f'pdf_{t}']['seconds']} s, "
                f"{r['pdfs'][f'pdf_{t}']['peak_process_mb']} MB"
            ),
        )
    row(
        "cached PDF re-download p50 / p95 ms",
        lambda r: f"{r['pdfs']['pdf_cached']['p50_ms']} / {r['pdfs']['pdf_cached']['p95_ms']}",
    )
    row(
        "portfolio PDF vs naive baseline, 1,000 (A B A B): wall / CPU ratio",
        lambda r: (
            f"{r['pdf_baseline']['ratio_to_baseline']}× / {r['pdf_baseline']['cpu_ratio_to_baseline']}×"
        ),
    )
    for n in ("1000", "5000", "10000"):
        row(
            f"portfolio PDF of {int(n):,}: s (CPU s), peak MB, pages",
            lambda r, n=n: (
                f"{r['pdf_baseline']['sizes'][n]['seconds']} ({r['pdf_baseline']['sizes'][n]['cpu_seconds']}), "
                f"{r['pdf_baseline']['sizes'][n]['peak_tree_mb']}, {r['pdf_baseline']['sizes'][n].get('pages')}"
            ),
        )
    row(
        "portfolio PDF growth (time ×, for rows ×)",
        lambda r: (
            "; ".join(
                f"{k}: {v['seconds_factor']}× for {v['size_factor']}×"
                for k, v in r["pdf_baseline"]["growth"].items()
            )
            or None
        ),
    )
    for page in ("dashboard", "list"):
        row(
            f"{page} beside 7 jobs (4 PDFs, 2 exports, 1 import): p50 / p99 / max ms (views)",
            lambda r, p=page: (
                f"{r['heavy']['pages_while_jobs_run'][p]['p50_ms']} / {r['heavy']['pages_while_jobs_run'][p]['p99_ms']}"
                f" / {r['heavy']['pages_while_jobs_run'][p]['max_ms']} ({r['heavy']['pages_while_jobs_run'][p]['count']})"
            ),
        )
        row(
            f"{page} alone, same readers: p50 / p99 / max ms",
            lambda r, p=page: (
                f"{r['heavy']['pages_alone'][p]['p50_ms']} / {r['heavy']['pages_alone'][p]['p99_ms']}"
                f" / {r['heavy']['pages_alone'][p]['max_ms']}"
            ),
        )
    row(
        "the 7 jobs: s until the last was done; files right",
        lambda r: (
            f"{r['heavy']['jobs_seconds']} s; {r['heavy']['targets']['jobs_done_by_the_worker']['measured']} of "
            f"{len(r['heavy']['jobs'])}"
        ),
    )
    row(
        "import upload (web dry run): rows, s",
        lambda r: (
            f"{r['heavy']['import_upload'].get('rows')}, {r['heavy']['import_upload'].get('dry_run_seconds')}"
        ),
    )
    row(
        "a day's digests for 2,000 users: s, peak MB, messages",
        lambda r: (
            f"{r['digests']['seconds']} s, {r['digests']['peak_rss_mb']} MB, {r['digests']['messages_queued']}"
        ),
    )
    for page in ("dashboard", "list, first page"):
        row(
            f"{page}, req/s: one instance → two (4 connections)",
            lambda r, p=page: (
                f"{r['servers']['pages'][p]['one_instance']['rps']} → {r['servers']['pages'][p]['two_instances']['rps']}"
                f" ({r['servers']['pages'][p]['ratio']}×)"
            ),
        )
    row(
        "20 clients × 30 s: reads, writes, errors",
        lambda r: f"{r['mixed_load']['reads']}, {r['mixed_load']['writes']}, {r['mixed_load']['errors']}",
    )
    row("audit events of writes", lambda r: str(r["mixed_load"]["audit_events_of_writes"]))
    row("build (demo-data) s", lambda r: str(r["build_seconds"]))
    errors = [
        f"{r['database']} {r['recommendations']:,} {k}: {v['error']}"
        for r in results
        for k, v in r.items()
        if isinstance(v, dict) and "error" in v
    ]
    if imports:
        lines += ["", "Import (`flask import` into a fresh database): s (CPU s), peak MB", ""]
        lines += [
            "| file | "
            + " | ".join(f"{i['database']} dry run | {i['database']} commit" for i in imports)
            + " |"
        ]
        lines += ["|---" * (2 * len(imports) + 1) + "|"]
        keys = sorted(
            {k for i in imports for k in i.get("runs", {})}, key=lambda k: (k.split()[0], int(k.split()[1]))
        )
        for key in keys:
            cells = []
            for i in imports:
                run_ = i.get("runs", {}).get(key)
                for step in ("dry_run", "commit"):
                    cells.append(
                        f"{run_[step]['seconds']} ({run_[step]['cpu_seconds']}), {run_[step]['peak_mb']}"
                        if run_
                        else "—"
                    )
            lines.append(f"| {key} rows | " + " | ".join(cells) + " |")
        for i in imports:
            if "skipped" in i:
                lines.append(
                    f"\n{i['database']}: not measured: {', '.join(f'{n:,}' for n in i['skipped']['sizes'])} rows ({i['skipped']['why']})."
                )
            if "error" in i:
                errors.append(f"{i['database']} imports: {i['error']}")
    missed = [
        f"{r['database']} {r['recommendations'] or 'imports'}: {k} {v['measured']} (target {v['target']})"
        for r in [*results, *({**i, "recommendations": 0} for i in imports or [])]
        for k, v in r.get("targets", {}).items()
        if not v["met"]
    ]
    lines += ["", "Targets missed: " + ("; ".join(missed) if missed else "none.")]
    if errors:
        lines += ["", "Sections that failed: " + "; ".join(errors)]
    return "\n".join(lines) + "\n"


def main() -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (make bench installs it: apt-get install wrk)")
    OUT.mkdir(parents=True, exist_ok=True)
    results: list[dict[str, Any]] = []
    imports: list[dict[str, Any]] = []
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    for kind in DATABASES:
        for scale in SCALES:
            result = bench_one(kind, scale)
            result["targets"] = check(result)
            results.append(result)
            record(
                results, imports, commit.stdout.strip()
            )  # after each step: a long run stopped keeps the rest
        if not SECTIONS or "imports" in SECTIONS:
            imports.append(import_growth(kind))
            record(results, imports, commit.stdout.strip())
    print(markdown(results, imports))


def record(results: list[dict[str, Any]], imports: list[dict[str, Any]], commit: str) -> None:
    """Write bench/results.json, bench/results.md and README's table with what ran so far."""
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "settings": {
            "gunicorn_workers": 2,
            "wrk_connections": 2,
            "wrk_seconds": SECONDS,
            "signed_in_as": "OIG staff, except the rows naming the FEMA liaison",
        },
        "commit": commit,
        "runs": results,
        "imports": imports,
    }
    # Runs of other scenarios (bench/jobs_load.py: "scenario": "jobs") and their section
    # of results.md are kept.
    path, md = ROOT / "bench" / "results.json", ROOT / "bench" / "results.md"
    others = [r for r in json.loads(path.read_text())["runs"] if r.get("scenario")] if path.exists() else []
    report["runs"] = [*results, *others]
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    if not results:
        return
    table = markdown(results, imports)
    kept = md.read_text().split("\n## ", 1)[1:] if md.exists() else []
    md.write_text(table + "".join(f"\n## {part}" for part in kept))
    readme = ROOT / "README.md"
    text = readme.read_text()
    if README_BEGIN in text and README_END in text:  # README's Performance table, replaced
        head, rest = text.split(README_BEGIN, 1)
        readme.write_text(head + README_BEGIN + "\n" + table + README_END + rest.split(README_END, 1)[1])


README_BEGIN, README_END = "<!-- make bench: begin -->", "<!-- make bench: end -->"


def import_growth(kind: str) -> dict[str, Any]:
    """Item 7: import of growing files into a fresh database of this kind."""
    import imports as import_bench

    started = time.perf_counter()
    try:
        sizes = tuple(int(x) for x in os.environ.get("BENCH_IMPORT_SIZES", "1000,10000,50000").split(","))
        out = import_bench.measure(kind, PG_URL if kind == "postgresql" else None, sizes)
    except Exception as exc:
        out = {"error": f"{type(exc).__name__}: {exc}"}
    out["database"], out["seconds"] = kind, round(time.perf_counter() - started, 1)
    log(f"{kind} imports: {json.dumps(out, default=str)[:800]}")
    return out


if __name__ == "__main__":
    main()
