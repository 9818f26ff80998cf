"""Committing an import as a background job: the file that passed its dry run is applied
by a worker, with a count of reports done, as the user who committed it."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from app.audit import AuditActor
from app.imports import services
from app.imports.reader import read_sheet
from app.imports.staging import StagedExpired, Staging
from app.imports.uploads import NO_LONGER_APPLIES, NOT_WAITING, expired_message
from app.jobs import registry
from app.storage import blob_store, staged_ttl
from app.web import today as app_today

KIND = "import"


def run(session: Session, user: Any, params: dict[str, Any], progress: registry.Progress) -> registry.Output:
    """Apply the staged file and use it up; the result is a short summary."""
    config = current_app.config
    staging = Staging(session, blob_store(config), user.id, staged_ttl(config))
    try:
        staged = staging.get(params["token"])
    except ValueError:
        raise registry.JobRefused(NOT_WAITING) from None
    except StagedExpired:
        raise registry.JobRefused(expired_message()) from None
    if staged is None:
        raise registry.JobRefused(NOT_WAITING)
    sheet = read_sheet(staged.data)
    total, done = services.count_reports(sheet), [0]

    def step(n: int) -> None:
        done[0] += n
        progress("Importing reports", done[0], total)

    actor = AuditActor.for_user(user, params.get("source_ip"))
    result = services.run_import(
        session,
        actor,
        sheet,
        filename=staged.filename,
        data=staged.data,
        commit=True,
        today=app_today(),
        progress=step,
    )
    if not result.ok:
        raise registry.JobRefused(NO_LONGER_APPLIES)
    if not staging.discard(params["token"]):
        raise registry.JobRefused(NOT_WAITING)
    summary = f"Imported {staged.filename}. {result.summary()}."
    name = f"import-result-{PurePath(staged.filename).stem or 'upload'}.txt"
    return registry.Output((summary + "\n").encode(), name, "text/plain", details={"summary": summary})


registry.register(KIND, run, writes=True)
