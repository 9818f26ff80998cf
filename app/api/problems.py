"""RFC 9457 problem documents: every error under /api answers `application/problem+json`
(type, title, status, detail; for field errors an `errors` list with a JSON pointer
each), never an HTML page. app/errors.py calls `for_status` for any error of a request
under /api, known route or not, so unknown paths and methods answer here too."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from flask import Response, request

from app.web import is_api_request as is_api_request  # re-exported for app/errors.py

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "/api/v1/docs#problem-"

# The detail an API client reads when the error gives none of its own.
DETAILS: dict[int, str] = {
    400: "The request could not be read.",
    401: "Send a valid personal access token: Authorization: Bearer <token>.",
    403: "The token's user or scope does not allow this.",
    404: "There is nothing at this address.",
    405: "This address does not accept that method.",
    406: "This address answers JSON only.",
    409: "The record changed since the version you sent, or the change is not possible now.",
    413: "The request body is too large.",
    415: "Send the body as application/json.",
    422: "A value was refused. Nothing was saved.",
    429: "Too many requests with this token. Wait and try again.",
    500: "RecTrack could not finish this request. Nothing was saved.",
    503: "RecTrack cannot reach its database right now. Nothing was saved. Try again later.",
}


def title_of(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def pointer(path: Iterable[str | int]) -> str:
    """A JSON pointer (RFC 6901) to a field of the request body."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def field_pointer(dotted: str) -> str:
    """A service's dotted field ("addressees.1.component_id") as a JSON pointer."""
    return pointer(dotted.split("."))


def flatten_messages(messages: Any, path: tuple[str | int, ...] = ()) -> list[dict[str, str]]:
    """marshmallow/webargs error messages ({"field": ["msg"], "nested": {"0": {...}}}) as
    a list of {"pointer", "detail"}."""
    out: list[dict[str, str]] = []
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            out.extend(flatten_messages(value, (*path, key)))
    elif isinstance(messages, list | tuple) and messages and all(isinstance(m, str) for m in messages):
        out.extend({"pointer": pointer(path), "detail": m} for m in messages)
    elif isinstance(messages, list | tuple):
        for value in messages:
            out.extend(flatten_messages(value, path))
    else:
        out.append({"pointer": pointer(path), "detail": str(messages)})
    return out


def problem(
    status: int,
    detail: str | None = None,
    *,
    slug: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A problem document response."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + (slug or str(status)),
        "title": title_of(status),
        "status": status,
        "detail": detail or DETAILS.get(status, title_of(status)),
        "instance": request.path,
    }
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="RecTrack API"'
    return response


def from_webargs(code: int, data: Mapping[str, Any]) -> tuple[str, list[dict[str, str]]]:
    """The detail and field errors of a webargs/marshmallow refusal. Its messages are
    keyed by location first ("json", "query"); a body's pointers start at its root."""
    messages = data.get("messages") or data.get("errors") or {}
    errors: list[dict[str, str]] = []
    for location, found in messages.items() if isinstance(messages, Mapping) else ():
        for error in flatten_messages(found):
            if location != "json":
                error = {**error, "parameter": error["pointer"].lstrip("/")}
            errors.append(error)
    if code == 400:
        return "The body is not valid JSON.", errors
    return "Some fields were refused. Nothing was saved.", errors
