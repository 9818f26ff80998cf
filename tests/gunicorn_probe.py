"""A WSGI app for tests/test_gunicorn_conf.py: gunicorn.conf.py's behaviour without
RecTrack's database. /slow answers after a pause long enough to send SIGTERM meanwhile."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ["PATH_INFO"] == "/slow":
        time.sleep(2)
    body = b"finished" if environ["PATH_INFO"] == "/slow" else b"ok"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
