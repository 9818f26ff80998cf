"""One request from start to end: its id and start time first, the signed-in user once
known, the database statements it ran, and at its end one JSON line and the metrics.

The line is written when the request is torn down, so it covers the whole of the work
(after_request hooks and their commits included) and is written even when an error
escaped every handler."""

from __future__ import annotations

import logging
from time import perf_counter
from typing import Any

import sqlalchemy as sa
from flask import Flask, g, got_request_exception, has_request_context, request
from sqlalchemy import event

from app.extensions import db
from app.observability import logs, metrics, request_id

log = logging.getLogger(__name__)

# Statuses that get a line of their own beside the request line: (event, reason).
REFUSALS = {403: ("refused", "forbidden"), 429: ("refused", "throttled"), 409: ("conflict", "conflict")}


def _start() -> None:
    g._obs_started = perf_counter()
    g._obs_queries = 0
    request_id.assign()


def _count_query(*_args: Any) -> None:
    if has_request_context() and "_obs_queries" in g:
        g._obs_queries += 1


def _remember_user() -> None:
    """The signed-in user's id and role, read from the user Flask-Login already loaded:
    never a query of its own (the database may be the reason the request fails), and
    before a commit expires the object."""
    if "_obs_user" in g:
        return
    user = g.get("_login_user")
    state = sa.inspect(user, raiseerr=False) if user is not None else None
    if state is None or state.identity is None:
        return
    role = state.dict.get("role")
    g._obs_user = (state.identity[0], str(role) if role is not None else None)


def _finish(response: Any) -> Any:
    _remember_user()
    g._obs_status = response.status_code
    response.headers[request_id.HEADER] = g.get("request_id", "")
    return response


def _error(sender: Flask, exception: BaseException, **_extra: Any) -> None:
    """An error no handler took (a 500): its traceback, in the server's log only."""
    _remember_user()
    logs.request_log.error(
        "unhandled error",
        exc_info=(type(exception), exception, exception.__traceback__),
        extra={"fields": {"event": "error", **_where()}},
    )


def _where() -> dict[str, Any]:
    user_id, role = g.get("_obs_user", (None, None))
    return {
        "user_id": user_id,
        "role": role,
        "method": request.method,
        "route": request.url_rule.rule if request.url_rule else None,
        "endpoint": request.endpoint,
    }


def _teardown(exc: BaseException | None) -> None:
    if "_obs_started" not in g:
        return  # a request context pushed by hand (tests, commands): no request was served
    try:
        _write_request_line()
    except Exception:  # the response is on its way: a failed log line must not replace it
        log.exception("the request line could not be written")


def _write_request_line() -> None:
    seconds = perf_counter() - g._obs_started
    status = g.get("_obs_status", 500)
    where = _where()
    metrics.observe_request(where["route"], request.method, status, seconds)
    special = logs.marked() or REFUSALS.get(status)
    if special is not None:
        kind, reason = special
        logs.write(logging.WARNING, f"{kind}: {reason}", event=kind, status=status, reason=reason, **where)
    duration_ms = round(seconds * 1000, 1)
    logs.write(
        logging.ERROR if status >= 500 else logging.INFO,
        f"{request.method} {where['route'] or '(no route)'} {status} {duration_ms} ms",
        event="request",
        **where,
        status=status,
        duration_ms=duration_ms,
        db_queries=g.get("_obs_queries", 0),
    )


def _request_id_in_templates() -> dict[str, Any]:
    return {"request_id": request_id.current()}


def register(app: Flask) -> None:
    # First before every other hook (one may end the request early, as sign-in does),
    # and the header set after every other after_request hook (they run in reverse).
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    # Last: the user has been loaded by the hooks before it (app/__init__.py).
    app.before_request(_remember_user)
    app.after_request_funcs.setdefault(None, []).insert(0, _finish)
    app.teardown_request(_teardown)
    app.context_processor(_request_id_in_templates)
    got_request_exception.connect(_error, app, weak=False)
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", _count_query)
