"""Request-level helpers shared by views: the one place a request's writes are committed
(`save`, `commit`), the client's address, safe redirects, dates, numbers from the query
string, keyset pages and access events for the audit trail."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, TypeVar, overload
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import abort, current_app, flash, g, redirect, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.routing import IntegerConverter
from werkzeug.wrappers import Response
from wtforms import Form

from app import audit, clock, constraints, keyset
from app.extensions import db
from app.keyset import KeysetPage, SortKey
from app.lifecycle.conflicts import render_conflict
from app.locking import ConflictError, MissingVersionError
from app.service_errors import ServiceError
from app.text import CONTROL_CHARACTER_MESSAGE, has_control_characters

T = TypeVar("T")

log = logging.getLogger(__name__)

# Ids are 32-bit INTEGER columns on PostgreSQL; a larger number is no row, not an error.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<int:...>` in routes: numbers past MAX_ID do not match, so they are a 404."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


@overload
def int_arg(name: str, *, low: int = ..., high: int = ..., default: int) -> int: ...
@overload
def int_arg(name: str, *, low: int = ..., high: int = ..., default: None = None) -> int | None: ...
def int_arg(name: str, *, low: int = 1, high: int = MAX_ID, default: int | None = None) -> int | None:
    """A whole-number query argument: `default` when absent or not a number, a 400
    saying the range when outside [low, high] (the database could not compare it)."""
    value = request.args.get(name, type=int)
    if value is None:
        return default
    if not low <= value <= high:
        abort(400, description=f"“{name}” must be a whole number from {low:,} to {high:,}.")
    return value


def note_access(
    action: str,
    *,
    object_type: str | None = None,
    object_id: int | None = None,
    details: dict[str, Any] | None = None,
    outcome: str = "success",
) -> None:
    """Have this request leave an access event in the audit trail (a read of a restricted
    item, a download, a PDF, a refusal). It is written when the request's own work is over,
    in a transaction of its own (`pending_accesses`, app/__init__.py), and before the
    response leaves: if it cannot be written, the response is an error, not the data."""
    g.setdefault("audit_accesses", []).append(
        audit.Access(action, object_type, object_id, details or {}, outcome)
    )


def pending_accesses() -> list[audit.Access]:
    """The access events noted so far in this request (and forget them)."""
    return g.pop("audit_accesses", [])


def reject_control_characters() -> None:
    """Before every request: a 400 when a query argument, a form field, one of their
    names or an uploaded file's name holds a control character. Checked once here, so no
    view, form or query ever sees one (PostgreSQL would fail on NUL with a 500)."""
    texts: list[str] = []
    for multi in (request.args, request.form):
        for name, values in multi.lists():
            texts.append(name)
            texts.extend(values)
    for name, upload in request.files.items(multi=True):
        texts.extend((name, upload.filename or ""))
    if any(has_control_characters(text) for text in texts):
        abort(400, description=CONTROL_CHARACTER_MESSAGE)


API_PREFIX = "/api"


def is_api_request() -> bool:
    """A request under /api: answered in JSON, authenticated by a bearer token only
    (app/api), never by the session cookie, and never sent to the sign-in page."""
    path = request.path
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


def client_ip() -> str | None:
    """The client's address (ProxyFix rewrites remote_addr when proxies are trusted)."""
    return request.remote_addr


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None (no open redirects)."""
    if not target:
        return None
    target = target.strip()
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def today() -> date:
    """Today's date where the OIG works (APP_TIMEZONE), for deadlines and defaults."""
    return clock.today()


def _field_at(form: Form, path: str) -> Any:
    """The field at a dotted path such as "addressees.1.component_id", or None."""
    target: Any = form
    for part in path.split("."):
        try:
            target = target[int(part)] if part.isdigit() else getattr(target, part)
        except (AttributeError, IndexError, KeyError, TypeError):
            return None
    return target


def add_field_error(form: Form, field: str | None, message: str) -> None:
    """Show a service's error next to the field it concerns (or at the top)."""
    target = _field_at(form, field) if field else None
    if target is not None and hasattr(target, "errors"):
        target.errors = [*target.errors, message] if isinstance(target.errors, list) else [message]
    else:
        form.form_errors.append(message)


def refused_by_constraint(form: Form | None, exc: IntegrityError) -> None:
    """Roll back, log which constraint refused, and show its message next to its field;
    the page answers 422 (`constraint_status`). Without a form: the 422 page."""
    db.session.rollback()
    error = constraints.refusal(exc)
    log.warning("constraint %s refused a save on %s", error.constraint or "(unknown)", request.endpoint)
    if form is None:
        abort(422, description=error.message)
    add_field_error(form, error.field, error.message)
    g.refused_by_constraint = True


def constraint_status(response: Response) -> Response:
    """After a request: a form shown again because a constraint refused it answers 422."""
    if g.get("refused_by_constraint") and response.status_code == 200:
        response.status_code = 422
    return response


def keyset_page(
    session: Session, stmt: sa.Select[Any], keys: Sequence[SortKey], values_of: Callable[[Any], Any]
) -> KeysetPage:
    """The page of `stmt` that the request's after/before cursor names; a 400 for a
    cursor the app did not make."""
    try:
        return keyset.page(
            session,
            stmt,
            keys,
            after=request.args.get("after"),
            before=request.args.get("before"),
            size=current_app.config["PAGE_SIZE"],
            values_of=values_of,
        )
    except keyset.BadCursor:
        abort(400, description="That page link is not valid. Start again from the first page.")


def commit() -> None:
    """End the request's write: the services only flushed; the session's hooks have
    written the audit rows, search documents and data version; this makes it all permanent
    at once. The one commit of a request, used by `save` and by the few views that write
    without a form (sign-in, sign-out, an import)."""
    db.session.commit()


def save(
    form: Form | None,
    action: Callable[[], T],
    *,
    success: str | Callable[[T], str],
    redirect_to: str | Callable[[T], str],
    current: Callable[[], Any] | None = None,
    then: Callable[[T], None] | None = None,
) -> Response | tuple[str, int] | None:
    """Run a service call for a validated form, commit once, flash `success` and redirect
    (both may be worked out from what `action` returned). On a refusal, roll back:
    - ConflictError: the 409 page with both versions (`current()` is a form filled from the
      record as it is now); StaleDataError too when the view gives `current`, otherwise
      the generic 409 page (a save that committed between the check and the write);
    - another ServiceError with a field, or with status 422: its message next to that field
      (or at the top of the form); None is returned and the view shows the form again;
    - any other ServiceError (a 403, a 409 with nothing to point at): that status's page.
    - IntegrityError (two saves raced past the form's checks): the message next to the
      field the constraint concerns, the form shown again with status 422
      (`refused_by_constraint`).
    MissingVersionError is left to the 400 page. `then` runs after the commit."""
    try:
        result = action()
    except MissingVersionError:
        raise
    except IntegrityError as exc:
        refused_by_constraint(form, exc)
        return None
    except (ConflictError, StaleDataError) as exc:
        db.session.rollback()
        if isinstance(exc, StaleDataError) and current is None:
            raise
        conflict = exc if isinstance(exc, ConflictError) else ConflictError()
        if form is None:
            abort(409, description=conflict.message)
        return render_conflict(conflict, form, current() if current is not None else None)
    except ServiceError as exc:
        db.session.rollback()
        if form is None or (exc.field is None and exc.status != 422):
            abort(exc.status, description=exc.message)
        add_field_error(form, exc.field, exc.message)
        return None
    try:
        commit()
    except IntegrityError as exc:
        refused_by_constraint(form, exc)
        return None
    if then is not None:
        then(result)
    flash(success(result) if callable(success) else success, "success")
    return redirect(redirect_to(result) if callable(redirect_to) else redirect_to)
