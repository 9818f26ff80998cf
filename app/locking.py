"""Optimistic locking for every record people edit through a form.

Each editable row has a `version` column (SQLAlchemy's `version_id_col`). An edit form
carries the version it was loaded with; the service compares it with the row before
changing anything and refuses a stale save with ConflictError (the views answer 409 and
show both versions). A save that names no version is refused too (MissingVersionError,
a 400): without it nothing could be checked. Between that check and the write, the
version column in the UPDATE's WHERE clause catches a save that commits in the meantime
(StaleDataError, also a 409).

Callers that are not forms (seeding, imports, scripts and tests driving a service
directly) pass UNCHECKED, explicitly or through a default.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, Protocol

from app.service_errors import ServiceError


class _Unchecked(enum.Enum):
    UNCHECKED = "unchecked"


UNCHECKED = _Unchecked.UNCHECKED
# What an edit service is told about the version the caller last saw.
Expected = int | None | _Unchecked


class Versioned(Protocol):
    version: int


MISSING_VERSION_MESSAGE = (
    "The form did not say which version of the record it was opened on, so it could not be "
    "checked against changes saved since. Nothing was saved. Reload the page and enter your "
    "change again."
)


class MissingVersionError(ServiceError):
    """A save that does not say which version of the record it started from (a 400)."""

    def __init__(self) -> None:
        super().__init__(MISSING_VERSION_MESSAGE, status=400)


class ConflictError(ServiceError):
    """The record changed after the form was loaded (a 409). `current` is what it holds
    now, label by label, when the service can say; a view may describe it itself."""

    def __init__(self, current: dict[str, str] | None = None) -> None:
        super().__init__("Someone else saved a change after you opened this form.", status=409)
        self.current = current or {}


def check_version(
    obj: Versioned,
    expected: Expected,
    describe: Callable[[Any], dict[str, str]] | None = None,
) -> None:
    """Refuse to save over a change made after the form was loaded."""
    if expected is UNCHECKED:
        return
    if expected is None:
        raise MissingVersionError()
    if obj.version != expected:
        raise ConflictError(describe(obj) if describe else None)


def bump_version(obj: Versioned) -> None:
    """Count a save as a new version even when only a many-to-many collection (which
    has no column in the row) changed, so any form loaded before it is stale."""
    obj.version = obj.version + 1
