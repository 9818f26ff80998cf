"""Portfolio PDF benchmark: the app's PDF against a naive baseline, and its growth.

For the first N recommendations of the list (newest report first, as OIG staff see it):

- the app's portfolio PDF (app.pdf.services.build_html and app.pdf.engine.render: the
  app's own data gathering, template and renderer, the list query cut to N rows);
- a naive baseline: one plain HTML table of the same recommendations (report, number,
  text, status, components with concurrence and target), rendered by WeasyPrint as
  PDF/UA-1 in the same process, written as the obvious first attempt;

each in a fresh child process (`python bench/pdf.py --child app|baseline N`), timed from
the first query to the PDF's bytes (the app's start-up is not timed). The app and the
baseline are timed in alternation A B A B (`rounds` pairs) at the smallest size; the
app alone at each size. Peak memory: the child's process tree (it and the renderer it
forks), VmRSS sampled every 20 ms, the largest process and the sum; and the child's
ru_maxrss from wait4. Every PDF is checked: it is a PDF, pdfinfo's page count, and the
"Page X of Y" footers pdftotext reads (Y equal to the page count, X = 1..Y).

`measure(env)` takes bench/run.py's app_env of a built database. Standalone
(`.venv/bin/python bench/pdf.py`): builds a small SQLite database under bench/out and
measures sizes 100 and 300 (BENCH_PDF_SCALE, BENCH_PDF_SIZES, BENCH_PDF_ROUNDS), or
measures a database already built (BENCH_PDF_DATABASE_URL).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
OUT = ROOT / "bench" / "out"
PYTHON = str(ROOT / ".venv" / "bin" / "python")

TARGETS = {
    "ratio_to_baseline_1000": 0.6,
    "seconds_10000": 60,
    "peak_mb_10000": 600,
}

BASELINE_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Portfolio status of OIG recommendations</title>
<style>
  body { font-family: "DejaVu Sans", sans-serif; font-size: 9pt; }
  table { border-collapse: collapse; width: 100%; }
  th, td { border: 0.5pt solid #999; padding: 2pt; vertical-align: top; text-align: left; }
</style></head>
<body>
<h1>Portfolio status of OIG recommendations</h1>
<table>
  <thead><tr><th>Report</th><th>Number</th><th>Recommendation</th><th>Status</th><th>Components</th></tr></thead>
  <tbody>
  {% for rec in recs %}
    <tr>
      <td>{{ rec.report.display_number }}</td>
      <td>{{ rec.number if rec.number is not none else '' }}</td>
      <td>{{ rec.text }}</td>
      <td>{{ rec.status.label }}</td>
      <td>{% for a in rec.addressees %}{{ a.component.abbreviation }}: {{ a.concurrence.label }}{% if a.target_date %}, target {{ a.target_date.isoformat() }}{% endif %}<br>{% endfor %}</td>
    </tr>
  {% endfor %}
  </tbody>
</table>
</body>
</html>
"""


# --- the child: one PDF, timed -------------------------------------------------------------


@contextmanager
def first_n(n: int) -> Iterator[Callable[..., tuple[bytes, float, int]]]:
    """In an app context whose portfolio holds the list's first `n` recommendations (as OIG
    staff see it), with no limit on the size or the time (PDF_TIMEOUT_SECONDS would stop a
    slow machine): `make(variant, in_process=False)` makes the app's PDF ("app") or the naive
    baseline ("baseline") and returns (the PDF, perf_counter() once the data was gathered,
    recommendations). `in_process` renders the app's PDF without forking (for a profiler)."""
    from flask import render_template_string
    from weasyprint import HTML

    from app import create_app
    from app.extensions import db
    from app.filters import RecFilters
    from app.models import Role
    from app.pdf import data, engine, services
    from app.pdf.options import settings
    from app.pdf.prerender import Reader

    app = create_app()
    reader = Reader(Role.OIG)
    base = data._base

    def limited(*args: Any, **kwargs: Any) -> Any:  # the list's query, its first N rows
        return base(*args, **kwargs).limit(n)

    data._base = limited  # type: ignore[assignment]
    with app.test_request_context():
        conf = settings(cached=False)
        conf = dataclasses.replace(
            conf, max_recommendations=max(n, conf.max_recommendations), timeout_seconds=3600
        )

        def make(variant: str, in_process: bool = False) -> tuple[bytes, float, int]:
            if variant == "app":
                request = services.PdfRequest("portfolio", conf.today, filters=RecFilters())
                html = services.build_html(db.session, reader, request, conf)
                gathered = time.perf_counter()
                if in_process:
                    pdf = engine.render_in_process(html, conf.static_root).pdf
                else:
                    pdf = engine.render(html, conf.static_root, conf.timeout_seconds).pdf
                return pdf, gathered, html.count('<h3 class="rc"')
            stmt = limited(reader, RecFilters(), conf.today, conf.update_interval_days)
            rows = list(db.session.scalars(stmt).unique())
            html = render_template_string(BASELINE_TEMPLATE, recs=rows)
            gathered = time.perf_counter()
            return HTML(string=html).write_pdf(pdf_variant="pdf/ua-1"), gathered, len(rows)

        yield make


def _child(variant: str, n: int, out: str) -> dict[str, Any]:
    with first_n(n) as make:
        started = time.perf_counter()
        pdf, gathered, recs = make(variant)
        finished = time.perf_counter()
    Path(out).write_bytes(pdf)
    return {
        "seconds": round(finished - started, 3),
        "gather_seconds": round(gathered - started, 3),
        "render_seconds": round(finished - gathered, 3),
        "recommendations": recs,
        "bytes": len(pdf),
    }


# --- the parent: run a child, sample its memory, check its PDF ------------------------------


def _tree_rss(pids: list[int]) -> tuple[float, float]:
    from run import rss_mb

    sizes = [rss_mb(p) for p in pids]
    return (max(sizes) if sizes else 0.0), sum(sizes)


def check_pdf(path: Path) -> dict[str, Any]:
    """Is it a PDF, how many pages, and do the footers say "Page X of N" with N right?"""
    raw = path.read_bytes()
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True).stdout
    footers = [(int(x), int(y)) for x, y in re.findall(r"Page (\d+) of (\d+)", text)]
    return {
        "is_pdf": raw.startswith(b"%PDF-") and raw.rstrip().endswith(b"%%EOF"),
        "pages": pages,
        "footers_right": bool(footers) and footers == [(i, pages) for i in range(1, pages + 1)],
        "tagged": re.search(r"^Tagged:\s+yes", info, re.M) is not None,
    }


def run_child(env: dict[str, str], variant: str, n: int) -> dict[str, Any]:
    OUT.mkdir(parents=True, exist_ok=True)
    fd, out = tempfile.mkstemp(prefix=f"pdf-{variant}-{n}-", suffix=".pdf", dir=OUT)
    os.close(fd)
    child_env = {**env, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [PYTHON, __file__, "--child", variant, str(n), out],
        cwd=ROOT,
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak_process = peak_tree = 0.0
    done = threading.Event()

    def sample() -> None:
        # The tree is read from all of /proc every 0.5 s (costly on a busy machine), the
        # memory of its processes every 50 ms.
        from run import process_tree

        nonlocal peak_process, peak_tree
        pids, listed = [process.pid], 0.0
        while not done.is_set():
            if time.monotonic() - listed > 0.5:
                pids, listed = process_tree(process.pid), time.monotonic()
            biggest, total = _tree_rss(pids)
            peak_process, peak_tree = max(peak_process, biggest), max(peak_tree, total)
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout = process.stdout.read()  # type: ignore[union-attr]
    stderr = process.stderr.read()  # type: ignore[union-attr]
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise RuntimeError(f"{variant} {n} failed:\n{stderr[-3000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result.update(
        {
            "peak_process_mb": round(peak_process, 1),
            "peak_tree_mb": round(peak_tree, 1),
            "maxrss_mb": round(usage.ru_maxrss / 1024, 1),
            # CPU of the child and the renderer it waited for, start-up included: steadier
            # than wall time on a shared machine
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
            **check_pdf(Path(out)),
        }
    )
    Path(out).unlink()
    return result


def _log(message: str) -> None:
    print(f"[bench pdf {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def measure(
    env: dict[str, str], sizes: tuple[int, ...] = (1000, 5000, 10000), rounds: int = 2
) -> dict[str, Any]:
    """The app's portfolio PDF against the baseline at sizes[0] (A B A B), then the
    app's PDF at each size: seconds, peak MB, growth from one size to the next."""
    first = sizes[0]
    pairs = []
    for _ in range(rounds):
        app_run = run_child(env, "app", first)
        base_run = run_child(env, "baseline", first)
        _log(f"{first}: app {app_run['seconds']} s, baseline {base_run['seconds']} s")
        pairs.append({"app": app_run, "baseline": base_run})
    app_s = sorted(p["app"]["seconds"] for p in pairs)
    base_s = sorted(p["baseline"]["seconds"] for p in pairs)
    ratio = round(sum(app_s) / sum(base_s), 3)
    cpu_ratio = round(
        sum(p["app"]["cpu_seconds"] for p in pairs) / sum(p["baseline"]["cpu_seconds"] for p in pairs), 3
    )
    by_size: dict[str, Any] = {}
    for n in sizes:
        result = pairs[0]["app"] if n == first else run_child(env, "app", n)
        _log(f"app {n}: {result}")
        by_size[str(n)] = result
    growth = {}
    for small, large in itertools.pairwise(sizes):
        a, b = by_size[str(small)], by_size[str(large)]
        growth[f"{small}->{large}"] = {
            "size_factor": round(b["recommendations"] / a["recommendations"], 2),
            "seconds_factor": round(b["seconds"] / a["seconds"], 2),
            "cpu_factor": round(b["cpu_seconds"] / a["cpu_seconds"], 2),
            "peak_mb_factor": round(b["peak_tree_mb"] / a["peak_tree_mb"], 2),
        }
    largest = by_size[str(sizes[-1])]
    # The naive baseline is a bare table with no page footers; only the app's PDFs must
    # say "Page X of N".
    checks_ok = all(
        r["is_pdf"] and r["footers_right"] and r["tagged"]
        for r in [*by_size.values(), *(p["app"] for p in pairs)]
    ) and all(p["baseline"]["is_pdf"] and p["baseline"]["tagged"] for p in pairs)
    targets = {
        f"ratio_to_baseline_{first}": {
            "measured": ratio,
            "target": TARGETS["ratio_to_baseline_1000"],
            "met": ratio <= TARGETS["ratio_to_baseline_1000"],
        },
        f"seconds_{sizes[-1]}": {
            "measured": largest["seconds"],
            "target": TARGETS["seconds_10000"],
            "met": largest["seconds"] <= TARGETS["seconds_10000"],
        },
        f"peak_mb_{sizes[-1]}": {
            "measured": largest["peak_tree_mb"],
            "target": TARGETS["peak_mb_10000"],
            "met": largest["peak_tree_mb"] <= TARGETS["peak_mb_10000"],
        },
        "pdfs_checked": {"measured": checks_ok, "target": True, "met": checks_ok},
    }
    if sizes[-1] < 10000:  # the time and memory targets are for 10,000 recommendations
        del targets[f"seconds_{sizes[-1]}"], targets[f"peak_mb_{sizes[-1]}"]
    return {
        "baseline_pairs": pairs,
        "ratio_to_baseline": ratio,
        "cpu_ratio_to_baseline": cpu_ratio,
        "sizes": by_size,
        "growth": growth,
        "targets": targets,
        "notes": "seconds: first query to PDF bytes in a fresh child; peak_tree_mb: the child and "
        "the renderer it forks, VmRSS summed (pages shared after fork counted twice)",
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(_child(sys.argv[2], int(sys.argv[3]), sys.argv[4])))
        return
    import run

    sizes = tuple(int(x) for x in os.environ.get("BENCH_PDF_SIZES", "100,300").split(","))
    rounds = int(os.environ.get("BENCH_PDF_ROUNDS", "1"))
    url = os.environ.get("BENCH_PDF_DATABASE_URL")
    if url:
        env = run.app_env(url, 0, "pdf-bench")
    else:
        scale = int(os.environ.get("BENCH_PDF_SCALE", "1000"))
        OUT.mkdir(parents=True, exist_ok=True)
        path = OUT / f"pdf-bench-{scale}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        env, _info = run.build("sqlite", scale, url=f"sqlite:///{path}", instance="pdf-bench")
    print(json.dumps(measure(env, sizes, rounds), indent=2))


if __name__ == "__main__":
    main()
