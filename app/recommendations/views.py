"""Recommendation pages: detail, and the OIG's create, edit and delete."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app import cache
from app.audit import AuditActor
from app.auth import policy
from app.cache import reader_scope
from app.extensions import db
from app.filters import AGE_FILTERS, STATUS_FILTERS, RecFilters, filters_for_page, period_ends
from app.forms import ConfirmForm, select_choices
from app.lifecycle import deadlines
from app.lifecycle import queries as lifecycle_queries
from app.locking import UNCHECKED
from app.models import Component, Concurrence, Recommendation, Sensitivity, TextSource
from app.models.component import all_components
from app.models.recommendation import recommendation_detail
from app.recommendations import priority, queries, repeats, services
from app.recommendations.forms import (
    MAX_ADDRESSEES,
    PriorityForm,
    RecommendationEditForm,
    RecommendationForm,
    RepeatForm,
    significant_choice,
    significant_value,
)
from app.recommendations.priority import PriorityData
from app.reports import menus
from app.web import keyset_page, note_access, save, today

bp = Blueprint("recommendations", __name__)


def _prepare(form: RecommendationForm, components: list[Component]) -> None:
    """Give every addressee row its component choices; add a row when asked."""
    if form.add_row.data and len(form.addressees) < MAX_ADDRESSEES:
        form.addressees.append_entry()
    choices = select_choices(
        [("", "Choose a component"), *((c.id, f"{c.abbreviation}: {c.name}") for c in components)]
    )
    for entry in form.addressees:
        entry.form.component_id.choices = choices


def _data_from_form(form: RecommendationForm) -> services.RecommendationData:
    return services.RecommendationData(
        number=form.number.data,  # None: "not known" (InputRequired: never blank once valid)
        text=form.text.data or "",
        text_source=TextSource(form.text_source.data),
        source_url=form.source_url.data,
        significant=significant_value(form.significant.data),
        questioned_costs=form.questioned_costs.data,
        funds_put_to_better_use=form.funds_put_to_better_use.data,
        sensitivity=Sensitivity(form.sensitivity.data),
        addressees=[
            services.AddresseeData(
                component_id=row.component_id.data,
                is_lead=row.is_lead.data,
                concurrence=Concurrence(row.concurrence.data),
                response=row.response.data or "",
                response_date=row.response_date.data,
                version=row.version.data,
            )
            for row in (entry.form for entry in form.addressees)
        ],
        version=form.version.data if isinstance(form, RecommendationEditForm) else UNCHECKED,
    )


def _form_data(rec: Recommendation) -> dict[str, Any]:
    return {
        "number": rec.number,
        "text": rec.text,
        "text_source": rec.text_source.value,
        "source_url": rec.source_url,
        "significant": significant_choice(rec.significant),
        "questioned_costs": rec.questioned_costs,
        "funds_put_to_better_use": rec.funds_put_to_better_use,
        "sensitivity": rec.sensitivity.value,
        "addressees": [
            {
                "component_id": a.component_id,
                "is_lead": a.is_lead,
                "concurrence": a.concurrence.value,
                "response": a.response,
                "response_date": a.response_date,
                "version": a.version,
            }
            for a in rec.addressees
        ],
        "version": rec.version,
    }


def _submitted(form: RecommendationForm) -> bool:
    """True when the Save button (not "Add another component") sent a valid form."""
    return not form.add_row.data and form.validate_on_submit()


@bp.route("/reports/<int:report_id>/recommendations/new", methods=["GET", "POST"])
def create(report_id: int) -> str | Response | tuple[str, int]:
    """Enter a recommendation of a report (OIG staff)."""
    report = db.first_or_404(queries.report_with_numbers(report_id))
    policy.require(policy.can_manage_reports(current_user))
    defaults: dict[str, Any] = {"number": queries.suggested_number(report)}
    if report.sensitivity == Sensitivity.RESTRICTED:
        defaults["sensitivity"] = Sensitivity.RESTRICTED.value
    form = RecommendationForm(data=defaults if request.method == "GET" else None)
    components = list(db.session.scalars(all_components()))
    _prepare(form, components)
    if _submitted(form):
        done = save(
            form,
            lambda: services.create_recommendation(
                db.session, AuditActor.for_user(current_user), report, _data_from_form(form), today=today()
            ),
            success=lambda rec: f"{rec.heading} of {report} was saved.",
            redirect_to=lambda rec: url_for("reports.detail", report_id=report.id, _anchor=rec.anchor),
        )
        if done is not None:
            return done
    return render_template("recommendations/form.html", form=form, report=report, rec=None)


def _list_menus(now: date) -> dict[str, Any]:
    """The choices of the list's filter form."""
    return {
        "sorts": queries.SORTS,
        "statuses": STATUS_FILTERS,
        "clock_filters": deadlines.CLOCK_FILTERS,
        "age_filters": AGE_FILTERS,
        "components": db.session.scalars(all_components()).all(),
        "years": menus.issue_years(db.session, current_user),
        "period_ends": period_ends(now),
    }


def _total(stmt: Any, filters: RecFilters, now: date, interval: int) -> int:
    """How many match, cached per reader scope, filters, day and data version."""
    key = ("recommendation-total", reader_scope(current_user), filters, now, interval)
    return cache.current(db.session, key, lambda: db.session.scalar(lifecycle_queries.count_of(stmt)) or 0)


def _clock_words(now: date, interval: int) -> dict[str, Any]:
    """The clocks of a row (a recommendation or its state of a past day) on `now`."""
    return {
        "rec_clocks": lambda rec: deadlines.recommendation_clocks(rec, rec.report.issued_on, now),
        "addressee_clocks": lambda rec, a: deadlines.addressee_clocks(
            rec, a, rec.report.issued_on, now, interval
        ),
    }


@bp.route("/recommendations")
def index() -> str:
    """Every recommendation the user may see, filtered by status, component, report,
    year, significance, deadline clocks and text, sorted, a page at a time (keyset);
    as they stood at the end of a past day when `as_of` says so."""
    filters, errors = filters_for_page()
    sort_name = queries.sort_for(request.args.get("sort", "newest"), filters)
    sort = queries.SORTS.get(sort_name) or abort(400, description="Unknown sort order.")
    now, interval = filters.day(today()), current_app.config["UPDATE_INTERVAL_DAYS"]
    stmt = queries.recommendation_list(current_user, filters, now, interval)
    page = keyset_page(db.session, stmt, sort.keys, sort.values)
    states = queries.states_on(db.session, [rec.id for rec in page.items], filters.as_of)
    return render_template(
        "recommendations/index.html",
        page=page,
        total=_total(stmt, filters, now, interval),
        sort_name=sort_name,
        filters=filters,
        errors=errors,
        state=lambda rec: states.get(rec.id, rec),
        **_clock_words(now, interval),
        **_list_menus(today()),
    )


@bp.route("/recommendations/<int:rec_id>")
def detail(rec_id: int) -> str:
    """One recommendation: each component's part side by side, the clocks, the OIG's
    decision and the whole history. Reading a restricted one is recorded in the audit trail."""
    rec = db.first_or_404(lifecycle_queries.lifecycle_detail(rec_id))
    policy.require(policy.can_view_recommendation(current_user, rec))
    if rec.sensitivity == Sensitivity.RESTRICTED:
        note_access("read", object_type="recommendations", object_id=rec.id)
    now, interval = today(), current_app.config["UPDATE_INTERVAL_DAYS"]
    issued = rec.report.issued_on
    return render_template(
        "recommendations/detail.html",
        rec=rec,
        report=rec.report,
        clocks=deadlines.recommendation_clocks(rec, issued, now),
        addressee_clocks={
            a.id: deadlines.addressee_clocks(rec, a, issued, now, interval) for a in rec.addressees
        },
        deletable=services.is_deletable(rec),
        chain=repeats.chain(db.session, rec),
        priority_definition=priority.DEFINITION,
    )


def _edit_form(rec: Recommendation) -> RecommendationEditForm:
    """The edit form filled from the recommendation as it is now."""
    form = RecommendationEditForm(formdata=None, data=_form_data(rec))
    form.number.not_known = rec.number is None
    _prepare(form, list(db.session.scalars(all_components())))
    return form


@bp.route("/recommendations/<int:rec_id>/edit", methods=["GET", "POST"])
def edit(rec_id: int) -> str | Response | tuple[str, int]:
    """Correct a recommendation and its addressees (OIG staff); refused (409) if it or a
    component's part changed since the form was loaded."""
    rec = db.first_or_404(recommendation_detail(rec_id))
    policy.require(policy.can_manage_reports(current_user))
    if request.method == "GET":
        return render_template("recommendations/form.html", form=_edit_form(rec), report=rec.report, rec=rec)
    form = RecommendationEditForm()
    _prepare(form, list(db.session.scalars(all_components())))
    if _submitted(form):
        done = save(
            form,
            lambda: services.update_recommendation(
                db.session, AuditActor.for_user(current_user), rec, _data_from_form(form), today=today()
            ),
            success=lambda _: f"{rec.heading} was saved.",
            redirect_to=url_for("recommendations.detail", rec_id=rec.id),
            current=lambda: _edit_form(db.first_or_404(recommendation_detail(rec_id))),
        )
        if done is not None:
            return done
    return render_template("recommendations/form.html", form=form, report=rec.report, rec=rec)


@bp.route("/recommendations/<int:rec_id>/delete", methods=["GET", "POST"])
def delete(rec_id: int) -> str | Response | tuple[str, int]:
    """Delete a recommendation entered by mistake (OIG staff), after confirmation."""
    rec = db.first_or_404(recommendation_detail(rec_id))
    policy.require(policy.can_manage_reports(current_user))
    form = ConfirmForm()
    if form.validate_on_submit():
        done = save(
            None,  # a refusal is a 409 page: there is no field to show it by
            lambda: services.delete_recommendation(db.session, rec),
            success=f"{rec.heading} was deleted. The audit trail keeps a full copy.",
            redirect_to=url_for("reports.detail", report_id=rec.report_id),
        )
        if done is not None:
            return done
    return render_template("recommendations/delete.html", form=form, rec=rec, report=rec.report)


def _priority_form(rec: Recommendation) -> PriorityForm:
    """The priority form filled from the recommendation (GET, or the 409 page); the
    reason starts blank: each change gives its own."""
    return PriorityForm(formdata=None, data={"priority": rec.priority, "version": rec.version})


@bp.route("/recommendations/<int:rec_id>/priority", methods=["GET", "POST"])
def priority_flag(rec_id: int) -> str | Response | tuple[str, int]:
    """Set or clear the priority flag with a reason (OIG staff); refused (409) if the
    recommendation changed since the form was loaded."""
    rec = db.first_or_404(recommendation_detail(rec_id))
    policy.require(policy.can_manage_reports(current_user))
    form = PriorityForm() if request.method == "POST" else _priority_form(rec)
    if form.validate_on_submit():
        data = PriorityData(form.priority.data, form.reason.data or "", form.version.data)
        done = save(
            form,
            lambda: priority.set_priority(db.session, rec, data),
            success=f"Priority of {rec.heading.lower()} was saved.",
            redirect_to=url_for("recommendations.detail", rec_id=rec.id, _anchor="priority"),
            current=lambda: _priority_form(db.first_or_404(recommendation_detail(rec_id))),
        )
        if done is not None:
            return done
    return render_template("recommendations/priority.html", form=form, rec=rec, report=rec.report)


def _repeat_form(rec: Recommendation) -> RepeatForm:
    """The repeat-link form filled from the recommendation (GET, or the 409 page)."""
    data: dict[str, Any] = {"note": rec.repeat_note, "version": rec.version}
    earlier = repeats.earlier_of(db.session, rec)
    if earlier is not None:
        data |= {
            "repeats_report": earlier.report.number or earlier.report.title,
            "repeats_number": earlier.number,
        }
    return RepeatForm(formdata=None, data=data)


@bp.route("/recommendations/<int:rec_id>/repeats", methods=["GET", "POST"])
def repeat_link(rec_id: int) -> str | Response | tuple[str, int]:
    """Link the recommendation to the earlier one it repeats or rolls forward, or remove
    the link (OIG staff); refused (409) if it changed since the form was loaded."""
    rec = db.first_or_404(recommendation_detail(rec_id))
    policy.require(policy.can_manage_reports(current_user))
    form = RepeatForm() if request.method == "POST" else _repeat_form(rec)
    if form.validate_on_submit():
        data = repeats.RepeatData(
            form.repeats_report.data or "", form.repeats_number.data, form.note.data or "", form.version.data
        )
        done = save(
            form,
            lambda: repeats.set_repeat(db.session, rec, data),
            success=f"The repeat link of {rec.heading.lower()} was saved.",
            redirect_to=url_for("recommendations.detail", rec_id=rec.id, _anchor="repeats"),
            current=lambda: _repeat_form(db.first_or_404(recommendation_detail(rec_id))),
        )
        if done is not None:
            return done
    chain = repeats.chain(db.session, rec)
    return render_template("recommendations/repeat.html", form=form, rec=rec, report=rec.report, chain=chain)
