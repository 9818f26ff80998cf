"""The request side of signing in, for the sign-in view: an attempt checked with this
request's address, clock, throttle and device cookie, and the session a success starts."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, flash, redirect, session, url_for
from flask_login import login_user
from werkzeug.wrappers import Response

from app.auth import devices, services, throttle
from app.database import utcnow
from app.extensions import db
from app.models import User
from app.observability import logs, metrics
from app.web import client_ip

GENERIC_FAILURE = "The e-mail address or password is not correct, or sign-in is paused."
THROTTLED = (
    "Too many failed sign-in attempts. Sign-in from here is paused: try again in {minutes}, "
    "or from a browser you have signed in with before."
)


def check_database() -> None:
    """Raise the database's error when it cannot be reached (the 503 page), so a visitor
    learns it before typing a password rather than after."""
    db.session.execute(sa.select(sa.literal(1)))


def _login_policy() -> services.LoginPolicy:
    return services.LoginPolicy(
        max_consecutive_failures=current_app.config["LOGIN_MAX_CONSECUTIVE_FAILURES"],
        known_address_days=current_app.config["LOGIN_KNOWN_ADDRESS_DAYS"],
    )


def minutes_text(seconds: int) -> str:
    """A wait in whole minutes (at least one), in words."""
    minutes = max(1, math.ceil(seconds / 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def throttled_message(retry_after: int) -> str:
    """What a refused attempt is told, with the wait in whole minutes (at least one)."""
    return THROTTLED.format(minutes=minutes_text(retry_after))


def attempt(email: str, password: str) -> services.LoginAttempt:
    """Check a sign-in from this request (flushed; the view commits it whatever came of it)."""
    result = services.authenticate(
        db.session,
        email,
        password,
        source_ip=client_ip(),
        now=utcnow(),
        throttle=throttle.current(),
        policy=_login_policy(),
        device_user_ids=devices.known_user_ids(),
    )
    if result.refusal is not None:
        metrics.LOGIN_THROTTLED.inc()
        logs.mark("refused", result.refusal.reason)  # the app's fixed words, no address or e-mail
    elif result.user is None:
        metrics.LOGIN_FAILURES.inc()
    return result


# When this session last proved who its user is (password, and a second factor when the
# account has one): the absolute session limit and "fresh sign-in required" read it.
AUTHENTICATED_AT = "auth_at"


def mark_authenticated() -> None:
    """Record in the session cookie that its user proved who they are just now."""
    session[AUTHENTICATED_AT] = utcnow().isoformat()


def authenticated_at() -> datetime | None:
    """When this session's user last proved who they are, or None (an older cookie)."""
    raw = session.get(AUTHENTICATED_AT)
    if not isinstance(raw, str):
        return None
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def previous_sign_in(at: datetime | None, ip: str | None) -> str:
    """What the user is told about the sign-in before this one, to spot one not theirs:
    its time in the OIG's time zone (APP_TIMEZONE) and its address."""
    if at is None:
        return "This is the first sign-in to your account."
    local = at.astimezone(ZoneInfo(current_app.config["APP_TIMEZONE"]))
    when = f"{local:%B} {local.day}, {local.year}, {local:%H:%M %Z}"
    where = f" from {ip}" if ip else ""
    return f"Your previous sign-in: {when}{where}. If that was not you, tell an administrator."


def start_session(
    user: User, target: str | None, *, previous_at: datetime | None = None, previous_ip: str | None = None
) -> Response:
    """Sign `user` in on a fresh session, and send them on to `target` (a safe path) or
    the dashboard; this browser remembers the account (app/auth/devices.py). The user
    is shown their previous sign-in (when and from where)."""
    session.clear()
    login_user(user)
    session.permanent = True
    mark_authenticated()
    flash(f"Signed in as {user.display_name} ({user.role.label}).", "success")
    flash(previous_sign_in(previous_at, previous_ip), "info")
    response = redirect(target or url_for("dashboard.index"))
    devices.remember(response, user.id)
    return response
