"""Benchmark 2, item 2: page views while heavy work runs as jobs.

With gunicorn (2 workers) and ONE Celery worker (one job at a time, Redis broker on its own
database number, flushed first), signed in as OIG staff: two readers view the dashboard
and the recommendation list in turn at a steady rate, first alone, then while seven jobs
run: four uncached portfolio PDFs, two exports of every recommendation (CSV and XLSX) and
one import of about IMPORT_ROWS rows (its dry run happens before, in the upload request,
as a user's would; its commit is the job). Reports each page's p50 / p95 / p99 / max while
the jobs run, each job's seconds from the ask to "done", and checks each job's file.

`measure(env)` is called by bench/run.py for every database and scale; this module runs
alone against an already built database too: `python bench/heavy.py DATABASE_URL`.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import secrets
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from jobs_load import (  # the worker, the job bookkeeping and the percentiles of issue 13
    REDIS,
    celery_worker,
    cpu_busy,
    forget_jobs,
    job_rows,
    machine_load,
    pick_pdfs,
    summary,
)
from run import Client, csrf, log, server

RATE = float(os.environ.get("BENCH_HEAVY_RATE", "5"))  # views a second per reader
READERS = 2
IMPORT_ROWS = int(os.environ.get("BENCH_HEAVY_IMPORT_ROWS", "1000"))
JOB_TIMEOUT = 1800
TARGET_P99_MS = 100
PAGES = {"dashboard": "/", "list": "/recommendations"}


class Readers:
    """Signed-in readers viewing PAGES in turn, RATE views a second each, until stopped;
    each latency recorded with the page and when it started."""

    def __init__(self, clients: list[Client]) -> None:
        self.samples: list[tuple[str, float, float]] = []
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._run, args=(c, n), daemon=True) for n, c in enumerate(clients)
        ]

    def _run(self, client: Client, n: int) -> None:
        interval, due, turn = 1 / RATE, time.monotonic(), n
        names = list(PAGES)
        while not self.stop.is_set():
            due += interval
            self.stop.wait(max(0.0, due - time.monotonic()))
            due = max(due, time.monotonic() - interval)  # a late view does not start a burst
            if self.stop.is_set():
                break
            name = names[turn % len(names)]
            turn += 1
            started = time.monotonic()
            try:
                status, _b, _h, elapsed = client.get(PAGES[name])
                with self.lock:
                    if status == 200:
                        self.samples.append((name, started, elapsed * 1000))
                    else:
                        self.errors.append(f"{name}: status {status}")
            except Exception as exc:
                with self.lock:
                    self.errors.append(f"{name}: {type(exc).__name__}: {exc}")

    def __enter__(self) -> Readers:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(60)

    def between(self, start: float, end: float) -> dict[str, Any]:
        return {
            name: summary([ms for n, at, ms in self.samples if n == name and start <= at <= end], 0)
            for name in PAGES
        } | {"errors": len(self.errors)}


def follow(client: Client, job: dict[str, Any], ask: Any) -> None:
    """Ask for a job (`ask()` returns the status and headers of a 303 to it), poll its
    status until it ends, then download its file."""
    started = time.monotonic()
    status, headers = ask()
    location = headers.get("Location", "")
    match = re.search(r"/jobs/([0-9a-f]{32})$", location)
    if status not in (302, 303) or not match:
        job["error"] = f"expected a redirect to a job, got {status} {location!r}"
        return
    job_id = job["job"] = match.group(1)
    state: dict[str, Any] = {}
    while time.monotonic() < started + JOB_TIMEOUT:
        _s, body, _h, _t = client.get(f"/jobs/{job_id}/status.json")
        state = json.loads(body)
        if state["state"] not in ("queued", "running"):
            break
        time.sleep(0.25)
    job["ended_at"] = time.monotonic()
    job["seconds_to_done"] = round(job["ended_at"] - started, 2)
    job["state"] = state.get("state")
    if state.get("state") != "done":
        job["error"] = f"job ended {state.get('state')}: {state.get('error')}"
        return
    status, body, headers, _t = client.get(f"/jobs/{job_id}/download")
    job["bytes"] = len(body)
    kind = headers.get("Content-Type", "")
    job["file_ok"] = status == 200 and (
        (job["kind"] == "pdf" and body.startswith(b"%PDF-"))
        or (job["kind"] == "csv" and kind.startswith("text/csv") and body.count(b"\n") > 1)
        or (job["kind"] == "xlsx" and body.startswith(b"PK"))
        or (job["kind"] == "import" and body.startswith(b"Imported "))
    )


def multipart(fields: dict[str, str], name: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = "bench" + secrets.token_hex(8)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        "Content-Type: text/csv\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def import_file(client: Client, pdfs: list[dict[str, Any]]) -> tuple[bytes, int]:
    """About IMPORT_ROWS rows of new reports: the app's own export of a filtered list
    (small enough to be sent at once), each report renumbered "BENCH-…" so that the
    import creates them."""
    for pdf in sorted(pdfs, key=lambda p: p["recommendations"]):
        query = pdf["path"].split("?", 1)[1]
        status, body, headers, _t = client.get(f"/recommendations/export.csv?{query}")
        if status == 200 and headers.get("Content-Type", "").startswith("text/csv"):
            break
    else:
        raise RuntimeError("no filtered export small enough to send at once")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))[:IMPORT_ROWS]
    keep = {r["report_number"] for r in rows}
    # whole reports only: a report cut in two would be imported as half of itself
    last = rows[-1]["report_number"]
    rows = [r for r in rows if r["report_number"] != last] or rows
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    tag = secrets.token_hex(2).upper()
    for row in rows:
        if row["report_number"] in keep:
            row["report_number"] = f"BENCH{tag}-{row['report_number']}"
        writer.writerow(row)
    return out.getvalue().encode(), len(rows)


def upload(client: Client, data: bytes) -> tuple[dict[str, Any], str | None]:
    """The upload page's dry run (timed) and the token of the staged file."""
    _s, page, _h, _t = client.get("/import")
    body, content_type = multipart({"csrf_token": csrf(page)}, "file", "bench-import.csv", data)
    started = time.perf_counter()
    client.conn.request(
        "POST", "/import", body=body, headers={"Cookie": client.cookie, "Content-Type": content_type}
    )
    response = client.conn.getresponse()
    page = response.read()
    seconds = time.perf_counter() - started
    token = re.search(rb'name="token" type="hidden" value="([^"]+)"', page)
    result = {"status": response.status, "dry_run_seconds": round(seconds, 2), "passed": bool(token)}
    if not token:
        problems = re.findall(rb"<td[^>]*>([^<]{0,160})</td>", page)[:6]
        result["problems"] = [p.decode(errors="replace") for p in problems]
    return result, token.group(1).decode() if token else None


def measure(env: dict[str, str], seconds_alone: int = 10) -> dict[str, Any]:
    """Page views alone, then beside seven jobs; see the module's docstring."""
    url = env["DATABASE_URL"]
    forgotten = forget_jobs(url)
    pdfs = pick_pdfs(url)
    env = {**env, "JOBS_BACKEND": "celery", "CELERY_BROKER_URL": REDIS}
    hostname = f"bench-heavy-{secrets.token_hex(3)}@{os.uname().nodename}"
    result: dict[str, Any] = {
        "settings": {
            "gunicorn_workers": 2,
            "celery_workers": 1,
            "celery_pool": "solo",
            "readers": READERS,
            "views_per_second_per_reader": RATE,
            "jobs_forgotten_before": forgotten,
        }
    }
    with server(env) as (base, _master), celery_worker(env, hostname):
        readers = [Client(base).sign_in("oig") for _ in range(READERS)]
        askers = [Client(base).sign_in("oig") for _ in range(7)]
        data, rows = import_file(askers[6], pdfs)
        (Path(env["INSTANCE_PATH"]) / "bench-import.csv").write_bytes(data)  # to repeat by hand
        try:
            result["import_upload"], token = upload(askers[6], data)
        except OSError as exc:  # e.g. the web worker timed out on the dry run
            result["import_upload"], token = {"error": f"{type(exc).__name__}: {exc}"}, None
            askers[6] = Client(base).sign_in("oig")
        result["import_upload"]["rows"] = rows
        log(f"heavy: import upload {result['import_upload']}")
        with Readers(readers):  # warm-up: both web workers fill their caches
            time.sleep(3)
        with Readers(readers) as alone:
            start, busy = time.monotonic(), cpu_busy()
            time.sleep(seconds_alone)
        result["pages_alone"] = alone.between(start, time.monotonic())
        result["machine_alone"] = machine_load(busy)

        jobs: list[dict[str, Any]] = [
            {
                "kind": "pdf",
                "what": f"portfolio PDF, {p['filter']}",
                "recommendations": p["recommendations"],
                "path": p["path"],
            }
            for p in pdfs
        ]
        jobs += [
            {
                "kind": "csv",
                "what": "CSV export of every recommendation",
                "path": "/recommendations/export.csv",
            },
            {
                "kind": "xlsx",
                "what": "XLSX export of every recommendation",
                "path": "/recommendations/export.xlsx",
            },
        ]

        def getter(client: Client, path: str) -> Any:
            def ask() -> tuple[int, dict[str, str]]:
                status, _b, headers, _t = client.get(path)
                return status, headers

            return ask

        def committer(client: Client) -> Any:
            def ask() -> tuple[int, dict[str, str]]:
                _s, page, _h, _t = client.get("/import")
                status, _b, headers, _t = client.post(
                    "/import/commit", {"csrf_token": csrf(page), "token": token or ""}
                )
                return status, headers

            return ask

        asks = [getter(askers[n], job["path"]) for n, job in enumerate(jobs)]
        if token:
            jobs.append({"kind": "import", "what": f"import of {rows} rows (commit)"})
            asks.append(committer(askers[6]))
        with Readers(readers) as loaded:
            time.sleep(1)
            first_ask, busy = time.monotonic(), cpu_busy()
            threads = [
                threading.Thread(target=follow, args=(askers[n], job, asks[n]), daemon=True)
                for n, job in enumerate(jobs)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join(JOB_TIMEOUT + 60)
            last_done = max((j.get("ended_at", time.monotonic()) for j in jobs), default=time.monotonic())
        result["machine_while_jobs_run"] = machine_load(busy)
        result["pages_while_jobs_run"] = loaded.between(first_ask, last_done)
        result["jobs_seconds"] = round(last_done - first_ask, 1)
        result["error_samples"] = (alone.errors + loaded.errors)[:5]
    made = job_rows(url, [j["job"] for j in jobs if "job" in j])
    for job in jobs:
        job.pop("ended_at", None)
        job["made_by_bench_worker"] = (made.get(job.get("job", ""), {}).get("worker") or "").startswith(
            hostname
        )
    result["jobs"] = jobs
    p99 = {name: result["pages_while_jobs_run"][name].get("p99_ms") for name in PAGES}
    done = sum(1 for j in jobs if j.get("file_ok") and j.get("made_by_bench_worker"))
    result["targets"] = {
        "dashboard_p99_while_jobs_run_ms": {
            "measured": p99["dashboard"],
            "target": TARGET_P99_MS,
            "met": p99["dashboard"] is not None and p99["dashboard"] <= TARGET_P99_MS,
        },
        "jobs_done_by_the_worker": {"measured": done, "target": 7, "met": done == 7},
    }
    log(f"heavy: pages while jobs run {result['pages_while_jobs_run']}; jobs {result['jobs_seconds']} s")
    return result


if __name__ == "__main__":  # python bench/heavy.py DATABASE_URL (a database bench/run.py built)
    from run import app_env

    database = sys.argv[1]
    print(json.dumps(measure(app_env(database, 0, "heavy")), indent=2, default=str))
