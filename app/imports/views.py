"""Bulk import for OIG staff: upload, see every problem or what would change, then commit."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from app.auth import policy
from app.exports import services as exports
from app.exports.columns import COLUMNS
from app.extensions import db
from app.imports import jobs as import_jobs
from app.imports import uploads
from app.imports.forms import CommitForm, UploadForm
from app.jobs import downloads
from app.jobs import services as job_services
from app.models import JobState
from app.web import client_ip
from app.web import commit as commit_write

bp = Blueprint("imports", __name__, url_prefix="/import")


@bp.route("", methods=["GET", "POST"])
def upload() -> str:
    """Upload a spreadsheet and see a dry run: every problem, or what would change."""
    policy.require(policy.can_manage_reports(current_user))
    form = UploadForm()
    run = uploads.dry_run(form) if form.validate_on_submit() else uploads.DryRun()
    if run.token:
        commit_write()  # the staged file, for the commit (on this or another server)
    return render_template(
        "imports/upload.html",
        form=form,
        result=run.result,
        token=run.token,
        filename=run.filename,
        commit_form=CommitForm(token=run.token),
        columns=COLUMNS,
    )


@bp.route("/commit", methods=["POST"])
def commit() -> WerkzeugResponse:
    """Apply a file that passed its dry run: all of it, in one transaction."""
    policy.require(policy.can_manage_reports(current_user))
    form = CommitForm()
    if not form.validate_on_submit():
        abort(400)
    token = form.token.data or ""
    staged = uploads.staged_file(token)  # a 400 or 409 at once, before any job
    job = downloads.ask(
        db.session,
        current_user._get_current_object(),
        kind=import_jobs.KIND,
        title=f"Import of {staged.filename}",
        params={"token": token, "source_ip": client_ip()},
        key=job_services.job_key(import_jobs.KIND, {"token": token, "user": current_user.id}),
    )
    commit_write()
    if job.state == JobState.DONE:  # it ran already (inline)
        flash((job.params.get("result") or {}).get("summary", "Imported."), "success")
        return redirect(url_for("reports.index"))
    return redirect(url_for("jobs.detail", job_id=job.id), code=303)


@bp.route("/template.csv")
def template_csv() -> Response:
    """The column names, ready to fill in."""
    policy.require(policy.can_manage_reports(current_user))
    return Response(
        "".join(exports.csv_chunks(iter(()))),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="rectrack-import-template.csv"'},
    )


@bp.route("/template.xlsx")
def template_xlsx() -> Response:
    """The column names as an Excel workbook, with a sheet that explains each."""
    policy.require(policy.can_manage_reports(current_user))
    data = b"".join(exports.xlsx_chunks(iter(()), notes=[(c.key, c.description) for c in COLUMNS]))
    return Response(
        data,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="rectrack-import-template.xlsx"'},
    )
