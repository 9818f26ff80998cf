"""CSV and XLSX downloads of the recommendation list, with its filters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from flask import Blueprint, Response, current_app, stream_with_context
from flask_login import current_user

from app.exports import services
from app.extensions import db
from app.recommendations.views import filters_from_args
from app.web import today

bp = Blueprint("exports", __name__)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _rows() -> Iterator[dict[str, object]]:
    return services.export_rows(
        db.session, current_user, filters_from_args(), today(), current_app.config["UPDATE_INTERVAL_DAYS"]
    )


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"}


@bp.route("/recommendations/export.csv")
def csv_export() -> Response:
    """The filtered list as CSV, streamed row by row."""
    body = stream_with_context(services.csv_chunks(_rows()))
    return Response(body, mimetype="text/csv", headers=_attachment(f"rectrack-recommendations-{today()}.csv"))


@bp.route("/recommendations/export.xlsx")
def xlsx_export() -> Response:
    """The filtered list as an Excel workbook."""
    handle = services.xlsx_file(_rows())

    def chunks(fh: IO[bytes]) -> Iterator[bytes]:
        try:
            while block := fh.read(256 * 1024):
                yield block
        finally:
            fh.close()

    return Response(
        chunks(handle), mimetype=XLSX_TYPE, headers=_attachment(f"rectrack-recommendations-{today()}.xlsx")
    )
