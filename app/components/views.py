"""Components: everyone can list them; administrators add and change them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth import policy
from app.components import queries, services
from app.components.forms import ComponentEditForm, ComponentForm
from app.dashboard.queries import component_summaries
from app.extensions import db
from app.filters import RecFilters
from app.follows import services as follows
from app.forms import select_choices
from app.lifecycle import deadlines
from app.models import Component
from app.models.component import all_components
from app.recommendations import queries as rec_queries
from app.web import keyset_page, save, today

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
    filters = RecFilters(component_id=component.id)
    stmt = rec_queries.recommendation_list(current_user, filters, now, interval)
    page = keyset_page(db.session, stmt, sort.keys, sort.values)
    return render_template(
        "components/detail.html",
        component=component,
        following=follows.is_following(db.session, current_user, follows.COMPONENT, component.id),
        summary=summary,
        page=page,
        addressee_clocks=lambda rec, a: deadlines.addressee_clocks(
            rec, a, rec.report.issued_on, now, interval
        ),
    )


def _parent_choices(form: ComponentForm, component: Component | None) -> None:
    others = [c for c in db.session.scalars(all_components()) if component is None or c.id != component.id]
    form.parent_id.choices = select_choices(
        [("", "None (a top-level agency)"), *((c.id, f"{c.abbreviation}: {c.name}") for c in others)]
    )


@bp.route("/new", methods=["GET", "POST"])
def create() -> str | Response | tuple[str, int]:
    """Add a component (administrators)."""
    policy.require(policy.can_manage_components(current_user))
    form = ComponentForm()
    _parent_choices(form, None)
    if form.validate_on_submit():
        done = save(
            form,
            lambda: services.save_component(db.session, None, **_values(form)),
            success=lambda saved: f"Component {saved.abbreviation} was saved.",
            redirect_to=url_for("components.index"),
        )
        if done is not None:
            return done
    return render_template("components/form.html", form=form, component=None)


def _values(form: ComponentForm) -> dict[str, Any]:
    return {
        "abbreviation": form.abbreviation.data,
        "name": form.name.data,
        "parent_id": form.parent_id.data,
        "active": form.active.data,
    }


def _edit_form(component: Component) -> ComponentEditForm:
    """The edit form filled from the component as it is now."""
    form = ComponentEditForm(formdata=None, obj=component)
    _parent_choices(form, component)
    form.parent_id.data = component.parent_id
    return form


@bp.route("/<int:component_id>/edit", methods=["GET", "POST"])
def edit(component_id: int) -> str | Response | tuple[str, int]:
    """Change a component (administrators); refused (409) if it changed since the form
    was loaded."""
    component = db.get_or_404(Component, component_id)
    policy.require(policy.can_manage_components(current_user))
    if request.method == "GET":
        return render_template("components/form.html", form=_edit_form(component), component=component)
    form = ComponentEditForm()
    _parent_choices(form, component)
    if form.validate_on_submit():
        done = save(
            form,
            lambda: services.save_component(
                db.session, component, **_values(form), version=form.version.data
            ),
            success=lambda saved: f"Component {saved.abbreviation} was saved.",
            redirect_to=url_for("components.index"),
            current=lambda: _edit_form(db.get_or_404(Component, component_id)),
        )
        if done is not None:
            return done
    return render_template("components/form.html", form=form, component=component)
