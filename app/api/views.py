"""The JSON API, /api/v1 (issue 16): reads with the pages' visibility, filters and "as of",
and writes through the pages' services and step objects. Every request names its token
(app/api/auth.py); a change needs a write token and the version of what it changes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from flask import current_app, g, request, url_for
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from werkzeug.wrappers import Response

from app import cache
from app.api import auth, render, support
from app.api import schemas as s
from app.api import steps as api_steps
from app.audit import AuditActor
from app.auth import policy
from app.cache import reader_scope
from app.components import queries as component_queries
from app.dashboard import queries as dashboard_queries
from app.extensions import csrf, db
from app.filters import filters_from_args
from app.lifecycle import queries as lifecycle_queries
from app.lifecycle import steps
from app.lifecycle.steps import Step
from app.models import Concurrence, IssuePrecision, ReportType, Sensitivity, TextSource
from app.models.recommendation import recommendation_detail
from app.recommendations import queries as rec_queries
from app.recommendations import services as rec_services
from app.reports import queries as report_queries
from app.reports import services as report_services
from app.search import queries as search_queries
from app.web import keyset_page, note_access, today

bp = Blueprint(
    "api",
    __name__,
    url_prefix="/api/v1",
    description="RecTrack's records: reports, recommendations and their lifecycle.",
)
csrf.exempt(bp)  # the session cookie never authenticates /api, so there is no CSRF to stop
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@bp.before_request
def authenticate() -> None:
    """Every operation: the bearer token (401), its rate limit (429) and, for a change,
    its scope (403) come before the body is read."""
    g.api_caller = auth.authenticate()
    if request.method not in SAFE_METHODS:
        auth.require_write(g.api_caller)


@bp.after_request
def conditional(response: Response) -> Response:
    """An ETag on every successful read (a hash of the body, which is what this caller
    may see), and 304 when If-None-Match names it."""
    if request.method in ("GET", "HEAD") and response.status_code == 200:
        response.add_etag()
        response.headers["Cache-Control"] = "private, no-cache"
        response.make_conditional(request)
    return response


# --- reads --------------------------------------------------------------------------------


REPORT_KEYS = rec_queries.SORTS["newest"].keys[:2]


@bp.route("/reports")
@bp.arguments(s.ReportListArgs, location="query", as_kwargs=True)
@bp.response(200, s.ReportListSchema)
def reports(**args: Any) -> dict[str, Any]:
    """Reports the caller may open, newest first, with the report list's filters."""
    filters = report_queries.ReportFilters(
        q=(args.get("q") or "").strip(),
        component_id=args.get("component"),
        status=args.get("status", ""),
        year=args.get("year"),
    )
    stmt = report_queries.report_list(support.user(), filters)
    page = keyset_page(db.session, stmt, REPORT_KEYS, lambda r: (r.issued_on, r.id))
    counts = render.report_counts(db.session, [r.id for r in page.items])
    return {"items": [render.report_summary(r, counts) for r in page.items], "page": support.page_links(page)}


@bp.route("/reports/<int:report_id>")
@bp.response(200, s.ReportSchema)
def report(report_id: int) -> dict[str, Any]:
    """One report and its recommendations (a restricted one the caller may not read is a
    placeholder, as on the page). Reading restricted content is in the audit trail."""
    found = db.first_or_404(report_queries.report_detail(report_id))
    user = support.user()
    support.require(policy.can_view_report(user, found))
    shown = [
        r.number
        for r in found.recommendations
        if r.sensitivity == Sensitivity.RESTRICTED and policy.can_view_recommendation(user, r)
    ]
    if found.sensitivity == Sensitivity.RESTRICTED or shown:
        details = {"restricted_recommendations": shown, "via": "api"} if shown else {"via": "api"}
        note_access("read", object_type="reports", object_id=found.id, details=details)
    return render.report_detail(found, user)


@bp.route("/recommendations")
@bp.arguments(s.RecommendationListArgs, location="query", as_kwargs=True)
@bp.response(200, s.RecommendationListSchema)
def recommendations(**args: Any) -> dict[str, Any]:
    """The recommendation list: the page's filters and sorts, "as of" a past day, a page
    at a time (follow `page.next`). Restricted ones the caller may not read are
    placeholders, and never match a filter on what they hide."""
    support.as_of(args.get("as_of"))  # a future or too early date: 422 naming the field
    filters = filters_from_args()  # the list page's own reading of the query string
    sort = rec_queries.SORTS[rec_queries.sort_for(args.get("sort", "newest"), filters)]
    interval = current_app.config["UPDATE_INTERVAL_DAYS"]
    user = support.user()
    now = filters.day(today())
    stmt = rec_queries.recommendation_list(user, filters, now, interval)
    page = keyset_page(db.session, stmt, sort.keys, sort.values)
    states = rec_queries.states_on(db.session, [r.id for r in page.items], filters.as_of)
    key = ("api-recommendation-total", reader_scope(user), filters, now, interval)
    total = cache.current(db.session, key, lambda: db.session.scalar(lifecycle_queries.count_of(stmt)) or 0)
    return {
        "total": total,
        "as_of": filters.as_of,
        "items": [render.rec_item(r, user, states.get(r.id, r)) for r in page.items],
        "page": support.page_links(page),
    }


@bp.route("/recommendations/<int:rec_id>")
@bp.response(200, s.RecommendationSchema)
def recommendation(rec_id: int) -> dict[str, Any]:
    """One recommendation: each component's part with its clocks and due dates, the
    OIG's decision, the whole history, and the steps the caller may take now."""
    rec = support.load_rec(rec_id)
    return render.rec_detail(rec, support.user(), today(), current_app.config["UPDATE_INTERVAL_DAYS"])


@bp.route("/components")
@bp.response(200, s.ComponentSchema(many=True))
def components() -> list[dict[str, Any]]:
    """Agencies and components, with the recommendations addressed to each that the
    caller may read."""
    rows = db.session.execute(component_queries.components_with_counts(support.user())).all()
    return [render.component(row) for row in rows]


@bp.route("/dashboard")
@bp.arguments(s.AsOfArgs, location="query", as_kwargs=True)
@bp.response(200, s.DashboardSchema)
def dashboard(**args: Any) -> dict[str, Any]:
    """The dashboard's counts, as of today or the end of a past day."""
    as_of, interval = support.as_of(args.get("as_of")), current_app.config["UPDATE_INTERVAL_DAYS"]
    now, user = as_of or today(), support.user()
    data = cache.current(
        db.session,
        ("api-dashboard", reader_scope(user), now, interval, as_of),
        lambda: dashboard_queries.build(db.session, user, now, interval, as_of),
    )
    return render.dashboard(data, now, as_of)


@bp.route("/search")
@bp.arguments(s.SearchArgs, location="query", as_kwargs=True)
@bp.response(200, s.SearchSchema)
def search(q: str) -> dict[str, Any]:
    """Full-text search over what the caller may read, as the search page."""
    query = q.strip()[:200]
    hits = search_queries.search(db.session, support.user(), query) if query else []
    return {"q": query, "hits": [render.hit(h) for h in hits]}


# --- writes: reports and recommendations (OIG staff) --------------------------------------


def _report_data(body: dict[str, Any], base: report_services.ReportData) -> report_services.ReportData:
    values = {k: v for k, v in body.items() if k != "version"}
    for name, enum in (
        ("issued_precision", IssuePrecision),
        ("report_type", ReportType),
        ("sensitivity", Sensitivity),
    ):
        if values.get(name) is not None:
            values[name] = enum(values[name])
    return replace(base, **values)


@bp.route("/reports", methods=["POST"])
@support.staff_only
@bp.arguments(s.ReportCreateSchema)
@bp.response(201, s.ReportSchema)
def create_report(body: dict[str, Any]) -> ResponseReturnValue:
    """Log a new report (OIG staff)."""
    data = _report_data(body, report_services.ReportData(title="", issued_on=None))
    made = support.write(lambda: report_services.create_report(db.session, data, today=today()))
    found = db.first_or_404(report_queries.report_detail(made.id))
    return (
        render.report_detail(found, support.user()),
        201,
        {"Location": url_for("api.report", report_id=made.id)},
    )


@bp.route("/reports/<int:report_id>", methods=["PATCH"])
@support.staff_only
@bp.arguments(s.ReportEditSchema)
@bp.response(200, s.ReportSchema)
def edit_report(body: dict[str, Any], report_id: int) -> dict[str, Any]:
    """Change a report's facts (OIG staff): only the fields sent change; `version` is the
    one last read (409 when it changed since)."""
    found = db.first_or_404(report_queries.report_for_edit(report_id))
    data = _report_data(body, report_services.ReportData.of(found))
    support.write(
        lambda: report_services.update_report(db.session, found, data, today=today(), version=body["version"])
    )
    db.session.expire_all()
    return render.report_detail(db.first_or_404(report_queries.report_detail(report_id)), support.user())


def _addressee_rows(rows: list[dict[str, Any]]) -> list[rec_services.AddresseeData]:
    out = []
    for row in rows:
        values = dict(row)
        if "concurrence" in values:
            values["concurrence"] = Concurrence(values["concurrence"])
        out.append(rec_services.AddresseeData(**values))
    return out


def _rec_data(body: dict[str, Any], base: rec_services.RecommendationData) -> rec_services.RecommendationData:
    values = {k: v for k, v in body.items() if k != "version"}
    if "addressees" in values:
        values["addressees"] = _addressee_rows(values["addressees"])
    if "sensitivity" in values:
        values["sensitivity"] = Sensitivity(values["sensitivity"])
    if "text_source" in values:
        values["text_source"] = TextSource(values["text_source"])
    if "version" in body:
        values["version"] = body["version"]
    return replace(base, **values)


@bp.route("/reports/<int:report_id>/recommendations", methods=["POST"])
@support.staff_only
@bp.arguments(s.RecommendationCreateSchema)
@bp.response(201, s.RecommendationSchema)
def create_recommendation(body: dict[str, Any], report_id: int) -> ResponseReturnValue:
    """Enter a recommendation of a report, with the components it is addressed to (OIG
    staff). Its history starts Open–Unresolved on the report's date."""
    found = db.first_or_404(rec_queries.report_with_numbers(report_id))
    default_sensitivity = found.sensitivity
    data = _rec_data(
        body,
        rec_services.RecommendationData(number=None, text="", sensitivity=default_sensitivity),
    )
    actor = AuditActor.for_user(support.user())
    made = support.write(
        lambda: rec_services.create_recommendation(db.session, actor, found, data, today=today())
    )
    db.session.expire_all()
    rec = support.load_rec(made.id)
    body_out = render.rec_detail(rec, support.user(), today(), current_app.config["UPDATE_INTERVAL_DAYS"])
    return body_out, 201, {"Location": url_for("api.recommendation", rec_id=made.id)}


@bp.route("/recommendations/<int:rec_id>", methods=["PATCH"])
@support.staff_only
@bp.arguments(s.RecommendationEditSchema)
@bp.response(200, s.RecommendationSchema)
def edit_recommendation(body: dict[str, Any], rec_id: int) -> dict[str, Any]:
    """Correct a recommendation and its addressees (OIG staff): only the fields sent
    change. `version` is the recommendation's; `addressees`, when sent, is the whole new
    list, each row already there with its own `version`."""
    rec = db.first_or_404(recommendation_detail(rec_id))
    base = rec_services.RecommendationData.of(rec)
    # Rows not sent are kept as they are now (their versions: nothing of theirs changes).
    base.addressees = [
        replace(row, version=a.version) for row, a in zip(base.addressees, rec.addressees, strict=True)
    ]
    data = _rec_data(body, base)
    actor = AuditActor.for_user(support.user())
    support.write(lambda: rec_services.update_recommendation(db.session, actor, rec, data, today=today()))
    db.session.expire_all()
    return render.rec_detail(
        support.load_rec(rec_id), support.user(), today(), current_app.config["UPDATE_INTERVAL_DAYS"]
    )


# --- writes: the lifecycle steps ----------------------------------------------------------


def _step_view(step: Step) -> Callable[..., Any]:
    """The view of one step: who and when are checked (403, 404, 409) before the body is
    read; then the step is taken with the version sent, as on its page."""

    @bp.arguments(s.step_schema(step))
    @bp.response(200, s.StepDoneSchema)
    def take(body: dict[str, Any], rec_id: int, addressee_id: int | None = None) -> dict[str, Any]:
        return api_steps.take(step, body, *g.api_step_target)

    @functools.wraps(take)
    def view(rec_id: int, addressee_id: int | None = None) -> Any:
        g.api_step_target = api_steps.target(step, rec_id, addressee_id)
        return take(rec_id=rec_id, addressee_id=addressee_id)

    view.__doc__ = (
        f"{step.label} ({'on one component' if step.on_addressee else 'the recommendation'}). {step.done}"
    )
    return view


for _step in steps.STEPS.values():
    if _step.on_addressee:
        _url = f"/recommendations/<int:rec_id>/addressees/<int:addressee_id>/steps/{_step.slug}"
    else:
        _url = f"/recommendations/<int:rec_id>/steps/{_step.slug}"
    bp.route(_url, methods=["POST"], endpoint=f"step_{_step.name}")(_step_view(_step))
