"""The write path: one service-error base, one save helper, hooks on the app's session class."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.auth.services import AccountError
from app.components.services import ComponentError
from app.lifecycle.attachments import AttachmentError
from app.lifecycle.workflow import WorkflowError
from app.locking import ConflictError, MissingVersionError
from app.recommendations.services import RecommendationError
from app.reports.services import ReportError
from app.search.acronyms import AcronymError
from app.service_errors import ServiceError


@pytest.mark.parametrize(
    ("error", "field", "status"),
    [
        (ReportError("Choose components.", field="components"), "components", 422),
        (RecommendationError("Taken.", field="number"), "number", 422),
        (AccountError("Enter a name.", field="display_name"), "display_name", 422),
        (AcronymError("Already listed.", "acronym"), "acronym", 422),
        (ComponentError("A loop.", field="parent_id"), "parent_id", 422),
        (WorkflowError("Not now."), None, 409),
        (WorkflowError("Not yours.", 403), None, 403),
        (WorkflowError("Too early.", field="target_date"), "target_date", 409),
        (AttachmentError("x.exe: not accepted."), "documents", 422),
        (ConflictError(), None, 409),
        (MissingVersionError(), None, 400),
    ],
)
def test_every_service_error_carries_message_field_and_status(
    error: ServiceError, field: str | None, status: int
) -> None:
    assert isinstance(error, ServiceError)
    assert error.field == field
    assert error.status == status
    assert error.message == str(error)


def test_a_refused_delete_is_a_conflict() -> None:
    assert ReportError("Has history.", status=409).status == 409


def test_no_view_commits_or_rolls_back_by_hand() -> None:
    """Views end a write through app.web.save / app.web.commit, the one commit point."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "app"
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in sorted(root.glob("*/views.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "session.commit(" in line or ("session.rollback(" in line and "dry run" not in line)
    ]
    assert offenders == []


def test_the_write_hooks_are_on_the_apps_session_class_not_sqlalchemys() -> None:
    """Audit, search indexing and the data version are attached to AppSession; a session of
    SQLAlchemy's own class (a script's, a library's) is left alone."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from app import audit, cache
    from app.database import AppSession
    from app.extensions import db
    from app.search import index

    hooks = [
        ("before_flush", audit._guard_append_only),
        ("before_flush", audit._name_before_flush),
        ("after_flush", audit._capture_changes),
        ("after_flush", cache._note_after_flush),
        ("before_commit", cache._bump_before_commit),
        ("after_commit", cache._savepoint_committed),
        ("after_transaction_end", cache._forget),
        ("after_flush", index._note_after_flush),
        ("before_commit", index._refresh_before_commit),
        ("after_transaction_end", index._forget),
    ]
    assert [event.contains(AppSession, name, fn) for name, fn in hooks] == [True] * 10
    assert [event.contains(Session, name, fn) for name, fn in hooks] == [False] * 10
    assert isinstance(db.session(), AppSession)


def test_the_data_version_moves_on_a_write_that_the_audit_trail_does_not_record(db_session) -> None:
    """The data-version bump is its own hook: a change to a row whose only changed column the
    audit trail leaves out still moves the version (before, the bump rode on audit rows)."""
    import sqlalchemy as sa

    from app import cache
    from app.extensions import db
    from app.models import AuditEvent, User

    user = db.session.scalars(sa.select(User).order_by(User.id)).first()
    assert user is not None
    unaudited = [
        a.key
        for a in sa.inspect(User).column_attrs
        if a.columns[0].info.get("audit") is False and a.columns[0].info.get("derived", True)
    ]
    assert unaudited, "User has a column the audit trail leaves out"
    before_version = cache.data_version(db.session)
    before_events = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    column = unaudited[0]
    setattr(user, column, _another_value(getattr(user, column)))
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == before_events
    assert cache.data_version(db.session) == before_version + 1


@pytest.mark.parametrize("column", ["session_version", "failed_login_count", "last_login_at"])
def test_sign_in_bookkeeping_keeps_the_data_version(db_session, column: str) -> None:
    """A sign-in writes these columns; no cached figure reads them, so caches stay."""
    import sqlalchemy as sa

    from app import cache, clock
    from app.extensions import db
    from app.models import User

    user = db.session.scalars(sa.select(User).order_by(User.id)).first()
    assert user is not None
    before = cache.data_version(db.session)
    value = getattr(user, column)
    setattr(user, column, clock.now() if column == "last_login_at" else value + 1)
    db.session.commit()
    assert cache.data_version(db.session) == before
    user.display_name = user.display_name + " (renamed)"  # an ordinary column still counts
    db.session.commit()
    assert cache.data_version(db.session) == before + 1


def _another_value(value: object) -> object:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, datetime):
        return value + timedelta(seconds=1)
    raise AssertionError(f"no other value for {value!r}")
