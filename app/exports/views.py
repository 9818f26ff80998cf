"""CSV and XLSX downloads of the recommendation list, with its filters.

Each export is recorded in the audit trail with its filters and its number of rows. Both
formats are streamed as the rows are read: the event is written when the stream ends, with
the rows written so far and whether the stream finished (a client that goes away mid-file
leaves an event saying so).

A list of more than EXPORT_JOB_THRESHOLD recommendations is made by a background job
instead, whose page answers at once: a web worker (two of them serve everyone) is not tied
up for the tens of seconds a 100,000-row file takes, the file is kept on "My downloads" if
the connection drops, and gunicorn's worker timeout cannot cut the file off."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NoReturn

from flask import Blueprint, Response, abort, current_app, stream_with_context
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from app import audit
from app.cache import data_version
from app.database import WRITING_GETS
from app.exports import jobs as export_jobs
from app.exports import services
from app.extensions import db
from app.filters import RecFilters, filters_from_args
from app.jobs import downloads
from app.jobs import services as job_services
from app.lifecycle.queries import count_of
from app.recommendations.queries import recommendation_list
from app.web import client_ip, commit, today

bp = Blueprint("exports", __name__)
WRITING_GETS.update({"exports.csv_export", "exports.xlsx_export"})  # a large one asks for a job

TYPES = export_jobs.TYPES


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


def _large(filters: RecFilters) -> bool:
    """Whether the export holds more recommendations than a request should write."""
    stmt = recommendation_list(current_user, filters, today(), current_app.config["UPDATE_INTERVAL_DAYS"])
    return (db.session.scalar(count_of(stmt)) or 0) > current_app.config["EXPORT_JOB_THRESHOLD"]


def _refuse_visitor() -> NoReturn:
    """403: a job's file is for a signed-in user, who finds it on "My downloads"."""
    limit = current_app.config["EXPORT_JOB_THRESHOLD"]
    abort(
        403,
        description=f"This list holds more than {limit:,} recommendations, too many to download "
        "without signing in. Narrow it with the filters, or sign in to have the file made.",
    )


def _as_job(kind: str, filters: RecFilters) -> WerkzeugResponse:
    """A large export: a background job writes the file; its page follows the progress."""
    if not current_user.is_authenticated:  # the portal's visitor has no "My downloads"
        _refuse_visitor()
    key = job_services.job_key(
        export_jobs.KIND,
        {"format": kind, "filters": filters.to_json(), "day": today(), "data": data_version(db.session)},
    )
    job = downloads.ask(
        db.session,
        current_user._get_current_object(),
        kind=export_jobs.KIND,
        title=f"{kind.upper()} export of {filters.day(today())}'s recommendation list",
        params={
            "format": kind,
            "filters": filters.to_json(),
            "audit": {
                "action": "export",
                "details": {"format": kind, "filters": filters.to_json(), "complete": True},
            },
        },
        key=key,
    )
    commit()
    return downloads.answer(job)


def _streamed(
    kind: str, filters: RecFilters, chunks: Callable[[Iterator[dict[str, Any]]], Iterator[Any]]
) -> Response:
    """The export streamed as it is written; its audit event is written when the stream
    ends, with the rows sent so far and whether the stream finished."""
    actor = audit.get_actor(db.session) or audit.AuditActor.anonymous(client_ip())
    tally = _rows(filters)

    def body() -> Iterator[Any]:
        written, complete = 0, False
        try:
            for chunk in chunks(iter(tally)):
                written = tally.count  # every row read so far is in this chunk or an earlier one
                yield chunk
            complete = True
        finally:
            details = _event(kind, filters, written, complete)
            audit.commit_apart(db.session, actor, [audit.Access("export", details=details)])

    return Response(
        stream_with_context(body()),
        mimetype=TYPES[kind],
        headers=_attachment(f"rectrack-recommendations-{filters.day(today())}.{kind}"),
    )


@bp.route("/recommendations/export.csv")
def csv_export() -> WerkzeugResponse:
    """The filtered list as CSV, streamed row by row (a background job when it is large)."""
    filters = filters_from_args()
    if _large(filters):
        return _as_job("csv", filters)
    return _streamed("csv", filters, services.csv_chunks)


@bp.route("/recommendations/export.xlsx")
def xlsx_export() -> WerkzeugResponse:
    """The filtered list as an Excel workbook, streamed row by row (a background job when
    it is large)."""
    filters = filters_from_args()
    if _large(filters):
        return _as_job("xlsx", filters)
    return _streamed("xlsx", filters, services.xlsx_chunks)
