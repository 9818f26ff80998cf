"""The search page, and the acronyms it expands (administrators)."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth import policy
from app.cache import data_version
from app.extensions import db
from app.forms import ConfirmForm
from app.jobs import downloads
from app.jobs import services as job_services
from app.models import Acronym
from app.models.component import all_components
from app.search import acronyms, queries
from app.search import jobs as search_jobs
from app.search.forms import AcronymDeleteForm, AcronymEditForm, AcronymForm
from app.web import commit, save

bp = Blueprint("search", __name__)

NO_VERSION = "The form was sent without the version it was loaded at. Reload the page and try again."


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


@bp.route("/admin/acronyms", methods=["GET", "POST"])
def acronym_list() -> str | Response | tuple[str, int]:
    """The acronyms search expands, and a form to add one (administrators)."""
    policy.require(policy.can_manage_acronyms(current_user))
    form = AcronymForm()
    if form.validate_on_submit():
        done = save(
            form,
            lambda: acronyms.save_acronym(
                db.session, None, short=form.acronym.data or "", long=form.expansion.data or ""
            ),
            success=lambda saved: (
                f"{saved.acronym} was added: a search for it also finds “{saved.expansion}”."
            ),
            redirect_to=url_for("search.acronym_list"),
        )
        if done is not None:
            return done
    return render_template(
        "search/acronyms.html",
        form=form,
        acronyms=db.session.scalars(acronyms.all_acronyms()).all(),
        components=db.session.scalars(all_components()).all(),
    )


@bp.route("/admin/acronyms/<int:acronym_id>/edit", methods=["GET", "POST"])
def acronym_edit(acronym_id: int) -> str | Response | tuple[str, int]:
    """Change an acronym, or delete it (administrators)."""
    acronym = db.get_or_404(Acronym, acronym_id)
    policy.require(policy.can_manage_acronyms(current_user))
    form = AcronymEditForm(obj=acronym if request.method == "GET" else None)
    delete_form = AcronymDeleteForm(prefix="delete", data={"version": acronym.version})
    if form.validate_on_submit():
        if form.version.data is None:
            abort(400, description=NO_VERSION)
        version = form.version.data
        done = save(
            form,
            lambda: acronyms.save_acronym(
                db.session,
                acronym,
                short=form.acronym.data or "",
                long=form.expansion.data or "",
                version=version,
            ),
            success=lambda saved: f"{saved.acronym} was saved.",
            redirect_to=url_for("search.acronym_list"),
        )
        if done is not None:
            return done
    return render_template("search/acronym_form.html", form=form, delete_form=delete_form, acronym=acronym)


@bp.route("/admin/acronyms/<int:acronym_id>/delete", methods=["POST"])
def acronym_delete(acronym_id: int) -> Response | tuple[str, int]:
    """Delete an acronym (administrators); the audit trail keeps a copy."""
    acronym = db.get_or_404(Acronym, acronym_id)
    policy.require(policy.can_manage_acronyms(current_user))
    form = AcronymDeleteForm(prefix="delete")
    if not form.validate_on_submit() or form.version.data is None:
        abort(400, description=NO_VERSION)
    version = form.version.data
    done = save(
        form,
        lambda: acronyms.delete_acronym(db.session, acronym, version),
        success=f"{acronym.acronym} was deleted. The audit trail keeps a copy.",
        redirect_to=url_for("search.acronym_list"),
    )
    assert done is not None  # a refused delete is a conflict page, never a field message
    return done


@bp.route("/admin/search-index", methods=["POST"])
def reindex() -> Response:
    """Rebuild the search index, as a background job (administrators)."""
    policy.require(policy.can_manage_users(current_user))
    if not ConfirmForm().validate_on_submit():
        abort(400)
    job = downloads.ask(
        db.session,
        current_user._get_current_object(),
        kind=search_jobs.KIND,
        title="Rebuild of the search index",
        params={},
        key=job_services.job_key(
            search_jobs.KIND, {"data": data_version(db.session), "user": current_user.id}
        ),
    )
    commit()
    return redirect(url_for("jobs.detail", job_id=job.id), code=303)
