"""When the database cannot be reached, is hung or drops a connection mid-request.

The user gets a friendly 503 with Retry-After, rendered without the database (the page
shows no signed-in user, so the layout loads none); a safe GET whose connection was
dropped in the middle is run once more on a fresh one; and closing the request's
session on a dead connection never turns a rendered page into the server's bare 500.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, g, request
from sqlalchemy import exc as sa_exc

from app.extensions import db, login_manager

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 60
# Set in the WSGI environ by the 503 handler when a safe request may be run again.
RETRY_KEY = "rectrack.retry_on_fresh_connection"
SAFE_METHODS = frozenset({"GET", "HEAD"})


def database_unavailable(exc: BaseException | None) -> bool:
    """True when `exc` (or what it was raised from) says the database could not be reached
    or answered too late, as opposed to a bug or a refused statement."""
    for _ in range(5):  # a short chain: an error raised while handling the database's
        if exc is None:
            return False
        if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError):
            return True
        if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
            return True
        if isinstance(exc, sa_exc.DisconnectionError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _dropped_mid_request(exc: BaseException) -> bool:
    """A connection that worked and then died under a statement (not one that could not be
    made: trying again would only double the wait for a database that is away)."""
    return isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated and exc.statement is not None


def prepare_unavailable_page(exc: BaseException) -> None:
    """Before rendering the 503: forget the session's work, show no signed-in user (the
    user loader would query the database) and, for a safe request whose connection was
    dropped under it, ask the WSGI wrapper to run it once more."""
    orig = getattr(exc, "orig", None)
    log.warning(
        "database unavailable: %s (%s) on %s %s",
        type(exc).__name__,
        type(orig).__name__ if orig is not None else "-",
        request.method,
        request.endpoint,
    )
    g._login_user = login_manager.anonymous_user()
    rollback_quietly()
    if (
        request.method in SAFE_METHODS
        and _dropped_mid_request(exc)
        and not request.environ.get(RETRY_KEY + ".done")
    ):
        request.environ[RETRY_KEY] = True


def rollback_quietly() -> None:
    """Roll the session back; on a dead connection, drop it instead of raising."""
    try:
        db.session.rollback()
    except Exception:  # the connection is gone: nothing of this request was committed
        log.warning("rollback failed on a lost database connection", exc_info=True)
        _forget_session()


def _forget_session() -> None:
    try:
        db.session.invalidate()
    except Exception:  # already unusable; the registry is cleared below regardless
        log.debug("session could not be invalidated", exc_info=True)
    scoped: Any = db.session  # the scoped_session itself (typed as the Session it hands out)
    scoped.registry.clear()


def remove_session_quietly(_exc: BaseException | None = None) -> None:
    """Flask-SQLAlchemy's teardown, guarded: an error closing the session (a rollback on a
    connection the database has closed) is logged, never raised after the page is made."""
    scoped: Any = db.session
    try:
        scoped.remove()
    except Exception:
        log.warning(
            "the database session could not be closed cleanly; its connection is dropped", exc_info=True
        )
        _forget_session()


def guard_teardown(app: Flask) -> None:
    """Put remove_session_quietly in place of Flask-SQLAlchemy's own teardown."""
    funcs = app.teardown_appcontext_funcs
    funcs[:] = [remove_session_quietly if f == db._teardown_session else f for f in funcs]


StartResponse = Callable[..., Any]


class RetrySafeRequests:
    """Run a GET or HEAD once more when its first run ended in the 503 for a dropped
    connection (the handler sets RETRY_KEY). Nothing of the first run reached the client:
    its status and headers are held back until the answer is known. Other methods pass
    straight through: a POST is never repeated."""

    def __init__(self, wsgi_app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") not in SAFE_METHODS:
            return self.wsgi_app(environ, start_response)
        held: list[Any] = []

        def hold(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            held[:] = [status, headers, exc_info]
            return _no_write

        result = self.wsgi_app(environ, hold)
        if environ.pop(RETRY_KEY, False):
            close = getattr(result, "close", None)
            if close is not None:
                close()
            environ[RETRY_KEY + ".done"] = True
            log.info("retrying a safe request once on a fresh database connection")
            return self.wsgi_app(environ, start_response)
        write = start_response(*held)
        del write  # Flask never uses the write callable
        return result


def _no_write(_data: bytes) -> None:
    raise RuntimeError("the application used start_response's write callable before its answer was known")
