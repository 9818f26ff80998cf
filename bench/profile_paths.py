"""Profiles of the pages whose Benchmark 2 targets were missed, on a database `make bench`
built (it keeps bench/out/bench-N.sqlite and the PostgreSQL database rectrack_bench_N).

In one process, through the app's test client, signed in as the bench's OIG staff member
or FEMA liaison, each page is requested ROUNDS times:

- "after a write" pages (OIG dashboard, FEMA liaison dashboard, list first page): the
  version-keyed cache is cleared before each request, which is what a write does to it;
- the list's first page and the ceiling (the list's main query as JSON), and search
  pages (one word, several words, an acronym): as they are, steady state.

For each page it prints the request's median milliseconds and every SQL statement's
median milliseconds (timed with before/after_cursor_execute), and writes to OUTDIR:
`<db>-<page>.txt`, a pyinstrument profile of those requests, and on PostgreSQL
`<db>-<page>-explain.txt`, EXPLAIN (ANALYZE, BUFFERS) of the three slowest statements
(EXPLAIN QUERY PLAN on SQLite).

`profile_paths.py OUTDIR pdf N` instead profiles the portfolio PDF of the list's first N
recommendations and the naive baseline of bench/pdf.py, rendered in this process.

Usage (after `make bench`):
  BENCH_PROFILE_DATABASE_URL=sqlite:///bench/out/bench-100000.sqlite \\
    .venv/bin/python bench/profile_paths.py docs/profiles
  BENCH_PROFILE_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/rectrack_bench_100000 \\
    .venv/bin/python bench/profile_paths.py docs/profiles
"""

from __future__ import annotations

import os
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

ROUNDS = int(os.environ.get("BENCH_PROFILE_ROUNDS", "10"))
PAGES: dict[str, tuple[str, str, bool]] = {  # name: (who, path, clear the cache first)
    "dashboard-oig-after-write": ("oig", "/", True),
    "dashboard-fema-after-write": ("fema", "/", True),
    "list-after-write": ("oig", "/recommendations", True),
    "list": ("oig", "/recommendations", False),
    "ceiling-list-query": ("oig", "/_bench/list-query", False),
    "search-one-word": ("oig", "/search?q=grant", False),
    "search-several-words": ("oig", "/search?q=grant+oversight", False),
    "search-acronym": ("oig", "/search?q=FEMA", False),
}


def main() -> None:
    url = os.environ["BENCH_PROFILE_DATABASE_URL"]
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/profiles")
    out.mkdir(parents=True, exist_ok=True)
    kind = "sqlite" if url.startswith("sqlite") else "postgresql"
    os.environ.update(
        {
            "APP_ENV": "development" if kind == "sqlite" else "production",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "DATABASE_URL": url,
            "INSTANCE_PATH": tempfile.mkdtemp(prefix="rectrack-profile-"),
            "RATELIMIT_STORAGE_URI": "memory://",
            "LOGIN_LIMIT_PER_ADDRESS": "10000 per minute",
            "MFA_REQUIRED_ROLES": "",
            "BENCH_ROUTES": "1",
        }
    )
    if len(sys.argv) > 3 and sys.argv[2] == "pdf":
        profile_pdf(out, kind, int(sys.argv[3]))
        return
    from pyinstrument import Profiler
    from run import PASSWORD, USERS, csrf
    from sqlalchemy import event

    from app import create_app
    from app.cache import derived
    from app.extensions import db

    app = create_app()
    timings: dict[str, list[float]] = defaultdict(list)
    params_of: dict[str, Any] = {}
    started: list[float] = []

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _before(_conn: Any, _cur: Any, statement: str, parameters: Any, *_a: Any) -> None:
        started.append(time.perf_counter())
        params_of.setdefault(statement, parameters)

    @event.listens_for(engine, "after_cursor_execute")
    def _after(_conn: Any, _cur: Any, statement: str, *_a: Any) -> None:
        timings[statement].append((time.perf_counter() - started.pop()) * 1000)

    clients = {}
    for who in ("oig", "fema"):
        client = app.test_client()
        page = client.get("/login").data
        response = client.post(
            "/login", data={"csrf_token": csrf(page), "email": USERS[who][0], "password": PASSWORD}
        )
        if response.status_code != 302:
            raise SystemExit(f"sign-in as {who} failed: {response.status_code}")
        clients[who] = client

    for name, (who, path, cold) in PAGES.items():
        client = clients[who]
        client.get(path)  # the worker's other caches (components, acronyms), as the bench's warm-up
        timings.clear()
        params_of.clear()
        totals = []
        profiler = Profiler(interval=0.0005)
        for _ in range(ROUNDS):
            if cold:
                derived.clear()
            begun = time.perf_counter()
            with profiler:
                response = client.get(path)
            totals.append((time.perf_counter() - begun) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{path} as {who}: {response.status_code}")
        per_request = {s: sum(t) / ROUNDS for s, t in timings.items()}
        slowest = sorted(per_request.items(), key=lambda kv: -kv[1])
        print(
            f"\n== {kind} {name}: request median {statistics.median(totals):.1f} ms "
            f"(min {min(totals):.1f}, max {max(totals):.1f}), {ROUNDS} requests; "
            f"SQL {sum(per_request.values()):.1f} ms a request in "
            f"{sum(len(t) for t in timings.values()) / ROUNDS:.0f} statements"
        )
        for statement, ms in slowest[:8]:
            print(f"  {ms:8.1f} ms  x{len(timings[statement]) // ROUNDS:<3} {_short(statement)}")
        (out / f"{kind}-{name}.txt").write_text(
            profiler.output_text(unicode=True, color=False, show_all=False, timeline=False)
        )
        _explain(engine, kind, out / f"{kind}-{name}-explain.txt", slowest[:3], params_of)


def profile_pdf(out: Path, kind: str, n: int) -> None:
    """pyinstrument profiles of the portfolio PDF of the list's first `n` recommendations
    and of bench/pdf.py's naive baseline of the same rows, rendered in this process (the
    app forks its renderer, which a profiler would not follow)."""
    from pdf import first_n
    from pyinstrument import Profiler

    with first_n(n) as make:
        for variant in ("app", "baseline"):
            profiler = Profiler(interval=0.001)
            began = time.perf_counter()
            with profiler:
                make(variant, in_process=True)
            print(f"== {kind} PDF {variant} {n}: {time.perf_counter() - began:.1f} s")
            (out / f"{kind}-pdf-{variant}-{n}.txt").write_text(
                profiler.output_text(unicode=True, color=False, show_all=False, timeline=False)
            )


def _short(statement: str) -> str:
    return re.sub(r"\s+", " ", statement)[:150]


def _explain(
    engine: Any, kind: str, path: Path, slowest: list[tuple[str, float]], params_of: dict[str, Any]
) -> None:
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if kind == "postgresql" else "EXPLAIN QUERY PLAN "
    parts = []
    raw = engine.raw_connection()
    try:
        for statement, ms in slowest:
            if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            cursor = raw.cursor()
            cursor.execute(prefix + statement, params_of.get(statement) or ())
            plan = "\n".join(" | ".join(str(c) for c in row) for row in cursor.fetchall())
            cursor.close()
            parts.append(
                f"-- {ms:.1f} ms a request\n{statement}\n-- parameters: {params_of.get(statement)}\n{plan}\n"
            )
        raw.rollback()
    finally:
        raw.close()
    path.write_text("\n".join(parts))


if __name__ == "__main__":
    main()
