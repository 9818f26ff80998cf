"""Exports benchmark: time to first byte of every export (issue 18: ≤ 2 s at 100,000
recommendations), total time, bytes and peak memory.

`measure(env, base, cookie, master_pid)` runs against a gunicorn started by bench/run.py
(`server`) with the cookie of an OIG staff member, for CSV and XLSX:

- "every row" (/recommendations/export.csv and .xlsx, no filter). Above
  EXPORT_JOB_THRESHOLD recommendations the export is a background job: the first byte is
  that of the answer (a 303 to the job's page) and the page itself is fetched too; the job
  is followed (its status, as the page's script does) until its file is done, and the file
  is downloaded. A Celery worker (one, solo pool) is started for it on the server's
  broker and stopped afterwards; its memory counts with the app's.
- "streamed": the largest single-year list below the threshold (the biggest file a
  request writes itself), streamed.

Peak memory: the largest single process and the sum, over gunicorn's workers and the
Celery worker (sampled every 20 ms from /proc, as bench/run.py's Sampler).

Standalone (`.venv/bin/python bench/exports.py`): builds a SQLite database of
BENCH_EXPORTS_SCALE (10,000) recommendations under bench/out, serves it and measures;
BENCH_EXPORTS_DATABASE=postgresql uses BENCH_PG_URL's server (database
rectrack_exports_<scale>, dropped afterwards). Writes bench/out/exports-<db>-<scale>.json.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import OUT, PG_URL, ROOT, VENV, Client, build, log, process_tree, rss_mb, server

FIRST_BYTE_TARGET_S = 2.0
JOB_TIMEOUT_S = 900


class TreeSampler:
    """Peak RSS over the process trees of several roots (the roots themselves left out
    when `skip_roots`: gunicorn's master does no request work)."""

    def __init__(self, roots: list[int], skip_roots: set[int]) -> None:
        self.roots, self.skip = roots, skip_roots
        self.peak_process = self.peak_total = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = [p for root in self.roots for p in process_tree(root) if p not in self.skip]
            sizes = [rss_mb(p) for p in pids]
            if sizes:
                self.peak_process = max(self.peak_process, max(sizes))
                self.peak_total = max(self.peak_total, sum(sizes))
            time.sleep(0.02)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def fetch(base: tuple[str, int], cookie: str, path: str) -> dict[str, Any]:
    """One GET on a fresh connection: status, time to the first byte of the body (or of
    the headers when there is no body), total time, bytes, headers."""
    conn = http.client.HTTPConnection(*base, timeout=600)
    started = time.perf_counter()
    conn.request("GET", path, headers={"Cookie": cookie})
    response = conn.getresponse()
    first = response.read(1)
    first_byte = time.perf_counter() - started
    size = len(first)
    while block := response.read(256 * 1024):
        size += len(block)
    total = time.perf_counter() - started
    headers = dict(response.getheaders())
    conn.close()
    return {
        "status": response.status,
        "first_byte_s": round(first_byte, 3),
        "seconds": round(total, 2),
        "bytes": size,
        "headers": headers,
    }


@contextmanager
def celery_worker(env: dict[str, str], name: str = "exports") -> Iterator[int]:
    """One Celery worker (solo pool) on the server's broker, logging to
    celery-<name>.log in the instance folder; its process group is stopped on the way out."""
    log_path = Path(env["INSTANCE_PATH"]) / f"celery-{name}.log"
    out = log_path.open("w")
    process = subprocess.Popen(
        [
            str(VENV / "celery"),
            "-A",
            "app.jobs.worker",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--loglevel=INFO",
            f"--hostname=bench-{name}-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while " ready." not in log_path.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Celery worker did not start: {log_path.read_text()[-4000:]}")
            time.sleep(0.2)
        yield process.pid
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
        out.close()


def follow_job(base: tuple[str, int], cookie: str, location: str, started: float) -> dict[str, Any]:
    """The job's page (first byte), then its status until done, then its file."""
    path = location.split("://", 1)[-1]
    path = path[path.index("/") :] if not location.startswith("/") else location
    asked = time.perf_counter() - started
    page = fetch(base, cookie, path)
    out: dict[str, Any] = {
        "page_status": page["status"],
        "page_first_byte_s": round(asked + page["first_byte_s"], 3),  # from the click
    }
    match = re.search(r"/jobs/([0-9a-f]{32})", path)
    if not match:
        out["error"] = f"no job in {location!r}"
        return out
    job_id = match.group(1)
    client = Client(base)
    client.cookie = cookie
    state: dict[str, Any] = {}
    while time.perf_counter() - started < JOB_TIMEOUT_S:
        _s, body, _h, _t = client.get(f"/jobs/{job_id}/status.json")
        state = json.loads(body)
        if state["state"] not in ("queued", "running"):
            break
        time.sleep(0.25)
    out["done_s"] = round(time.perf_counter() - started, 2)
    out["state"] = state.get("state")
    if state.get("state") != "done":
        out["error"] = f"job ended {state.get('state')}: {state.get('error')}"
        return out
    download = fetch(base, cookie, f"/jobs/{job_id}/download")
    out["download_status"], out["bytes"] = download["status"], download["bytes"]
    out["download_s"] = download["seconds"]
    out["total_s"] = round(time.perf_counter() - started, 2)
    return out


def export(base: tuple[str, int], cookie: str, roots: list[int], skip: set[int], path: str) -> dict[str, Any]:
    with TreeSampler(roots, skip) as sampler:
        started = time.perf_counter()
        answer = fetch(base, cookie, path)
        result: dict[str, Any] = {
            "path": path,
            "status": answer["status"],
            "first_byte_s": answer["first_byte_s"],
        }
        if answer["status"] == 303:
            result["via"] = "job"
            result.update(follow_job(base, cookie, answer["headers"].get("Location", ""), started))
            # what the user waits for before seeing a page: the answer and the page
            result["first_byte_s"] = result.pop("page_first_byte_s", answer["first_byte_s"])
            result["answer_first_byte_s"] = answer["first_byte_s"]
        else:
            result["via"] = "stream"
            result["total_s"], result["bytes"] = answer["seconds"], answer["bytes"]
            result["type"] = answer["headers"].get("Content-Type")
    result["peak_process_mb"] = round(sampler.peak_process, 1)
    result["peak_total_mb"] = round(sampler.peak_total, 1)
    log(f"export {path}: {result}")
    return result


def below_threshold_year(env: dict[str, str]) -> tuple[int, int] | None:
    """The year whose recommendations are the most that stay at or below the job
    threshold (every recommendation is visible to OIG staff): (year, count)."""
    import sqlalchemy as sa

    threshold = int(env.get("EXPORT_JOB_THRESHOLD") or 5000)
    engine = sa.create_engine(env["DATABASE_URL"])
    counts: dict[int, int] = {}
    with engine.connect() as conn:
        for issued, count in conn.execute(
            sa.text(
                "SELECT r.issued_on, count(*) FROM recommendations c JOIN reports r ON r.id = c.report_id "
                "GROUP BY r.issued_on"
            )
        ):
            if issued is not None:
                year = int(str(issued)[:4])
                counts[year] = counts.get(year, 0) + count
    engine.dispose()
    fitting = [(n, y) for y, n in counts.items() if n <= threshold]
    if not fitting:
        return None
    n, year = max(fitting)
    return year, n


def measure(env: dict[str, str], base: tuple[str, int], cookie: str, master_pid: int) -> dict[str, Any]:
    """CSV and XLSX exports of every row and the largest streamed one, against a running
    gunicorn (master_pid) as the OIG staff member whose session cookie is given."""
    result: dict[str, Any] = {"first_byte_target_s": FIRST_BYTE_TARGET_S}
    for _ in range(4):  # both workers warm (a user's click meets a running server)
        fetch(base, cookie, "/recommendations")
    with celery_worker(env) as worker:
        roots, skip = [master_pid, worker], {master_pid}
        for kind in ("csv", "xlsx"):
            result[f"{kind}_every_row"] = export(base, cookie, roots, skip, f"/recommendations/export.{kind}")
        year = below_threshold_year(env)
        if year is not None:
            for kind in ("csv", "xlsx"):
                measured = export(base, cookie, roots, skip, f"/recommendations/export.{kind}?year={year[0]}")
                result[f"{kind}_streamed"] = {**measured, "recommendations": year[1]}
    targets = {}
    for key, value in result.items():
        if isinstance(value, dict) and "first_byte_s" in value:
            ok = value["status"] in (200, 303) and "error" not in value
            targets[f"{key}_first_byte_s"] = {
                "measured": value["first_byte_s"],
                "target": FIRST_BYTE_TARGET_S,
                "met": ok and value["first_byte_s"] <= FIRST_BYTE_TARGET_S,
            }
    result["targets"] = targets
    return result


def main() -> None:
    scale = int(os.environ.get("BENCH_EXPORTS_SCALE", "10000"))
    kind = os.environ.get("BENCH_EXPORTS_DATABASE", "sqlite")
    OUT.mkdir(parents=True, exist_ok=True)
    url = None
    name = f"rectrack_exports_{scale}"
    if kind == "postgresql":
        import sqlalchemy as sa

        admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
        url = sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{OUT / f'bench-exports-{scale}.sqlite'}"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{OUT / f'bench-exports-{scale}.sqlite'}{suffix}").unlink(missing_ok=True)
    try:
        env, built = build(kind, scale, url=url, instance=f"exports-{kind}")
        with server(env) as (base, master):
            cookie = Client(base).sign_in("oig").cookie
            result = {
                "database": kind,
                "recommendations": scale,
                **built,
                **measure(env, base, cookie, master),
            }
    finally:
        if kind == "postgresql" and os.environ.get("BENCH_EXPORTS_KEEP") != "1":
            admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            admin.dispose()
    path = OUT / f"exports-{kind}-{scale}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(json.dumps(result["targets"], indent=2))


if __name__ == "__main__":
    main()
