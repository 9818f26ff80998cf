"""The write path: one service-error base, one save helper, hooks on the app's session class."""

from __future__ import annotations

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
