"""Request-side helpers of the API's views: the caller, permission answers, the one
commit of a write and what its refusals answer, page links and the "as of" date."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from flask import g, request, url_for
from flask_smorest import abort
from sqlalchemy.orm.exc import StaleDataError

from app.auth import policy
from app.extensions import db
from app.filters import AsOfError, parse_as_of, past_day
from app.lifecycle import queries as lifecycle_queries
from app.locking import ConflictError, MissingVersionError
from app.models import Recommendation, Sensitivity
from app.service_errors import ServiceError
from app.web import commit, note_access, today

T = TypeVar("T")

# A service's form field, where the API's body calls it something else.
FIELD_NAMES = {"components": "component_ids"}


def user() -> Any:
    return g.api_caller.user


def require(allowed: bool, message: str | None = None) -> None:
    if not allowed:
        abort(403, message=message or "The token's user may not see or do this.")


def staff_only(view: Callable[..., T]) -> Callable[..., T]:
    """OIG staff and administrators only: checked before the body is read."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        require(policy.can_manage_reports(user()), "Only OIG staff can change reports and recommendations.")
        return view(*args, **kwargs)

    return wrapper


def refuse(status: int, message: str, field: str | None = None) -> None:
    errors = (
        [{"pointer": "/" + "/".join(FIELD_NAMES.get(field, field).split(".")), "detail": message}]
        if field
        else None
    )
    abort(status, message=message, problem_errors=errors)


def write(action: Callable[[], T]) -> T:
    """Run a service and commit once; a refusal rolls back and answers the status the
    page would: 409 for a stale version or a step not possible now, 403/404 for a step
    not yours, 422 naming the field for a value a rule refuses."""
    try:
        result = action()
        commit()
    except MissingVersionError:
        db.session.rollback()
        raise
    except (ConflictError, StaleDataError):
        db.session.rollback()
        abort(409, message="The record changed since the version you sent. Read it again and retry.")
    except ServiceError as exc:
        db.session.rollback()
        if exc.field and exc.status not in (403, 404):
            refuse(422, exc.message, exc.field)
        abort(exc.status, message=exc.message)
    return result


def page_links(page: Any) -> dict[str, Any]:
    values: dict[str, Any] = {k: v for k, v in request.args.items() if k not in ("after", "before")}
    values |= request.view_args or {}
    next_url = url_for(request.endpoint or "", **values, after=page.next_cursor) if page.next_cursor else None
    return {"next": next_url, "next_cursor": page.next_cursor, "prev_cursor": page.prev_cursor}


def as_of(value: date | None) -> date | None:
    try:
        return past_day(parse_as_of(value.isoformat() if value else None, today()), today())
    except AsOfError as exc:
        refuse(422, str(exc), "as_of")
        raise  # unreachable


def load_rec(rec_id: int) -> Recommendation:
    rec = db.first_or_404(lifecycle_queries.lifecycle_detail(rec_id))
    require(policy.can_view_recommendation(user(), rec))
    if rec.sensitivity == Sensitivity.RESTRICTED:
        note_access("read", object_type="recommendations", object_id=rec.id, details={"via": "api"})
    return rec
