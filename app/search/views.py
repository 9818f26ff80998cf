"""The search page."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from app.extensions import db
from app.search import queries

bp = Blueprint("search", __name__)


@bp.route("/search")
def search() -> str:
    """Full-text search over reports, recommendations, responses and updates."""
    query = request.args.get("q", "").strip()[:200]
    hits = queries.search(db.session, current_user, query) if query else []
    recs, reports = {}, {}
    if hits:
        recs_stmt, reports_stmt = queries.hit_records(hits)
        recs = {r.id: r for r in db.session.scalars(recs_stmt)}
        reports = {r.id: r for r in db.session.scalars(reports_stmt)}
    return render_template("search/results.html", query=query, hits=hits, recs=recs, reports=reports)
