"""Fresh sign-in: pages that change how an account proves itself (its factors, its
password, an API token) or what someone may do (a role, a factor reset) need a sign-in
no older than FRESH_SIGNIN_MINUTES. An older one is sent to the reauthentication page
(password, and the second factor when the account has one), which then returns here.

The rule: a sign-in exactly FRESH_SIGNIN_MINUTES old is still fresh; a moment later it
is not. A session with no recorded sign-in time (an older cookie) is never fresh."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from app.auth import signin
from app.database import utcnow

F = TypeVar("F", bound=Callable[..., Any])

NEEDED = "For this, confirm it is you: sign in again."


def is_fresh(authenticated_at: datetime | None, now: datetime, minutes: int) -> bool:
    """Whether a sign-in at `authenticated_at` is fresh enough at `now`."""
    return authenticated_at is not None and now - authenticated_at <= timedelta(minutes=minutes)


def fresh_enough() -> bool:
    return is_fresh(signin.authenticated_at(), utcnow(), current_app.config["FRESH_SIGNIN_MINUTES"])


def reauth_redirect() -> Response:
    """To the reauthentication page, then back to this page (a GET of it: a form posted
    with a stale sign-in is shown again, empty, rather than saved)."""
    target = request.full_path if request.method == "GET" else request.path
    flash(NEEDED, "info")
    return redirect(url_for("mfa.reauth", next=target.rstrip("?")))


def require_fresh() -> Response | None:
    """None when the sign-in is fresh enough, else the redirect to reauthenticate."""
    return None if fresh_enough() else reauth_redirect()


def fresh_signin_required(view: F) -> F:
    """A view (every method) that needs a fresh sign-in."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        return require_fresh() or view(*args, **kwargs)

    return cast(F, wrapped)
