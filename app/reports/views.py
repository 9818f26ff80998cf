"""Report pages: list, detail, create, edit, delete."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth import policy
from app.extensions import db
from app.follows import services as follows
from app.forms import ConfirmForm, select_choices
from app.models import IssuePrecision, Report, ReportType, Sensitivity
from app.models.component import all_components
from app.pagination import paginate
from app.reports import menus, queries, services
from app.reports.forms import ReportEditForm, ReportForm
from app.web import int_arg, note_access, save, today

bp = Blueprint("reports", __name__, url_prefix="/reports")


def _filters_from_args() -> queries.ReportFilters:
    args = request.args
    status = args.get("status", "")
    return queries.ReportFilters(
        q=args.get("q", "").strip()[:200],
        component_id=int_arg("component"),
        status=status if status in queries.REPORT_STATUSES else "",
        year=int_arg("year", high=9999),
    )


@bp.route("")
def index() -> str:
    """Reports the user may see, with search and filters."""
    filters = _filters_from_args()
    page = paginate(
        db.session,
        queries.report_list(current_user, filters),
        int_arg("page", default=1),
        current_app.config["PAGE_SIZE"],
        rows=True,
    )
    return render_template(
        "reports/index.html",
        page=page,
        filters=filters,
        statuses=queries.REPORT_STATUSES,
        components=db.session.scalars(all_components()).all(),
        years=menus.issue_years(db.session, current_user),
    )


@bp.route("/<int:report_id>")
def detail(report_id: int) -> str:
    """One report with its recommendations, addressees and concurrence. Showing a
    restricted report, or restricted recommendations in full, is recorded in the audit trail."""
    report = db.first_or_404(queries.report_detail(report_id))
    policy.require(policy.can_view_report(current_user, report))
    shown = [
        r.number
        for r in report.recommendations
        if r.sensitivity == Sensitivity.RESTRICTED and policy.can_view_recommendation(current_user, r)
    ]
    if report.sensitivity == Sensitivity.RESTRICTED or shown:
        details = {"restricted_recommendations": shown} if shown else {}
        note_access("read", object_type="reports", object_id=report.id, details=details)
    following = follows.is_following(db.session, current_user, follows.REPORT, report.id)
    return render_template("reports/detail.html", report=report, following=following)


def _form_choices(form: ReportForm) -> None:
    form.components.choices = select_choices(
        (c.id, f"{c.abbreviation}: {c.name}") for c in db.session.scalars(all_components())
    )


def _data_from_form(form: ReportForm) -> services.ReportData:
    issue = form.issued_on.data  # None: "not known" (InputRequired: never blank once valid)
    return services.ReportData(
        number=form.number.data,
        issuing_office=form.issuing_office.data or "",
        title=form.title.data or "",
        issued_on=issue.on if issue else None,
        issued_precision=issue.precision if issue else IssuePrecision.DAY,
        issued_on_approximate=form.issued_on_approximate.data,
        report_type=ReportType(form.report_type.data) if form.report_type.data else None,
        url=form.url.data,
        summary=form.summary.data or "",
        recommendations_published=form.recommendations_published.data,
        concurrence_summary=form.concurrence_summary.data or "",
        sensitivity=Sensitivity(form.sensitivity.data),
        component_ids=list(form.components.data or []),
        sources=form.sources.data or "",
        notes=form.notes.data or "",
    )


@bp.route("/new", methods=["GET", "POST"])
def create() -> str | Response | tuple[str, int]:
    """Log a new report (OIG staff)."""
    policy.require(policy.can_manage_reports(current_user))
    form = ReportForm()
    _form_choices(form)
    if form.validate_on_submit():
        done = save(
            form,
            lambda: services.create_report(db.session, _data_from_form(form), today=today()),
            success=lambda report: f"Report {report} was logged. Now add its recommendations.",
            redirect_to=lambda report: url_for("reports.detail", report_id=report.id),
        )
        if done is not None:
            return done
    return render_template("reports/form.html", form=form, report=None)


def _edit_form(report: Report) -> ReportEditForm:
    """The edit form filled from the report as it is now."""
    form = ReportEditForm(formdata=None, obj=report)
    _form_choices(form)
    form.components.data = [c.id for c in report.components]
    form.issued_on.data = report.issue_date
    form.issued_on.not_known = report.issue_date is None
    form.report_type.data = report.report_type.value if report.report_type else ""
    form.sensitivity.data = report.sensitivity.value
    return form


@bp.route("/<int:report_id>/edit", methods=["GET", "POST"])
def edit(report_id: int) -> str | Response | tuple[str, int]:
    """Change a report's facts (OIG staff); refused (409) if it changed since the form
    was loaded."""
    report = db.first_or_404(queries.report_for_edit(report_id))
    policy.require(policy.can_manage_reports(current_user))
    if request.method == "GET":
        return render_template("reports/form.html", form=_edit_form(report), report=report)
    form = ReportEditForm()
    _form_choices(form)
    if form.validate_on_submit():
        done = save(
            form,
            lambda: services.update_report(
                db.session, report, _data_from_form(form), today=today(), version=form.version.data
            ),
            success=lambda _: f"Report {report} was saved.",
            redirect_to=url_for("reports.detail", report_id=report.id),
            current=lambda: _edit_form(db.first_or_404(queries.report_for_edit(report_id))),
        )
        if done is not None:
            return done
    return render_template("reports/form.html", form=form, report=report)


@bp.route("/<int:report_id>/delete", methods=["GET", "POST"])
def delete(report_id: int) -> str | Response | tuple[str, int]:
    """Delete a report entered by mistake (OIG staff), after a confirmation page."""
    report = db.first_or_404(queries.report_detail(report_id))
    policy.require(policy.can_manage_reports(current_user))
    form = ConfirmForm()
    if form.validate_on_submit():
        done = save(
            None,  # a refusal is a 409 page: there is no field to show it by
            lambda: services.delete_report(db.session, report),
            success=f"Report {report} and its recommendations were deleted. "
            "The audit trail keeps a full copy.",
            redirect_to=url_for("reports.index"),
        )
        if done is not None:
            return done
    return render_template("reports/delete.html", form=form, report=report)
