"""`/healthz`: whether this web server can reach its database and the job broker, for a
load balancer or a monitor. No sign-in; it says nothing but "ok" or "unavailable"."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify
from werkzeug.wrappers import Response

from app.extensions import db
from app.jobs import queue

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz() -> tuple[Response, int]:
    """200 when the database and the broker answer; 503, saying which did not, otherwise."""
    checks = {"database": "ok", "broker": "ok"}
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        checks["database"] = "unavailable"
    if not queue.broker_reachable():
        checks["broker"] = "unavailable"
    healthy = all(v == "ok" for v in checks.values())
    response = jsonify({"status": "ok" if healthy else "unavailable", **checks})
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if healthy else 503
