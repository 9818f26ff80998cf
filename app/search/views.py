"""The search page, and the acronyms it expands (administrators)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth import policy
from app.components.queries import all_components
from app.extensions import db
from app.lifecycle.conflicts import render_conflict
from app.locking import ConflictError
from app.models import Acronym
from app.search import acronyms, queries
from app.search.forms import AcronymDeleteForm, AcronymEditForm, AcronymForm
from app.web import add_field_error

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
def acronym_list() -> str | Response:
    """The acronyms search expands, and a form to add one (administrators)."""
    policy.require(policy.can_manage_acronyms(current_user))
    form = AcronymForm()
    if form.validate_on_submit():
        try:
            saved = acronyms.save_acronym(
                db.session, None, short=form.acronym.data or "", long=form.expansion.data or ""
            )
        except acronyms.AcronymError as exc:
            db.session.rollback()
            add_field_error(form, exc.field, str(exc))
        else:
            db.session.commit()
            flash(f"{saved.acronym} was added: a search for it also finds “{saved.expansion}”.", "success")
            return redirect(url_for("search.acronym_list"))
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
        try:
            acronyms.save_acronym(
                db.session,
                acronym,
                short=form.acronym.data or "",
                long=form.expansion.data or "",
                version=form.version.data,
            )
        except ConflictError as exc:
            db.session.rollback()
            return render_conflict(exc, form)
        except acronyms.AcronymError as exc:
            db.session.rollback()
            add_field_error(form, exc.field, str(exc))
        else:
            db.session.commit()
            flash(f"{acronym.acronym} was saved.", "success")
            return redirect(url_for("search.acronym_list"))
    return render_template("search/acronym_form.html", form=form, delete_form=delete_form, acronym=acronym)


@bp.route("/admin/acronyms/<int:acronym_id>/delete", methods=["POST"])
def acronym_delete(acronym_id: int) -> Response | tuple[str, int]:
    """Delete an acronym (administrators); the audit trail keeps a copy."""
    acronym = db.get_or_404(Acronym, acronym_id)
    policy.require(policy.can_manage_acronyms(current_user))
    form = AcronymDeleteForm(prefix="delete")
    if not form.validate_on_submit() or form.version.data is None:
        abort(400, description=NO_VERSION)
    name = acronym.acronym
    try:
        acronyms.delete_acronym(db.session, acronym, form.version.data)
    except ConflictError as exc:
        db.session.rollback()
        return render_conflict(exc, form)
    db.session.commit()
    flash(f"{name} was deleted. The audit trail keeps a copy.", "success")
    return redirect(url_for("search.acronym_list"))
