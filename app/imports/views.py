"""Bulk import for OIG staff: upload, see every problem or what would change, then commit."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from app.audit import AuditActor
from app.auth import policy
from app.exports import services as exports
from app.exports.columns import COLUMNS
from app.extensions import db
from app.imports import services
from app.imports.forms import CommitForm, UploadForm
from app.imports.reader import FileProblem, read_sheet
from app.imports.staging import Staging
from app.web import commit as commit_write
from app.web import today

bp = Blueprint("imports", __name__, url_prefix="/import")


def _staging() -> Staging:
    return Staging(Path(current_app.config["IMPORT_STAGING_DIR"]), current_user.id)


@bp.route("", methods=["GET", "POST"])
def upload() -> str:
    """Upload a spreadsheet and see a dry run: every problem, or what would change."""
    policy.require(policy.can_manage_reports(current_user))
    form = UploadForm()
    result = token = filename = None
    if form.validate_on_submit():
        data = form.file.data.read()
        filename = form.file.data.filename or "upload"
        try:
            sheet = read_sheet(data)
        except FileProblem as exc:
            form.file.errors = [str(exc)]
        else:
            result = services.run_import(
                db.session,
                AuditActor.for_user(current_user),
                sheet,
                filename=filename,
                data=data,
                commit=False,
                today=today(),
            )
            db.session.rollback()  # a dry run leaves nothing behind
            if result.ok:
                token = _staging().put(data, filename)
    return render_template(
        "imports/upload.html",
        form=form,
        result=result,
        token=token,
        filename=filename,
        commit_form=CommitForm(token=token),
        columns=COLUMNS,
    )


@bp.route("/commit", methods=["POST"])
def commit() -> WerkzeugResponse:
    """Apply a file that passed its dry run: all of it, in one transaction."""
    policy.require(policy.can_manage_reports(current_user))
    form = CommitForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        staged = _staging().get(form.token.data or "")
    except ValueError:
        abort(400)
    if staged is None:
        abort(409, description="That upload is no longer waiting; upload the file again.")
    filename = staged.filename
    result = services.run_import(
        db.session,
        AuditActor.for_user(current_user),
        read_sheet(staged.data),
        filename=filename,
        data=staged.data,
        commit=True,
        today=today(),
    )
    if not result.ok:  # the 409 page rolls the request back (app/errors.py)
        abort(
            409,
            description="The data changed since the dry run and the file no longer applies. Upload it again.",
        )
    commit_write()
    _staging().discard(form.token.data or "")
    flash(f"Imported {filename}. {result.summary()}.", "success")
    return redirect(url_for("reports.index"))


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
    handle = exports.xlsx_file(iter(()), notes=[(c.key, c.description) for c in COLUMNS])
    data = handle.read()
    handle.close()
    return Response(
        data,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="rectrack-import-template.xlsx"'},
    )
