"""The request side of second factors: the relying party for this server, the session's
"pending second factor" state between the password and the second step, the
reauthentication state, and the gate that keeps an account whose role requires a second
factor, and has none yet, on the enrolment pages."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth.sessions import POLLS
from app.database import utcnow
from app.extensions import db
from app.mfa import services
from app.mfa.keys import RelyingParty
from app.models import Role, User

# What the session says about the second factor once it was given: the method's name
# ("webauthn", "passkey", "totp", "recovery", or "sso:<provider>" from single sign-on).
# Any non-empty value satisfies the gate.
SECOND_FACTOR = "second_factor"
# Password checked, second factor not yet: {"user": id, "version": n, "at": iso, "next": path}.
PENDING = "mfa_pending"
# Signed in, reauthenticating: password checked, second factor not yet: {"at": iso, "next": path}.
REAUTH = "mfa_reauth"
CHALLENGE = "webauthn_challenge"  # {"purpose": ..., "challenge": base64url}
NEW_TOTP = "mfa_new_totp"  # the secret shown on the TOTP page until its first code is typed
# The second step must follow the password within this many minutes.
PENDING_MINUTES = 10
# Wrong codes or keys in one pending sign-in before it ends (the password again, throttled).
MAX_PENDING_FAILURES = 5

# Reachable, signed in, by an account whose role requires a second factor and that has none:
# enrolment, and the way out. (Public endpoints, static files and health need no account.)
ENROLMENT_ENDPOINTS = frozenset(
    {
        "mfa.security",
        "mfa.add_key",
        "mfa.key_options",
        "mfa.add_totp",
        "mfa.recovery_codes",
        "mfa.reauth",
        "auth.logout",
    }
    # the session warning's status and "Stay signed in" (static/js/session-timeout.js)
    | POLLS
)
# Reachable by such an account that has a factor but has not given it in this session (a
# session begun before the policy, or by an administrator's hand): prove it, or leave.
UNPROVEN_ENDPOINTS = POLLS | {"mfa.reauth", "auth.logout"}


def required_roles() -> frozenset[Role]:
    return services.parse_roles(current_app.config["MFA_REQUIRED_ROLES"])


def mfa_required(user: User) -> bool:
    return services.required_for(user, required_roles())


def relying_party() -> RelyingParty:
    """WEBAUTHN_RP_ID and WEBAUTHN_ORIGIN; where unset, in production the site's address
    (MAIL_BASE_URL), in development and tests the request's own host (never in
    production: the Host header is the client's to choose)."""
    config = current_app.config
    if config["WEBAUTHN_FROM_REQUEST_HOST"]:
        fallback = request.host_url.rstrip("/")
    else:
        fallback = config["MAIL_BASE_URL"].rstrip("/")
    origin = config["WEBAUTHN_ORIGIN"] or fallback
    rp_id = config["WEBAUTHN_RP_ID"] or (urlsplit(origin).hostname or "")
    return RelyingParty(id=rp_id, origin=origin)


def begin_pending(
    user: User, target: str | None, *, previous_at: datetime | None = None, previous_ip: str | None = None
) -> None:
    """The password was right; the second factor is awaited. The account's previous
    sign-in (before this password) is kept to be shown once the sign-in is complete."""
    session.clear()
    session[PENDING] = {
        "user": user.id,
        "version": user.session_version,
        "at": utcnow().isoformat(),
        "next": target,
        "previous_at": previous_at.isoformat() if previous_at else None,
        "previous_ip": previous_ip,
    }


def pending_previous() -> tuple[datetime | None, str | None]:
    """The previous sign-in (when, from where) of the account whose second factor is awaited."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None, None
    try:
        at = datetime.fromisoformat(pending["previous_at"]) if pending.get("previous_at") else None
    except (TypeError, ValueError):
        at = None
    ip = pending.get("previous_ip")
    return at, ip if isinstance(ip, str) else None


def _recent(raw: Any, now: datetime) -> bool:
    try:
        at = datetime.fromisoformat(raw)
    except (TypeError, ValueError):
        return False
    return at.tzinfo is not None and timedelta(0) <= now - at <= timedelta(minutes=PENDING_MINUTES)


def pending_user() -> tuple[User, str | None] | None:
    """The account whose password was checked in this session and whose second factor is
    awaited, with where it was going; None when there is none or it is too old."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or not _recent(pending.get("at"), utcnow()):
        return None
    user = db.session.get(User, pending.get("user"))
    if user is None or not user.active or user.session_version != pending.get("version"):
        return None
    return user, pending.get("next")


def begin_reauth(target: str | None) -> None:
    session[REAUTH] = {"at": utcnow().isoformat(), "next": target}


def reauth_target() -> tuple[bool, str | None]:
    """(whether a reauthentication awaits its second factor, where it returns to)."""
    pending = session.get(REAUTH)
    if not isinstance(pending, dict) or not _recent(pending.get("at"), utcnow()):
        return False, None
    return True, pending.get("next")


def gate() -> Response | None:
    """before_request: an account whose role requires a second factor reaches only the
    enrolment pages until it has one, and only reauthentication until it has given it."""
    if not current_user.is_authenticated or session.get(SECOND_FACTOR):
        return None
    endpoint = request.endpoint or ""
    if endpoint in UNPROVEN_ENDPOINTS or not mfa_required(current_user):
        return None
    if services.has_factor(db.session, current_user.id):
        return redirect(url_for("mfa.reauth", next=request.full_path.rstrip("?")))
    if endpoint in ENROLMENT_ENDPOINTS:
        return None
    if endpoint == "auth.change_password" and current_user.must_change_password:
        return (
            None  # a temporary password is changed first (its gate, app/auth/sessions.py, allows only that)
        )
    flash("Your role requires a second factor. Add a security key or an authenticator app to go on.", "info")
    return redirect(url_for("mfa.security"))


def enrolled(method: str) -> None:
    """A factor was just added in this session, which proves possession of it (a key's
    registration with user verification, an app's current code): the gate is satisfied."""
    session.pop(NEW_TOTP, None)
    session[SECOND_FACTOR] = session.get(SECOND_FACTOR) or method


def count_pending_failure() -> int:
    """One more refused factor in the pending sign-in; the count so far. At the limit the
    pending sign-in ends (app/mfa/steps.py)."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return 0
    failures = int(pending.get("failures", 0)) + 1
    session[PENDING] = {**pending, "failures": failures}
    if failures >= MAX_PENDING_FAILURES:
        session.pop(PENDING, None)
    return failures
