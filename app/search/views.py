"""The search page."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template, request
from flask_login import current_user

from app.extensions import db
from app.models import Recommendation, Report
from app.search import queries

bp = Blueprint("search", __name__)


@bp.route("/search")
def search() -> str:
    """Full-text search over reports, recommendations, responses and updates."""
    query = request.args.get("q", "").strip()[:200]
    hits = queries.search(db.session, current_user, query) if query else []
    rec_ids = [h.ref_id for h in hits if h.kind == "recommendation"]
    report_ids = {h.report_id for h in hits}
    recs = {
        r.id: r for r in db.session.scalars(sa.select(Recommendation).where(Recommendation.id.in_(rec_ids)))
    }
    reports = {r.id: r for r in db.session.scalars(sa.select(Report).where(Report.id.in_(report_ids)))}
    return render_template("search/results.html", query=query, hits=hits, recs=recs, reports=reports)
