"""The dashboard: home after sign-in, scoped to what the role may see."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_login import current_user

from app import charts
from app.dashboard import queries
from app.extensions import db
from app.models import RecStatus
from app.web import today

bp = Blueprint("dashboard", __name__)


def _chart(title: str, labels: list[str], values: list[int], horizontal: bool = True) -> dict[str, str]:
    svg = charts.bar_chart(labels, values, series=title, horizontal=horizontal)
    return {
        "title": title,
        "uri": charts.data_uri(svg),
        "alt": f"{title}: "
        + "; ".join(f"{label} {value}" for label, value in zip(labels, values, strict=True)),
    }


@bp.route("/")
def index() -> str:
    """Counts by status, component and age; what is running late; recent closures;
    open monetary benefits. Every number links to the list behind it."""
    now = today()
    data = queries.build(db.session, current_user, now, current_app.config["UPDATE_INTERVAL_DAYS"])
    top = data.by_component[:15]
    return render_template(
        "dashboard/index.html",
        data=data,
        today_date=now,
        charts={
            "status": _chart(
                "Recommendations by status", [s.label for s in RecStatus], list(data.by_status.values())
            ),
            "components": _chart(
                "Open recommendations by component", [c[1] for c in top], [c[2] for c in top]
            ),
            "ages": _chart(
                "Open recommendations by age",
                [b.label for b in data.ages],
                list(data.ages.values()),
                horizontal=False,
            ),
        },
    )
