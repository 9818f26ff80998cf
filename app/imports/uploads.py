"""The request side of an import, for its views: the dry run of an uploaded file, and
the file staged for the signed-in user between that dry run and its commit."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import abort, current_app
from flask_login import current_user

from app.audit import AuditActor
from app.extensions import db
from app.imports import services
from app.imports.forms import UploadForm
from app.imports.reader import FileProblem, Sheet, read_sheet
from app.imports.staging import Staged, StagedExpired, Staging
from app.storage import STORE_ERRORS, blob_store, staged_ttl
from app.web import today

log = logging.getLogger(__name__)

NOT_WAITING = (
    "That upload is no longer waiting (it was imported, or its dry run expired); upload the file again."
)
EXPIRED = "This dry run expired; upload the file again. A checked file waits {hours} for its import."
NOT_STORED = (
    "The file could not be stored; nothing was saved. Try again (choose the file again); "
    "if it fails again, tell the RecTrack administrators."
)
NOT_READ = "The uploaded file could not be read back from storage; nothing was imported. Upload it again."
NO_LONGER_APPLIES = "The data changed since the dry run and the file no longer applies. Upload it again."


@dataclass(frozen=True)
class DryRun:
    """What the upload page shows: the dry run's result, and the token of the staged file
    when it passed (nothing before a file is sent)."""

    result: services.ImportResult | None = None
    token: str | None = None
    filename: str | None = None


def staging() -> Staging:
    config = current_app.config
    return Staging(db.session, blob_store(config), current_user.id, staged_ttl(config))


def _run(sheet: Sheet, filename: str, data: bytes, *, commit: bool) -> services.ImportResult:
    return services.run_import(
        db.session,
        AuditActor.for_user(current_user),
        sheet,
        filename=filename,
        data=data,
        commit=commit,
        today=today(),
    )


def dry_run(form: UploadForm) -> DryRun:
    """Run the uploaded file without keeping anything; stage it when it passed (flushed:
    the view commits). A file that cannot be read gets its message next to the field."""
    data = form.file.data.read()
    filename = form.file.data.filename or "upload"
    try:
        sheet = read_sheet(data)
    except FileProblem as exc:
        form.file.errors = [str(exc)]
        return DryRun(filename=filename)
    result = _run(sheet, filename, data, commit=False)
    db.session.rollback()  # a dry run leaves nothing behind
    if not result.ok:
        return DryRun(result, None, filename)
    try:
        token = staging().put(data, filename)
    except STORE_ERRORS as exc:
        db.session.rollback()
        log.error(
            "import upload not staged (%s): user %s, %s bytes", type(exc).__name__, current_user.id, len(data)
        )
        form.file.errors = [NOT_STORED]
        return DryRun(filename=filename)
    return DryRun(result, token, filename)


def expired_message() -> str:
    """What a commit after the dry run's time says."""
    hours = current_app.config["STAGED_IMPORT_TTL_HOURS"]
    return EXPIRED.format(hours=f"{hours} hour{'s' if hours != 1 else ''}")


def staged_file(token: str) -> Staged:
    """The file staged under this token: a 400 for a token the app did not make, a 409
    when it is no longer waiting."""
    try:
        staged = staging().get(token)
    except ValueError:
        abort(400)
    except StagedExpired:
        abort(409, description=expired_message())
    except STORE_ERRORS as exc:
        db.session.rollback()
        log.error("staged import upload not read (%s): user %s", type(exc).__name__, current_user.id)
        abort(409, description=NOT_READ)
    if staged is None:
        abort(409, description=NOT_WAITING)
    return staged
