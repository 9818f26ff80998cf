"""The page rows and cold paths of bench/run.py again, against a database `make bench`
built and kept, after a change (a migration applied with `flask db upgrade`, or new app
code): the same harness functions, the same database, no rebuild.

Usage: BENCH_RECHECK_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/rectrack_bench_100000 \\
  .venv/bin/python bench/recheck.py OUT.json
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cold
import run

RECHECKED = {
    "dashboard",
    "list, first page",
    "list, deep keyset page",
    "search",
    "ceiling: list query as JSON",
    "API: recommendations list",
}


def main() -> None:
    url = os.environ["BENCH_RECHECK_DATABASE_URL"]
    kind = "sqlite" if url.startswith("sqlite") else "postgresql"
    env = run.app_env(url, 0, f"{kind}-recheck")
    picks = run.pick(env)
    out: dict[str, Any] = {"database": kind, "recommendations": picks["total"]}
    with run.server(env) as (base, _master):
        out["endpoints"] = run.page_rows(base, picks, f"{kind} recheck", RECHECKED)
    with run.server(env) as (base, _master):
        out["cold"] = cold.measure(
            base, run.Client(base).sign_in("oig"), run.Client(base).sign_in("fema"), picks
        )
    Path(sys.argv[1]).write_text(json.dumps(out, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
