"""The request side of the second-factor pages (app/mfa/views.py keeps the routes thin):
finishing a sign-in or a reauthentication once the factor is given, checking a typed
code, and the WebAuthn ceremonies' JSON answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import segno
from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response

from app import audit
from app.audit import AuditActor
from app.auth import services as accounts
from app.auth import signin, throttle
from app.auth.fresh import require_fresh
from app.database import utcnow
from app.extensions import db
from app.mfa import flow, keys, services
from app.mfa.forms import CodeForm, TotpForm
from app.models import FactorKind, User
from app.web import add_field_error, client_ip, commit, safe_next, save

PURPOSES = ("register", "second", "passkey", "reauth")
REAUTH_MAX_FAILURES = 5  # wrong passwords in a row on the reauthentication page sign the session out
WAITED = "This page waited too long. Try again."


def actor(user: User) -> AuditActor:
    return AuditActor.for_user(user, client_ip())


def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-store"
    return response


def json_error(message: str, status: int) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    return no_store(response)


def redirect_json(response: Response) -> Response:
    """A redirect as JSON for the script, keeping its cookies (the known-device one)."""
    answer = jsonify(redirect=response.location)
    for cookie in response.headers.getlist("Set-Cookie"):
        answer.headers.add("Set-Cookie", cookie)
    return no_store(answer)


# --- finishing --------------------------------------------------------------------------


def finish_sign_in(
    user: User,
    method: str,
    target: str | None,
    previous: tuple[datetime | None, str | None] | None = None,
) -> Response:
    """The second factor was given: the full session starts (app/auth/signin.py), showing
    the account's previous sign-in (the pending sign-in's, unless given)."""
    previous_at, previous_ip = previous if previous is not None else flow.pending_previous()
    response = signin.start_session(user, safe_next(target), previous_at=previous_at, previous_ip=previous_ip)
    session[flow.SECOND_FACTOR] = method
    return response


def finish_reauth(user: User, method: str, target: str | None) -> Response:
    services.record_success(db.session, actor(user), user, "reauth", method)
    commit()
    session.pop(flow.REAUTH, None)
    session.pop("reauth_failures", None)
    signin.mark_authenticated()
    session[flow.SECOND_FACTOR] = method
    flash("Thank you: you confirmed it is you.", "success")
    return redirect(safe_next(target) or url_for("dashboard.index"))


def mode() -> tuple[str, User, str | None] | None:
    """("reauth", user, next) while a signed-in user reauthenticates; ("signin", user,
    next) while a sign-in awaits its second factor; else None."""
    if current_user.is_authenticated:
        waiting, target = flow.reauth_target()
        return ("reauth", current_user._get_current_object(), target) if waiting else None
    pending = flow.pending_user()
    return ("signin", pending[0], pending[1]) if pending else None


def finish(state: tuple[str, User, str | None], method: str) -> Response:
    kind, user, target = state
    if kind == "reauth":
        return finish_reauth(user, method, target)
    services.record_success(db.session, actor(user), user, "login_second_factor", method)
    commit()
    return finish_sign_in(user, method, target)


def failed(kind: str, user: User, method: str, error: services.MfaError) -> bool:
    """Audit a refused factor (the service's changes rolled back first). At sign-in it
    also counts as a failed sign-in from this address (app/auth/throttle.py), and after
    flow.MAX_PENDING_FAILURES the pending sign-in ends: a guesser must give the password
    again, which the throttle slows. True when it ended."""
    db.session.rollback()
    action = "reauth" if kind == "reauth" else "login_second_factor"
    services.record_failure(db.session, actor(user), user, action, method, error.reason)
    commit()
    if kind == "reauth":
        return False
    throttle.current().record_failure(client_ip(), user.email, count_for_account=False)
    return flow.count_pending_failure() >= flow.MAX_PENDING_FAILURES


def start_again() -> Response:
    flash("Too many wrong answers. Sign in again with your password.", "error")
    return redirect(url_for("auth.login"))


# --- a typed code -----------------------------------------------------------------------


def check_code(state: tuple[str, User, str | None], form: CodeForm) -> Response | None:
    """The second step with a code from the app or a recovery code: the finished sign-in,
    or None with the message next to the field."""
    kind, user, _target = state
    method = "recovery" if form.method.data == "recovery" else "totp"
    now = utcnow()
    try:
        if method == "recovery":
            services.use_recovery_code(db.session, user, form.code.data or "", now)
            services.record_success(db.session, actor(user), user, "mfa_recovery_code_used", "recovery")
        else:
            services.check_totp(db.session, user, form.code.data or "", now)
    except services.MfaError as error:
        if failed(kind, user, method, error):
            return start_again()
        add_field_error(form, "code", error.message)
        return None
    return finish(state, method)


def second_factor_page(state: tuple[str, User, str | None], form: CodeForm, status: int) -> tuple[str, int]:
    factors = services.factors_of(db.session, state[1].id)
    page = render_template(
        "mfa/second_factor.html",
        form=form,
        mode=state[0],
        has_key=any(f.kind == FactorKind.WEBAUTHN for f in factors),
        has_totp=any(f.kind == FactorKind.TOTP for f in factors),
        recovery_left=services.unused_recovery_codes(db.session, state[1].id),
    )
    return page, status


def reauth_password(user: User, password_ok: bool, target: str | None) -> Response | None:
    """After the reauthentication page's password: on to the second factor, done, signed
    out after too many failures, or None (wrong: the form again)."""
    if password_ok:
        session.pop("reauth_failures", None)
        if services.has_factor(db.session, user.id):
            flow.begin_reauth(target)
            return redirect(url_for("mfa.second_factor"))
        return finish_reauth(user, "password", target)
    failures = int(session.get("reauth_failures", 0)) + 1
    services.record_failure(db.session, actor(user), user, "reauth", "password", "wrong password")
    if failures >= REAUTH_MAX_FAILURES:
        accounts.end_session(db.session, user, source_ip=client_ip())
        commit()
        session.clear()
        flash("Too many wrong passwords: you were signed out.", "error")
        return redirect(url_for("auth.login"))
    commit()
    session["reauth_failures"] = failures
    return None


# --- WebAuthn ---------------------------------------------------------------------------


def purpose() -> str:
    body = request.get_json(silent=True)
    wanted = body.get("purpose") if isinstance(body, dict) else None
    if wanted not in PURPOSES:
        abort(400, description="Unknown WebAuthn purpose.")
    return str(wanted)


def credential() -> dict[str, Any]:
    body = request.get_json(silent=True)
    found = body.get("credential") if isinstance(body, dict) else None
    if not isinstance(found, dict):
        abort(400, description="No credential was sent.")
    return found


def take_challenge(purpose: str) -> bytes | None:
    saved = session.pop(flow.CHALLENGE, None)
    if not isinstance(saved, dict) or saved.get("purpose") != purpose:
        return None
    try:
        return keys.challenge_from_text(str(saved.get("challenge")))
    except ValueError:
        return None


def _state_for(purpose: str) -> tuple[str, User, str | None] | None:
    state = mode()
    if state is None or state[0] != ("reauth" if purpose == "reauth" else "signin"):
        return None
    return state


def options(purpose: str) -> Response:
    """The options for navigator.credentials.create() (register) or .get(), with a new
    challenge kept in the session."""
    rp = flow.relying_party()
    if purpose == "register":
        if not current_user.is_authenticated:
            return json_error("Sign in first.", 401)
        if require_fresh() is not None:
            return json_error("Sign in again first: your sign-in is more than a few minutes old.", 403)
        user = current_user._get_current_object()
        handle = keys.user_handle(current_app.config["SECRET_KEY"], user)
        text, challenge = keys.registration_options(
            rp, user, handle, services.factors_of(db.session, user.id)
        )
    elif purpose == "passkey":
        if current_user.is_authenticated:
            return json_error("You are signed in already.", 409)
        text, challenge = keys.authentication_options(rp, None)
    else:
        state = _state_for(purpose)
        if state is None:
            return json_error("Sign in with your password first.", 401)
        allow = [f for f in services.factors_of(db.session, state[1].id) if f.kind == FactorKind.WEBAUTHN]
        text, challenge = keys.authentication_options(rp, allow)
    session[flow.CHALLENGE] = {"purpose": purpose, "challenge": keys.challenge_to_text(challenge)}
    response = make_response(text)
    response.mimetype = "application/json"
    return no_store(response)


def passkey_sign_in(answer: dict[str, Any], challenge: bytes) -> Response:
    """A sign-in with a passkey alone (user verification required: two factors)."""
    if current_user.is_authenticated:
        return json_error("You are signed in already.", 409)
    now = utcnow()
    try:
        factor = keys.verify_assertion(
            db.session, flow.relying_party(), answer, challenge, user=None, now=now
        )
    except services.MfaError as error:
        db.session.rollback()
        changes = {"method": "passkey", "reason": error.reason}
        anonymous = AuditActor.anonymous(client_ip())
        audit.record(db.session, "login", actor=anonymous, changes=changes, outcome="failure")
        commit()
        return json_error(error.message, 422)
    user = db.session.get(User, factor.user_id)
    if user is None or not user.active:
        db.session.rollback()
        return json_error("This account cannot sign in. Ask an administrator.", 403)
    previous = services.record_passkey_login(
        db.session, actor(user), user, factor, now=now, source_ip=client_ip()
    )
    commit()
    return redirect_json(finish_sign_in(user, "passkey", safe_next(request.args.get("next")), previous))


def key_step(purpose: str, answer: dict[str, Any], challenge: bytes) -> Response:
    """The second step, or a reauthentication, with a security key."""
    state = _state_for(purpose)
    if state is None:
        return json_error("Sign in with your password first.", 401)
    try:
        keys.verify_assertion(
            db.session, flow.relying_party(), answer, challenge, user=state[1], now=utcnow()
        )
    except services.MfaError as error:
        if failed(state[0], state[1], "webauthn", error):
            return redirect_json(start_again())
        return json_error(error.message, 422)
    return redirect_json(finish(state, "webauthn"))


def register_key(user: User, body: dict[str, Any]) -> Response:
    """Save a new security key or passkey from the browser's answer."""
    challenge = take_challenge("register")
    if challenge is None:
        return json_error("This page waited too long. Reload it and try again.", 400)
    try:
        new = keys.verify_registration(flow.relying_party(), credential(), challenge)
        services.add_key(
            db.session,
            actor(user),
            user,
            name=str(body.get("name") or ""),
            credential_id=new.credential_id,
            public_key=new.public_key,
            sign_count=new.sign_count,
            discoverable=new.discoverable,
            now=utcnow(),
        )
    except services.MfaError as error:
        db.session.rollback()
        if not error.field:
            services.record_failure(db.session, actor(user), user, "mfa_enrol", "webauthn", error.reason)
            commit()
        return json_error(error.message, 422)
    commit()
    flow.enrolled("webauthn")
    flash("Your security key was added.", "success")
    return no_store(jsonify(redirect=url_for("mfa.security")))


# --- an authenticator app ---------------------------------------------------------------


def save_totp(form: TotpForm, user: User, secret: str) -> Response | tuple[str, int] | None:
    """Enrol the app whose secret this page showed, if the code is its current one."""
    return save(
        form,
        lambda: services.add_totp(
            db.session,
            actor(user),
            user,
            name=form.name.data or "",
            secret=secret,
            code=form.code.data or "",
            now=utcnow(),
        ),
        success="Your authenticator app was added.",
        redirect_to=url_for("mfa.security"),
        then=lambda _: flow.enrolled("totp"),
    )


def totp_page(form: TotpForm, user: User, secret: str) -> Response:
    """The QR code (an SVG data URI: CSP allows data: images) and the secret as text."""
    qr = segno.make(services.totp_uri(secret, user.email), error="m").svg_data_uri(scale=5, border=2)
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    page = render_template("mfa/add_totp.html", form=form, qr=qr, secret=grouped)
    return no_store(make_response(page))
