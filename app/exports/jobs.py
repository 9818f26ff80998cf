"""Large exports as background jobs: the same rows as the streamed download, written to a
file by a worker. The filters are read again as the user may see them when it runs."""

from __future__ import annotations

import tempfile
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
    chunks = (
        (text.encode("utf-8") for text in services.csv_chunks(rows))
        if kind == "csv"
        else services.xlsx_chunks(rows)
    )
    # Chunks go to a file as they come, so the rows are never all held as text and bytes
    # at once; the finished file is read back once for the blob store.
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as handle:
        for chunk in chunks:
            handle.write(chunk)
        handle.seek(0)
        data = handle.read()
    return registry.Output(data, filename(kind, filters, today), TYPES[kind], details={"rows": tally[0]})


registry.register(KIND, run)
