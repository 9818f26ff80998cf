"""JSON log lines on stderr: one object a line, for a log shipper to read.

Every record through the app's handler becomes {"time", "level", "logger", "request_id",
"message", ...}; the request lines (logger "rectrack.request") add their own fields. What
may be logged: ids, routes, statuses, counts. Never a query string, a form body, a
recommendation's or response's text, a password or a token.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from flask import Flask, g
from flask.logging import default_handler

from app import clock
from app.observability.request_id import RequestIdFilter

REQUEST_LOGGER = "rectrack.request"
request_log = logging.getLogger(REQUEST_LOGGER)
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON; a traceback, if any, goes in "traceback"."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": clock.now().isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", None),
        }
        out.update(getattr(record, "fields", None) or {})
        out["message"] = record.getMessage()
        if record.exc_info:
            out["exception"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            out["traceback"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a record comes (pytest swaps it per test)."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> Any:
        return sys.stderr


def configure(app: Flask) -> None:
    """Send RecTrack's log records ("app.*", Flask's app.logger among them, and
    "rectrack.*") to stderr as JSON, from LOG_LEVEL. The handler sits on those loggers, not
    the root, so libraries' logging and anything that configures the root (Alembic's
    fileConfig, pytest's caplog) are left as they are; "app.*" records still propagate
    to the root."""
    level = str(app.config["LOG_LEVEL"]).upper()
    if level not in LEVELS:
        raise RuntimeError(f"LOG_LEVEL must be one of {', '.join(LEVELS)}, not {level!r}.")
    for name in ("rectrack", app.logger.name):
        logger = logging.getLogger(name)
        logger.setLevel(level)
        # The request lines (one a request) go to this handler only: a handler on the root
        # (Alembic's, left by migrations run in-process) must not write each of them again.
        logger.propagate = name != "rectrack"
        if not any(isinstance(handler, StderrHandler) for handler in logger.handlers):
            handler = StderrHandler()
            handler.setFormatter(JsonFormatter())
            handler.addFilter(RequestIdFilter())
            logger.addHandler(handler)
    # Flask's own plain-text handler would write every app.logger record a second time.
    app.logger.removeHandler(default_handler)
    app.logger.addFilter(_not_flask_error_line)


def _not_flask_error_line(record: logging.LogRecord) -> bool:
    """Drop Flask's "Exception on ..." record: the request's own error line (app.
    observability.tracking) already carries the traceback, with the request id and route."""
    return record.funcName != "log_exception"


def mark(event: str, reason: str) -> None:
    """Say why this request is refused (`event` "refused") or conflicted, in fixed words
    of the app's (never what the user sent); the request's end writes the line."""
    g._obs_event = (event, reason)


def marked() -> tuple[str, str] | None:
    return g.get("_obs_event")


def write(level: int, message: str, **fields: Any) -> None:
    request_log.log(level, message, extra={"fields": fields})
