"""The dashboard: home after sign-in, scoped to what the role may see."""

from __future__ import annotations

import functools

from flask import Blueprint, current_app, render_template
from flask_login import current_user

from app import cache, charts
from app.cache import reader_scope
from app.dashboard import queries
from app.extensions import db
from app.filters import filters_for_page, period_ends
from app.models import RecStatus
from app.web import today

bp = Blueprint("dashboard", __name__)


def _chart(title: str, labels: list[str], values: list[int], horizontal: bool = True) -> dict[str, str]:
    return _drawn(title, tuple(labels), tuple(values), horizontal)


# A chart is a pure function of its title, labels and numbers: drawn again only when they
# change, not after every write (a write leaves most of them as they were). Drawing the
# three charts was about a fifth of recomputing the dashboard after a write.
@functools.lru_cache(maxsize=256)
def _drawn(title: str, labels: tuple[str, ...], values: tuple[int, ...], horizontal: bool) -> dict[str, str]:
    svg = charts.bar_chart(labels, values, series=title, horizontal=horizontal)
    return {
        "title": title,
        "uri": charts.data_uri(svg),
        "alt": f"{title}: "
        + "; ".join(f"{label} {value}" for label, value in zip(labels, values, strict=True)),
    }


def _charts(data: queries.Dashboard) -> dict[str, dict[str, str]]:
    top = data.by_component[:15]
    statuses = list(RecStatus)
    return {
        "status": _chart(
            "Recommendations by status", [s.label for s in statuses], [data.by_status[s] for s in statuses]
        ),
        "components": _chart("Open recommendations by component", [c[1] for c in top], [c[2] for c in top]),
        "ages": _chart(
            "Open recommendations by age",
            [b.label for b in data.ages],
            list(data.ages.values()),
            horizontal=False,
        ),
    }


@bp.route("/")
def index() -> str:
    """Counts by status, component and age; what is running late; recent closures;
    open monetary benefits, as of today or the end of a past day (`as_of`). Every
    number links to the list behind it, as of the same day."""
    filters, errors = filters_for_page()  # only the "as of" date is read here
    as_of, interval = filters.as_of, current_app.config["UPDATE_INTERVAL_DAYS"]
    now = filters.day(today())
    user = current_user._get_current_object()

    def compute() -> tuple[queries.Dashboard, dict[str, dict[str, str]]]:
        data = queries.build(db.session, user, now, interval, as_of)
        return data, _charts(data)

    # The numbers change only with the data: computed once per reader scope and version.
    data, charts = cache.current(db.session, ("dashboard", reader_scope(user), now, interval, as_of), compute)
    return render_template(
        "dashboard/index.html",
        data=data,
        today_date=now,
        charts=charts,
        as_of=as_of,
        errors=errors,
        period_ends=period_ends(today()),
    )
