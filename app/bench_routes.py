"""Routes for the benchmark only, registered when BENCH_ROUTES is set (never otherwise).

/_bench/list-query runs the list page's main SQL query, its first page, and returns the
rows as JSON with no template: the ceiling each page's latency is compared with."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from flask_login import current_user

from app import keyset
from app.extensions import db
from app.filters import RecFilters
from app.recommendations import queries
from app.web import today

bp = Blueprint("bench", __name__, url_prefix="/_bench")


@bp.route("/list-query")
def list_query() -> Response:
    """The list's first page straight from SQL to JSON."""
    sort = queries.SORTS["newest"]
    stmt = queries.recommendation_list(
        current_user, RecFilters(), today(), current_app.config["UPDATE_INTERVAL_DAYS"]
    )
    rows = db.session.scalars(
        stmt.order_by(None).order_by(*keyset.ordering(sort.keys)).limit(current_app.config["PAGE_SIZE"])
    ).unique()
    return jsonify(
        [{"id": r.id, "number": r.number, "report": r.report.number, "status": r.status.value} for r in rows]
    )
