"""Session limits and the temporary-password gate, enforced on the server (README,
"Sessions"). NIST SP 800-63B at AAL2: a session ends after SESSION_IDLE_MINUTES without
activity and SESSION_MAX_HOURS after its sign-in, whatever the page's script does.

The session cookie (signed by Flask) carries two instants: `auth_at`, when its user last
proved who they are (app/auth/signin.py), and `seen_at`, their last activity. Every
request of a signed-in browser is checked against both before any view runs; a request
that counts as activity moves `seen_at`. A stale cookie is refused however often it is
replayed: its instants cannot be moved without the secret key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app, flash, jsonify, redirect, request, session, url_for
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response

from app import audit
from app.auth import signin, throttle
from app.database import utcnow
from app.extensions import db
from app.web import client_ip, commit, is_api_request, safe_next

SEEN_AT = "seen_at"
IDLE = "idle"
ABSOLUTE = "absolute"
# Requests that are not the user's activity: files, health checks, and pages' own polling
# (the session's status, a background job's progress). The keep-alive is activity: the
# user pressed "Stay signed in".
NOT_ACTIVITY = frozenset(
    {
        "static",
        "health.healthz",
        "health.readyz",
        "metrics",
        "auth.session_status",
        "jobs.status",
    }
)
# The warning's own requests (app/auth/views.py): answered in JSON, never redirected.
POLLS = frozenset({"auth.session_status", "auth.keep_alive"})
# Never checked at all: what a browser fetches with or without a session.
UNCHECKED = frozenset({"static", "health.healthz", "health.readyz", "metrics"})
# What a user whose password is temporary may still open (besides UNCHECKED).
TEMPORARY_PASSWORD_ALLOWS = POLLS | {"auth.change_password", "auth.logout", "mfa.reauth"}
EXPIRED_MESSAGES = {
    IDLE: "You were signed out after {minutes} minutes without activity. Sign in again to continue.",
    ABSOLUTE: "You were signed out: a session lasts at most {hours} hours. Sign in again to continue.",
}
MUST_CHANGE = "An administrator set your password. Choose a new one to continue."


@dataclass(frozen=True)
class Limits:
    idle: timedelta
    absolute: timedelta

    @classmethod
    def from_config(cls, config: Any) -> Limits:
        return cls(
            idle=timedelta(minutes=int(config["SESSION_IDLE_MINUTES"])),
            absolute=timedelta(hours=int(config["SESSION_MAX_HOURS"])),
        )


def _instant(raw: object) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def last_seen_at() -> datetime | None:
    """The session's last activity; its sign-in when nothing was recorded since."""
    return _instant(session.get(SEEN_AT)) or signin.authenticated_at()


def expired_by(
    limits: Limits, now: datetime, authenticated: datetime | None, seen: datetime | None
) -> str | None:
    """Which limit ended the session at `now`, or None. A session ends once a limit's
    time has passed in full: idle 30 minutes means 29:59 is fine and 30:00 is not. A
    cookie without its sign-in time (one made before the limits) counts as expired."""
    if authenticated is None or now - authenticated >= limits.absolute:
        return ABSOLUTE
    if seen is None or now - seen >= limits.idle:
        return IDLE
    return None


def remaining(limits: Limits, now: datetime) -> dict[str, int]:
    """Whole seconds left before each limit ends this session (0 when it has)."""
    authenticated, seen = signin.authenticated_at(), last_seen_at()
    idle_left = (seen + limits.idle - now) if seen else timedelta(0)
    absolute_left = (authenticated + limits.absolute - now) if authenticated else timedelta(0)
    return {
        "idle_seconds": max(0, int(idle_left.total_seconds())),
        "absolute_seconds": max(0, int(absolute_left.total_seconds())),
    }


def _return_to() -> str | None:
    """Where the user goes back to after signing in again: the page itself for a GET,
    the page a POST (or the warning's script) came from (its Referer, when on this site)."""
    if request.endpoint in ("auth.login", "auth.logout"):
        return None
    if request.method in ("GET", "HEAD") and request.endpoint not in POLLS:
        return safe_next(request.full_path.rstrip("?"))
    referrer = request.referrer or ""
    host = request.host_url
    if referrer.startswith(host):
        return safe_next("/" + referrer[len(host) :])
    return None


def _expire(limit: str, limits: Limits) -> Response:
    """End this session (audited), and send the user to sign in again."""
    user = current_user._get_current_object()
    audit.record(
        db.session,
        "session expired",
        actor=audit.AuditActor.for_user(user, client_ip()),
        object_type="users",
        object_id=user.id,
        changes={"limit": limit},
    )
    commit()
    target = _return_to()
    logout_user()
    session.clear()
    minutes = int(limits.idle.total_seconds() // 60)
    hours = int(limits.absolute.total_seconds() // 3600)
    message = EXPIRED_MESSAGES[limit].format(minutes=minutes, hours=hours)
    if request.endpoint in POLLS:
        response = jsonify(expired=True, limit=limit, login_url=url_for("auth.login", next=target))
        response.status_code = 401
        flash(message, "info")
        return response
    flash(message, "info")
    return redirect(url_for("auth.login", next=target))


def enforce_limits() -> Response | None:
    """A before_request hook: end a signed-in session past a limit; else record activity."""
    if request.endpoint is None or request.endpoint in UNCHECKED or is_api_request():
        return None
    if not current_user.is_authenticated:
        return None
    limits = Limits.from_config(current_app.config)
    now = utcnow()
    limit = expired_by(limits, now, signin.authenticated_at(), last_seen_at())
    if limit is not None:
        return _expire(limit, limits)
    if request.endpoint not in NOT_ACTIVITY:
        session[SEEN_AT] = now.isoformat()
    return None


def require_new_password() -> Response | None:
    """A before_request hook: a user whose password an administrator set reaches only the
    change-password page (and sign-out) until they choose their own."""
    if request.endpoint is None or request.endpoint in UNCHECKED or is_api_request():
        return None
    if not current_user.is_authenticated or not getattr(current_user, "must_change_password", False):
        return None
    if request.endpoint in TEMPORARY_PASSWORD_ALLOWS:
        return None
    flash(MUST_CHANGE, "warning")
    return redirect(url_for("auth.change_password"))


def register(app: Flask) -> None:
    """Install the hooks (after require_login, so anonymous requests are already sorted)."""
    for name in ("PASSWORD_RESET_LIMIT_PER_ADDRESS", "PASSWORD_RESET_LIMIT_PER_EMAIL"):
        throttle.parse_rate(app.config[name], name)  # a bad setting stops the start, not a request
    app.before_request(enforce_limits)
    app.before_request(require_new_password)
