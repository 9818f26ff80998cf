"""Large exports as background jobs: the same rows as the streamed download, written to a
file by a worker. The filters are read again as the user may see them when it runs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from app.exports import services
from app.filters import RecFilters
from app.jobs import registry
from app.web import today as app_today

KIND = "export"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TYPES = {"csv": "text/csv", "xlsx": XLSX_TYPE}


def filename(kind: str, filters: RecFilters, today: Any) -> str:
    return f"rectrack-recommendations-{filters.day(today)}.{kind}"


def _counted(
    rows: Iterator[dict[str, Any]], progress: registry.Progress, tally: list[int]
) -> Iterator[dict[str, Any]]:
    for row in rows:
        tally[0] += 1
        if tally[0] % 1000 == 0:
            progress(f"Writing rows: {tally[0]:,} so far", None, None)
        yield row


def run(session: Session, user: Any, params: dict[str, Any], progress: registry.Progress) -> registry.Output:
    """Write the export file as `user` may see the list now."""
    kind = params["format"]
    if kind not in TYPES:
        raise registry.JobRefused("RecTrack exports CSV and XLSX files only.")
    filters = RecFilters.from_json(params.get("filters") or {})
    today = app_today()
    progress("Reading the recommendations", None, None)
    tally = [0]
    rows = _counted(
        services.export_rows(session, user, filters, today, current_app.config["UPDATE_INTERVAL_DAYS"]),
        progress,
        tally,
    )
    if kind == "csv":
        data = "".join(services.csv_chunks(rows)).encode("utf-8")
    else:
        with services.xlsx_file(rows) as handle:
            data = handle.read()
    return registry.Output(data, filename(kind, filters, today), TYPES[kind], details={"rows": tally[0]})


registry.register(KIND, run)
