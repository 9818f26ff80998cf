"""CSV and XLSX downloads of the recommendation list, with its filters.

Each export is recorded in the audit trail with its filters and its number of rows. The
XLSX file is complete before it is sent, so its event is written before the response
leaves (app.web.note_access). The CSV is streamed: its event is written when the stream
ends, with the rows written so far and whether the stream finished (a client that goes
away mid-file leaves an event saying so)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from flask import Blueprint, Response, current_app, stream_with_context
from flask_login import current_user

from app import audit
from app.exports import services
from app.extensions import db
from app.filters import RecFilters, filters_from_args
from app.web import client_ip, note_access, today

bp = Blueprint("exports", __name__)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class _Tally:
    """Counts the rows that pass through it."""

    def __init__(self, rows: Iterator[dict[str, Any]]) -> None:
        self.rows, self.count = rows, 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for row in self.rows:
            self.count += 1
            yield row


def _rows(filters: RecFilters) -> _Tally:
    return _Tally(
        services.export_rows(
            db.session, current_user, filters, today(), current_app.config["UPDATE_INTERVAL_DAYS"]
        )
    )


def _event(kind: str, filters: RecFilters, rows: int, complete: bool) -> dict[str, Any]:
    return {"format": kind, "filters": filters.in_use(), "rows": rows, "complete": complete}


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"}


@bp.route("/recommendations/export.csv")
def csv_export() -> Response:
    """The filtered list as CSV, streamed row by row."""
    filters = filters_from_args()
    actor = audit.get_actor(db.session) or audit.AuditActor.anonymous(client_ip())
    tally = _rows(filters)

    def body() -> Iterator[str]:
        written, complete = 0, False
        try:
            for chunk in services.csv_chunks(iter(tally)):
                written = tally.count  # every row read so far is in this chunk or an earlier one
                yield chunk
            complete = True
        finally:
            details = _event("csv", filters, written, complete)
            audit.commit_apart(db.session, actor, [audit.Access("export", details=details)])

    return Response(
        stream_with_context(body()),
        mimetype="text/csv",
        headers=_attachment(f"rectrack-recommendations-{filters.day(today())}.csv"),
    )


@bp.route("/recommendations/export.xlsx")
def xlsx_export() -> Response:
    """The filtered list as an Excel workbook."""
    filters = filters_from_args()
    tally = _rows(filters)
    handle = services.xlsx_file(iter(tally))
    note_access("export", details=_event("xlsx", filters, tally.count, True))

    def chunks(fh: IO[bytes]) -> Iterator[bytes]:
        try:
            while block := fh.read(256 * 1024):
                yield block
        finally:
            fh.close()

    return Response(
        chunks(handle),
        mimetype=XLSX_TYPE,
        headers=_attachment(f"rectrack-recommendations-{filters.day(today())}.xlsx"),
    )
