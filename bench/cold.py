"""The first view after a write, and search, at scale (issue 18).

`measure(base, oig, fema, picks)` is called by bench/run.py with a running server, two
signed-in clients (OIG staff and the FEMA liaison) and the ids `pick()` chose. It times:

- the first view after a write (every write moves the data version on, so the cached
  dashboard numbers and list total are computed afresh) of the OIG dashboard, the
  liaison's dashboard and the list's first page: `WRITES` progress updates posted by the
  liaison, each followed by one view of the page measured (p50 and max);
- search with wrk (2 connections, after a 2 s warm-up) for a one-word, a multi-word and
  an acronym query, each its own row (p50 / p95).

Standalone (`.venv/bin/python bench/cold.py`): builds a SQLite database of
BENCH_COLD_SCALE recommendations (default 10,000; BENCH_COLD_DATABASE=postgresql and
BENCH_PG_URL for PostgreSQL), serves it and prints the figures as JSON.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import SECONDS, Client, build, csrf, log, pick, server, wrk

WRITES = 10
SEARCHES = {"one word": "grant", "several words": "grant oversight", "acronym": "FEMA"}
TARGETS = {"after_write_ms": 50, "search_p95_ms": 30}
PAGES = {
    "dashboard_after_write": ("oig", "/"),
    "liaison_dashboard_after_write": ("fema", "/"),
    "list_after_write": ("oig", "/recommendations"),
}


def _write(fema: Client, rec_id: int, addressee_id: int, n: int) -> None:
    """A progress update by the liaison (a write: the data version moves on)."""
    path = f"/recommendations/{rec_id}/components/{addressee_id}/update"
    _s, page, _h, _t = fema.get(path)
    version = re.search(rb'name="version" type="hidden" value="(\d+)"', page)
    status, _b, _h, _t = fema.post(
        path,
        {
            "csrf_token": csrf(page),
            "version": version.group(1).decode() if version else "",
            "text": f"Benchmark update {n} (first view after a write).",
        },
    )
    if status != 302:
        raise RuntimeError(f"the write was refused: {status}")


def _after_writes(fema: Client, reader: Client, path: str, writer: tuple[int, int]) -> dict[str, Any]:
    times = []
    for n in range(WRITES):
        _write(fema, *writer, n)
        status, _b, _h, seconds = reader.get(path)
        if status != 200:
            raise RuntimeError(f"{path}: {status}")
        times.append(seconds * 1000)
    times.sort()
    return {"n": len(times), "p50_ms": round(times[len(times) // 2], 1), "max_ms": round(times[-1], 1)}


def measure(base: tuple[str, int], oig: Client, fema: Client, picks: dict[str, Any]) -> dict[str, Any]:
    clients = {"oig": oig, "fema": fema}
    writer = tuple(picks["writers"][0])
    result: dict[str, Any] = {}
    # Each reader's first view warms its worker's other caches (components, acronyms).
    for who, path in PAGES.values():
        clients[who].get(path)
    for name, (who, path) in PAGES.items():
        result[name] = _after_writes(fema, clients[who], path, writer)
        log(f"cold {name}: {result[name]}")
    result["search"] = {}
    for kind, query in SEARCHES.items():
        path = "/search?" + urlencode({"q": query})
        wrk(base, path, oig.cookie, seconds=2)
        result["search"][kind] = {"query": query, **wrk(base, path, oig.cookie)}
        log(f"cold search {kind} {query!r}: {result['search'][kind]}")
    targets: dict[str, dict[str, Any]] = {}
    for name in PAGES:
        worst = result[name]["max_ms"]
        targets[f"{name}_max_ms"] = {
            "measured": worst,
            "target": TARGETS["after_write_ms"],
            "met": worst <= TARGETS["after_write_ms"],
        }
    for kind, row in result["search"].items():
        targets[f"search_{kind.replace(' ', '_')}_p95_ms"] = {
            "measured": row["p95_ms"],
            "target": TARGETS["search_p95_ms"],
            "met": row["p95_ms"] <= TARGETS["search_p95_ms"],
        }
    result["targets"] = targets
    result["settings"] = {"writes": WRITES, "wrk_seconds": SECONDS, "wrk_connections": 2}
    return result


def main() -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (make bench installs it: apt-get install wrk)")
    kind = os.environ.get("BENCH_COLD_DATABASE", "sqlite")
    scale = int(os.environ.get("BENCH_COLD_SCALE", "10000"))
    env, _built = build(kind, scale)
    picks = pick(env)
    with server(env) as (base, _master):
        oig = Client(base).sign_in("oig")
        fema = Client(base).sign_in("fema")
        result = {"database": kind, "recommendations": picks["total"], **measure(base, oig, fema, picks)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
