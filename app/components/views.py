"""Components: everyone can list them; administrators add and change them."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth import policy
from app.components import queries, services
from app.components.forms import ComponentForm
from app.dashboard.queries import component_summaries
from app.extensions import db
from app.forms import select_choices
from app.lifecycle import deadlines
from app.models import Component
from app.recommendations import queries as rec_queries
from app.web import add_field_error, keyset_page, today

bp = Blueprint("components", __name__, url_prefix="/components")


@bp.route("")
def index() -> str:
    """Agencies and components, with the recommendations addressed to each."""
    rows = db.session.execute(queries.components_with_counts(current_user)).all()
    return render_template("components/index.html", rows=rows)


@bp.route("/<int:component_id>")
def detail(component_id: int) -> str:
    """A component's portfolio: its counts and clocks, and the recommendations addressed
    to it, open ones first."""
    component = db.get_or_404(Component, component_id)
    now, interval = today(), current_app.config["UPDATE_INTERVAL_DAYS"]
    summary = component_summaries(db.session, current_user, [component.id], now, interval)[0]
    sort = rec_queries.SORTS["status"]
    filters = rec_queries.RecFilters(component_id=component.id)
    stmt = rec_queries.recommendation_list(current_user, filters, now, interval)
    page = keyset_page(db.session, stmt, sort.keys, sort.values)
    return render_template(
        "components/detail.html",
        component=component,
        summary=summary,
        page=page,
        addressee_clocks=lambda rec, a: deadlines.addressee_clocks(
            rec, a, rec.report.issued_on, now, interval
        ),
    )


def _parent_choices(form: ComponentForm, component: Component | None) -> None:
    others = [
        c for c in db.session.scalars(queries.all_components()) if component is None or c.id != component.id
    ]
    form.parent_id.choices = select_choices(
        [("", "None (a top-level agency)"), *((c.id, f"{c.abbreviation}: {c.name}") for c in others)]
    )


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:component_id>/edit", methods=["GET", "POST"])
def edit(component_id: int | None = None) -> str | Response:
    """Add a component, or change one (administrators)."""
    component = db.get_or_404(Component, component_id) if component_id else None
    policy.require(policy.can_manage_components(current_user))
    form = ComponentForm(obj=component if request.method == "GET" else None)
    _parent_choices(form, component)
    if request.method == "GET" and component is not None:
        form.parent_id.data = component.parent_id
    if form.validate_on_submit():
        try:
            saved = services.save_component(
                db.session,
                component,
                abbreviation=form.abbreviation.data,
                name=form.name.data,
                parent_id=form.parent_id.data,
                active=form.active.data,
            )
        except services.ComponentError as exc:
            db.session.rollback()
            add_field_error(form, exc.field, str(exc))
        else:
            db.session.commit()
            flash(f"Component {saved.abbreviation} was saved.", "success")
            return redirect(url_for("components.index"))
    return render_template("components/form.html", form=form, component=component)
