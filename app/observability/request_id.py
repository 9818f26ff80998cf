"""The request id: taken from the proxy's X-Request-ID when it is well-formed, made up
otherwise, kept in flask.g for the whole request, echoed in the response and shown on
error pages, so a person can quote it and an operator can find every log line it wrote."""

from __future__ import annotations

import logging
import re
import uuid

from flask import g, has_app_context, request

HEADER = "X-Request-ID"
# Letters, digits and ._- only: an id is written into log lines and a response header,
# so nothing that could break either (quotes, spaces, new lines) is taken from outside.
WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{8,128}")


def well_formed(value: str | None) -> bool:
    return value is not None and WELL_FORMED.fullmatch(value) is not None


def assign() -> str:
    """This request's id (before every request): the incoming header's, or a new one."""
    incoming = request.headers.get(HEADER)
    g.request_id = incoming if incoming is not None and well_formed(incoming) else uuid.uuid4().hex
    return str(g.request_id)


def current() -> str | None:
    """The id of the request being served, or None outside one (a command, a worker)."""
    return g.get("request_id") if has_app_context() else None


class RequestIdFilter(logging.Filter):
    """Gives every log record made during a request that request's id (`request_id`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current()
        return True
