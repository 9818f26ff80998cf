"""Bulk import benchmark: time and peak memory of `flask --app app import [--dry-run] FILE`.

For each size (rows of the file: 1,000 / 10,000 / 50,000 by default) and format (CSV,
XLSX) it builds a realistic file once (cached under bench/out/import-files): a scratch
SQLite database filled by `flask demo-data --reports N/10 --recommendations N/1.26`
(the export has one row per addressee, about 1.26 per recommendation), exported with the
app's own export code (the import format is the export format) as OIG staff, cut to N
rows. Repeat links that point at a report the file does not hold are blanked (the import
would rightly refuse them).

Then for each file: a freshly migrated database with the components seeded (`flask seed
--components-only`), a dry run, then the commit, each in a child process; the figures are
wall-clock seconds and the child's peak resident memory (getrusage of a wrapper that runs
only that child). On SQLite the database is a file under bench/out; on PostgreSQL a
database `rectrack_imports_bench` created and dropped on `pg_url`.

Standalone: `BENCH_IMPORT_SIZES=1000,5000 BENCH_IMPORT_DATABASES=sqlite .venv/bin/python
bench/imports.py` (BENCH_PG_URL: an admin URL of the PostgreSQL server; BENCH_IMPORT_FORMATS:
csv,xlsx).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
FILES = OUT / "import-files"
VENV = ROOT / ".venv" / "bin"
FLASK = [str(VENV / "flask"), "--app", "app"]
PG_DB = "rectrack_imports_bench"
FORMATS = os.environ.get("BENCH_IMPORT_FORMATS", "csv,xlsx").split(",")
# A size whose import would take longer than this (projected linearly from the size before)
# is not run, nor any larger one (recorded as skipped, with the projection).
LIMIT_SECONDS = float(os.environ.get("BENCH_IMPORT_LIMIT_SECONDS", "600"))
ROWS_PER_REC = 1.26

TARGETS = {"dry_run_50k_seconds": 60, "commit_50k_seconds": 120, "peak_mb": 300, "growth_50k_vs_10k": 6.0}

# Runs one child and reports its peak resident memory (the wrapper itself does nothing else).
WRAPPER = (
    "import resource, subprocess, sys\n"
    "r = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)\n"
    "sys.stdout.buffer.write(r.stdout); sys.stderr.buffer.write(r.stderr)\n"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print('PEAK_KB', u.ru_maxrss, 'CPU_S', u.ru_utime + u.ru_stime, file=sys.stderr)\n"
    "sys.exit(r.returncode)\n"
)


def log(message: str) -> None:
    print(f"[bench-imports {time.strftime('%H:%M:%S')}] {message}", flush=True)


def env_for(url: str, instance: Path) -> dict[str, str]:
    shutil.rmtree(instance, ignore_errors=True)
    instance.mkdir(parents=True)
    return {
        **os.environ,
        "APP_ENV": "development" if url.startswith("sqlite") else "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": url,
        "INSTANCE_PATH": str(instance),
        "RATELIMIT_STORAGE_URI": "memory://",
    }


def run(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def sqlite_url(path: Path) -> str:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


# --- files --------------------------------------------------------------------------------


def export_files(rows: int) -> dict[str, Path]:
    """CSV and XLSX files of `rows` rows (built once, then reused)."""
    FILES.mkdir(parents=True, exist_ok=True)
    paths = {"csv": FILES / f"import-{rows}.csv", "xlsx": FILES / f"import-{rows}.xlsx"}
    if all(p.exists() for p in paths.values()):
        return paths
    # about 1.26 rows a recommendation on average; 3% more so that a smaller draw still
    # fills the file (50,000 fell 77 rows short)
    recs = max(1, round(rows / ROWS_PER_REC * 1.03) + 10)
    env = env_for(sqlite_url(OUT / f"import-source-{rows}.sqlite"), OUT / f"instance-import-source-{rows}")
    run([*FLASK, "db", "upgrade"], env)
    run([*FLASK, "seed", "--components-only"], env)
    run(
        [
            *FLASK,
            "demo-data",
            "--reports",
            str(max(1, rows // 10)),
            "--recommendations",
            str(recs),
            "--seed",
            "1",
        ],
        env,
    )
    run([sys.executable, __file__, "--export", str(rows), str(paths["csv"]), str(paths["xlsx"])], env)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{OUT / f'import-source-{rows}.sqlite'}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(OUT / f"instance-import-source-{rows}", ignore_errors=True)
    return paths


def _export(rows: int, csv_path: str, xlsx_path: str) -> None:
    """In a child with DATABASE_URL set: write the export as CSV and XLSX, `rows` rows."""
    sys.path.insert(0, str(ROOT))
    from itertools import islice

    from app import create_app
    from app.auth.policy import Reader
    from app.exports import services
    from app.extensions import db
    from app.filters import RecFilters
    from app.models import Role
    from app.web import today

    app = create_app()
    with app.test_request_context("/"):
        day = today()
        every = list(islice(services.export_rows(db.session, Reader(Role.OIG), RecFilters(), day, 90), rows))
    if len(every) < rows:
        raise RuntimeError(f"the export has {len(every)} rows, fewer than {rows}")
    reports = {str(r["report_number"]).upper() for r in every if r.get("report_number")}
    for row in every:  # a repeat link to a report cut from the file would be refused
        if row.get("repeats_report") and str(row["repeats_report"]).upper() not in reports:
            row["repeats_report"] = row["repeats_number"] = None
    with open(csv_path, "w", encoding="utf-8", newline="") as handle:
        for chunk in services.csv_chunks(iter(every)):
            handle.write(chunk)
    with open(xlsx_path, "wb") as handle:
        for part in services.xlsx_chunks(iter(every)):
            handle.write(part)


# --- measuring ----------------------------------------------------------------------------


def fresh_database(kind: str, pg_url: str | None) -> str:
    if kind == "sqlite":
        return sqlite_url(OUT / "import-target.sqlite")
    import sqlalchemy as sa

    assert pg_url, "PostgreSQL needs pg_url"
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        conn.exec_driver_sql(f"CREATE DATABASE {PG_DB}")
    admin.dispose()
    return sa.engine.make_url(pg_url).set(database=PG_DB).render_as_string(hide_password=False)


def drop_database(kind: str, pg_url: str | None) -> None:
    if kind == "sqlite":
        sqlite_url(OUT / "import-target.sqlite")
        return
    import sqlalchemy as sa

    admin = sa.create_engine(pg_url or "", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
    admin.dispose()


def timed_import(env: dict[str, str], path: Path, dry_run: bool) -> dict[str, Any]:
    args = [sys.executable, "-c", WRAPPER, *FLASK, "import", *(["--dry-run"] if dry_run else []), str(path)]
    started = time.perf_counter()
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    usage = next((line.split() for line in result.stderr.splitlines() if line.startswith("PEAK_KB")), [])
    peak_kb, cpu = (int(usage[1]), float(usage[3])) if usage else (0, 0.0)
    if result.returncode != 0:
        raise RuntimeError(f"import of {path.name} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    return {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),  # user + system: steadier than wall time on a shared machine
        "peak_mb": round(peak_kb / 1024, 1),
        "output": result.stdout.strip()[-300:],
    }


def measure(kind: str, pg_url: str | None, sizes: tuple[int, ...] = (1000, 10000, 50000)) -> dict[str, Any]:
    """Dry run and commit of CSV and XLSX files of each size on one database kind."""
    figures: dict[str, Any] = {"database": kind, "sizes": list(sizes), "runs": {}}
    for n, rows in enumerate(sizes):
        slowest = max(
            (max(r["dry_run"]["seconds"], r["commit"]["seconds"]) for r in figures["runs"].values()),
            default=0,
        )
        # The next size takes at least (its rows / these) × as long: past the limit, stop.
        if n and slowest * rows / sizes[n - 1] > LIMIT_SECONDS:
            figures["sizes"] = list(sizes[:n])
            figures["skipped"] = {
                "sizes": list(sizes[n:]),
                "why": f"{sizes[n - 1]:,} rows took {slowest} s, so {rows:,} would take at least "
                f"{slowest * rows / sizes[n - 1]:.0f} s (over BENCH_IMPORT_LIMIT_SECONDS, {LIMIT_SECONDS:.0f} s)",
            }
            break
        paths = export_files(rows)
        for fmt, path in paths.items():
            if fmt not in FORMATS:
                continue
            url = fresh_database(kind, pg_url)
            try:
                env = env_for(url, OUT / f"instance-import-{kind}")
                run([*FLASK, "db", "upgrade"], env)
                run([*FLASK, "seed", "--components-only"], env)
                dry = timed_import(env, path, dry_run=True)
                done = timed_import(env, path, dry_run=False)
            finally:
                drop_database(kind, pg_url)
            key = f"{fmt} {rows}"
            figures["runs"][key] = {
                "rows": rows,
                "format": fmt,
                "bytes": path.stat().st_size,
                "dry_run": dry,
                "commit": done,
            }
            log(
                f"{kind} {key}: dry run {dry['seconds']} s (CPU {dry['cpu_seconds']} s) {dry['peak_mb']} MB; "
                f"commit {done['seconds']} s (CPU {done['cpu_seconds']} s) {done['peak_mb']} MB"
            )
    figures["targets"] = targets(figures)
    if "skipped" in figures:
        figures["targets"]["every size measured"] = {
            "measured": figures["skipped"]["why"],
            "target": "measured",
            "met": False,
        }
    return figures


def targets(figures: dict[str, Any]) -> dict[str, Any]:
    runs, out = figures["runs"], {}
    largest = max(figures["sizes"])
    peak = max((max(r["dry_run"]["peak_mb"], r["commit"]["peak_mb"]) for r in runs.values()), default=0)
    out["peak_mb"] = {"measured": peak, "target": TARGETS["peak_mb"], "met": peak <= TARGETS["peak_mb"]}
    for fmt in ("csv", "xlsx"):
        big = runs.get(f"{fmt} {largest}")
        if big is None:
            continue
        if largest == 50000:
            for step, name in (("dry_run", "dry_run_50k_seconds"), ("commit", "commit_50k_seconds")):
                value = big[step]["seconds"]
                out[f"{fmt} {name}"] = {
                    "measured": value,
                    "target": TARGETS[name],
                    "met": value <= TARGETS[name],
                }
        smaller = [s for s in figures["sizes"] if s < largest]
        if smaller:
            base = runs[f"{fmt} {max(smaller)}"]
            for step in ("dry_run", "commit"):
                ratio = round(big[step]["seconds"] / base[step]["seconds"], 2)
                limit = TARGETS["growth_50k_vs_10k"] * largest / max(smaller) / 5  # 6× per 5× the rows
                out[f"{fmt} {step} growth {largest}/{max(smaller)}"] = {
                    "measured": ratio,
                    "target": round(limit, 2),
                    "met": ratio <= limit,
                }
    return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--export":
        _export(int(sys.argv[2]), sys.argv[3], sys.argv[4])
        return
    sizes = tuple(int(x) for x in os.environ.get("BENCH_IMPORT_SIZES", "1000,5000").split(",") if x)
    kinds = [x for x in os.environ.get("BENCH_IMPORT_DATABASES", "sqlite,postgresql").split(",") if x]
    pg_url = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    results = {kind: measure(kind, pg_url if kind == "postgresql" else None, sizes) for kind in kinds}
    text = json.dumps(results, indent=2)
    print(text)
    out = os.environ.get("BENCH_IMPORT_OUT")
    if out:
        Path(out).write_text(text)


if __name__ == "__main__":
    main()
