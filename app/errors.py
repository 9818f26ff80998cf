"""Friendly error pages. No traceback ever reaches the browser; a failed request rolls
back, so nothing is half-saved. A refused request (403) is recorded in the audit trail
after the rollback, in a transaction of its own (app.audit.commit_apart)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, g, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from app import constraints, unavailable
from app.api import problems
from app.extensions import db
from app.locking import MissingVersionError
from app.observability import logs
from app.web import constraint_status, is_api_request, note_access, pending_accesses

log = logging.getLogger(__name__)

MESSAGES: dict[int, tuple[str, str]] = {
    400: (
        "Bad request",
        "The request could not be understood. Go back, reload the page and try again.",
    ),
    403: ("Not allowed", "Your account does not have access to this page or action."),
    404: (
        "Page not found",
        "There is no page at this address. It may have been deleted, or the link may be wrong.",
    ),
    405: ("Not allowed", "This address does not accept that kind of request."),
    409: (
        "Someone else changed this first",
        "The record changed after you opened it, or the change conflicts with another record. "
        "Nothing was saved. Reload the page to see the current version.",
    ),
    413: ("File too large", "The upload is larger than RecTrack accepts. Nothing was saved."),
    422: ("Not saved", "A value was refused because it breaks a rule of the records. Nothing was saved."),
    429: ("Too many attempts", "Too many requests in a short time. Wait a minute and try again."),
    500: (
        "Something went wrong",
        "RecTrack could not finish this request. Nothing was saved. "
        "If it happens again, tell the RecTrack administrators what you were doing.",
    ),
    503: (
        "RecTrack is temporarily unavailable",
        "RecTrack cannot reach what it needs to answer right now. Nothing was saved. Try again in a minute.",
    ),
}


def render_error(code: int, detail: str | None = None) -> tuple[str, int]:
    title, message = MESSAGES.get(code, MESSAGES[500])
    return render_template("errors/error.html", code=code, title=title, message=message, detail=detail), code


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> Any:
        db.session.rollback()
        if is_api_request():  # never: /api is exempt (cookies do not count there)
            return problems.problem(400)
        logs.mark("refused", f"csrf: {exc.description}")  # Flask-WTF's fixed words
        return render_error(
            400, "The form expired or was sent from another site. Reload the page and send it again."
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        original = getattr(exc, "original_exception", None)  # an unhandled error's 500
        if original is not None and unavailable.database_unavailable(original):
            return database_unavailable(original)
        unavailable.rollback_quietly()
        code = exc.code or 500
        if is_api_request():
            return _api_problem(exc, code)
        if code not in MESSAGES:
            return exc
        detail = exc.description if code in (400, 403, 409, 422, 503) and _custom(exc) else None
        pending_accesses()  # a read or download noted before the error: nothing was delivered
        if code == 403:
            _note_refusal(detail)
        if code == 413:
            limit_mb = app.config["ATTACHMENT_MAX_BYTES"] // (1024 * 1024)
            detail = f"The largest file RecTrack accepts is {limit_mb} MB."
        if code == 503:
            return _with_retry_after(render_error(code, detail))
        return render_error(code, detail)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeoutError)
    @app.errorhandler(DBAPIError)  # more specific handlers (IntegrityError) win
    def database_unavailable(exc: Exception) -> Any:
        """503 without touching the database: no user is loaded for the page."""
        if not unavailable.database_unavailable(exc):
            raise exc  # a refused statement or a bug: the 500 path, logged as such
        unavailable.prepare_unavailable_page(exc)
        pending_accesses()  # nothing was delivered
        if is_api_request():
            return problems.problem(503, headers={"Retry-After": str(unavailable.RETRY_AFTER_SECONDS)})
        return _with_retry_after(render_error(503))

    @app.errorhandler(MissingVersionError)
    def missing_version(exc: MissingVersionError) -> Any:
        db.session.rollback()
        if is_api_request():
            return problems.problem(400, str(exc))
        return render_error(400, str(exc))

    @app.errorhandler(StaleDataError)
    def stale(exc: StaleDataError) -> Any:
        db.session.rollback()
        if is_api_request():
            return problems.problem(409, slug="conflict")
        return render_error(409)

    @app.errorhandler(IntegrityError)
    def integrity(exc: IntegrityError) -> Any:
        # Forms check uniqueness first; this is the race where two saves collide, outside
        # `app.web.save` (which shows the form again): a rule broken, not a version
        # conflict, so a 422 naming the field, not the 409 "changed after you opened it".
        db.session.rollback()
        error = constraints.refusal(exc)
        log.warning("constraint %s refused a write on %s", error.constraint or "(unknown)", request.endpoint)
        if is_api_request():
            errors = (
                [{"pointer": problems.field_pointer(error.field), "detail": error.message}]
                if error.field
                else None
            )
            return problems.problem(422, error.message, errors=errors)
        return render_error(422, error.message)

    app.after_request(constraint_status)


def _api_problem(exc: HTTPException, code: int) -> Any:
    """The problem document for an error of a request under /api. A refusal (401, 403,
    429) is recorded in the audit trail like a page's 403."""
    pending_accesses()  # nothing was delivered
    data = getattr(exc, "data", None) or {}  # webargs' abort: the fields marshmallow refused
    errors = data.get("problem_errors")  # app/api/views.py: a service's refusal, by field
    if errors is not None or data.get("message"):
        detail = data.get("message")
    elif data.get("messages") or data.get("errors"):
        detail, errors = problems.from_webargs(code, data)
    elif code == 500 or not _custom(exc):
        detail = None  # never a traceback or Werkzeug's words
    else:
        detail = exc.description
    if code in (401, 403, 429):
        _note_refusal(detail or problems.DETAILS[code])
    # Allow (405), Retry-After (429, 503): the exception's own headers, not its HTML type.
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    if code == 503:
        headers.setdefault("Retry-After", str(unavailable.RETRY_AFTER_SECONDS))
    return problems.problem(code, detail, errors=errors, headers=headers, slug=getattr(exc, "slug", None))


def _with_retry_after(page: tuple[str, int]) -> Any:
    response = make_response(page)
    response.headers["Retry-After"] = str(unavailable.RETRY_AFTER_SECONDS)
    return response


# The record a refused request was about: the most specific id in its address.
_OBJECT_ARGS = (
    ("attachment_id", "attachments"),
    ("addressee_id", "addressees"),
    ("rec_id", "recommendations"),
    ("report_id", "reports"),
    ("component_id", "components"),
    ("user_id", "users"),
    ("token_id", "api_tokens"),
)


def _note_refusal(reason: str | None) -> None:
    """Who tried what: endpoint, method and path (never the query string or the form, which
    could carry text), the record, and the reason the app gave in words."""
    args = request.view_args or {}
    object_type, object_id = next(((t, args[k]) for k, t in _OBJECT_ARGS if k in args), (None, None))
    details = {"endpoint": request.endpoint, "method": request.method, "path": request.path}
    if reason:
        details["reason"] = reason
    details.update(g.get("api_refusal", {}))  # which token, when an API token was refused
    note_access("request", object_type=object_type, object_id=object_id, details=details, outcome="denied")


def _custom(exc: HTTPException) -> bool:
    """True when the description was written for this case, not Werkzeug's default."""
    return type(exc).description != exc.description or type(exc).__module__.startswith("app")
