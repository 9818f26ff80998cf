"""The known-device cookie: a browser that signed in to an account keeps a signed list of
those accounts, so throttling can tell the owner's browser from a stranger's
(OWASP, "Slow Down Online Guessing Attacks with Device Cookies").

The cookie proves only that this browser once knew the password; it opens no session
and is sent only to the sign-in page.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, request, url_for
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.wrappers import Response

COOKIE_NAME = "rectrack_device"
MAX_ACCOUNTS = 10  # a shared browser remembers this many accounts, most recent first


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="rectrack-known-device")


def _max_age() -> timedelta:
    return timedelta(days=current_app.config["LOGIN_DEVICE_COOKIE_DAYS"])


def _read() -> list[int]:
    raw = request.cookies.get(COOKIE_NAME)
    if not raw:
        return []
    try:
        ids = _serializer().loads(raw, max_age=int(_max_age().total_seconds()))
    except BadData:
        return []
    if not isinstance(ids, list):
        return []
    return [i for i in ids if isinstance(i, int) and not isinstance(i, bool)]


def known_user_ids() -> frozenset[int]:
    """The accounts this browser has signed in to (an unsigned or stale cookie: none)."""
    return frozenset(_read())


def remember(response: Response, user_id: int) -> None:
    """After a successful sign-in: add the account to this browser's cookie."""
    ids = [user_id, *(i for i in _read() if i != user_id)][:MAX_ACCOUNTS]
    response.set_cookie(
        COOKIE_NAME,
        _serializer().dumps(ids),
        max_age=_max_age(),
        path=url_for("auth.login"),
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
