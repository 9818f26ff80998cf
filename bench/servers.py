"""Benchmark 2, item 8: requests per second with one and with two app instances on one
database.

Each instance is the deployed gunicorn (gunicorn.conf.py, 2 workers) on its own port. The
same load, wrk with CONNECTIONS connections for SECONDS seconds per page, signed in as
OIG staff, goes to one instance, then is split evenly between two (one wrk per instance,
run at the same time; their requests added up). On a 2-core machine the second instance
adds processes, not cores: the figure shows the cost of running two more than any gain.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import SECONDS, Client, log, server, wrk

CONNECTIONS = 4
PAGES = {"dashboard": "/", "list, first page": "/recommendations"}


def _both(bases: list[tuple[str, int]], path: str, cookies: list[str]) -> dict[str, Any]:
    results: list[dict[str, Any]] = [{} for _ in bases]

    def one(n: int) -> None:
        results[n] = wrk(bases[n], path, cookies[n], connections=CONNECTIONS // len(bases))

    threads = [threading.Thread(target=one, args=(n,)) for n in range(len(bases))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {
        "rps": round(sum(r["rps"] for r in results), 1),
        "errors": sum(r["errors"] for r in results),
        "p50_ms": [r["p50_ms"] for r in results],
        "p99_ms": [r["p99_ms"] for r in results],
    }


def measure(env: dict[str, str]) -> dict[str, Any]:
    """Requests per second of each page on one instance, then on two."""
    out: dict[str, Any] = {"connections": CONNECTIONS, "seconds": SECONDS, "pages": {}}
    with server(env) as (first, _m1), server(env) as (second, _m2):
        cookies = [Client(first).sign_in("oig").cookie, Client(second).sign_in("oig").cookie]
        for name, path in PAGES.items():
            for n, base in enumerate((first, second)):  # warm both instances' caches
                wrk(base, path, cookies[n], seconds=2)
            alone = wrk(first, path, cookies[0], connections=CONNECTIONS)
            two = _both([first, second], path, cookies)
            out["pages"][name] = {
                "one_instance": {"rps": alone["rps"], "errors": alone["errors"], "p99_ms": alone["p99_ms"]},
                "two_instances": two,
                "ratio": round(two["rps"] / max(alone["rps"], 0.1), 2),
            }
            log(f"servers {name}: {out['pages'][name]}")
    out["cpus"] = os.cpu_count()
    return out
