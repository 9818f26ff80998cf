"""Second-factor pages: the second step of signing in (a key, an app's code or a
recovery code), sign-in with a passkey alone, reauthentication, and the account's own
security page (list, add a key or an app, recovery codes, remove)."""

from __future__ import annotations

from typing import Any

import segno
from flask import (
    Blueprint,
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
from app.auth import signin
from app.auth.fresh import fresh_signin_required, require_fresh
from app.auth.passwords import verify_password
from app.database import utcnow
from app.extensions import db
from app.forms import ConfirmForm
from app.mfa import flow, keys, services
from app.mfa.forms import CodeForm, ReauthForm, TotpForm
from app.models import FactorKind, MfaFactor, User
from app.web import add_field_error, client_ip, commit, safe_next, save

bp = Blueprint("mfa", __name__)

REAUTH_MAX_FAILURES = 5  # wrong passwords in a row on the reauthentication page sign the session out


def _actor(user: User) -> AuditActor:
    return AuditActor.for_user(user, client_ip())


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- finishing a sign-in or a reauthentication ------------------------------------------


def _finish_sign_in(user: User, method: str, target: str | None) -> Response:
    """The second factor was given: the full session starts (app/auth/signin.py)."""
    response = signin.start_session(user, safe_next(target))
    session[flow.SECOND_FACTOR] = method
    return response


def _finish_reauth(user: User, method: str, target: str | None) -> Response:
    services.record_success(db.session, _actor(user), user, "reauth", method)
    commit()
    session.pop(flow.REAUTH, None)
    session.pop("reauth_failures", None)
    signin.mark_authenticated()
    session[flow.SECOND_FACTOR] = method
    flash("Thank you: you confirmed it is you.", "success")
    return redirect(safe_next(target) or url_for("dashboard.index"))


def _mode() -> tuple[str, User, str | None] | None:
    """("reauth", user, next) while a signed-in user reauthenticates; ("signin", user,
    next) while a sign-in awaits its second factor; else None."""
    if current_user.is_authenticated:
        waiting, target = flow.reauth_target()
        return ("reauth", current_user._get_current_object(), target) if waiting else None
    pending = flow.pending_user()
    return ("signin", pending[0], pending[1]) if pending else None


def _finish(mode: str, user: User, method: str, target: str | None) -> Response:
    if mode == "reauth":
        return _finish_reauth(user, method, target)
    services.record_success(db.session, _actor(user), user, "login_second_factor", method)
    commit()
    return _finish_sign_in(user, method, target)


def _failed(mode: str, user: User, method: str, error: services.MfaError) -> None:
    action = "reauth" if mode == "reauth" else "login_second_factor"
    db.session.rollback()
    services.record_failure(db.session, _actor(user), user, action, method, error.reason)
    commit()


# --- the second step --------------------------------------------------------------------


@bp.route("/login/second-factor", methods=["GET", "POST"])
def second_factor() -> str | Response | tuple[str, int]:
    """After the password: a security key, a code from the authenticator app, or a
    recovery code."""
    state = _mode()
    if state is None:
        if current_user.is_authenticated:
            return redirect(url_for("dashboard.index"))
        flash("Sign in with your password first (the second step waits 10 minutes at most).", "info")
        return redirect(url_for("auth.login"))
    mode, user, target = state
    factors = services.factors_of(db.session, user.id)
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        method = "recovery" if form.method.data == "recovery" else "totp"
        now = utcnow()
        try:
            if method == "recovery":
                services.use_recovery_code(db.session, user, form.code.data or "", now)
                services.record_success(db.session, _actor(user), user, "mfa_recovery_code_used", "recovery")
            else:
                services.check_totp(db.session, user, form.code.data or "", now)
        except services.MfaError as error:
            _failed(mode, user, method, error)
            add_field_error(form, "code", error.message)
            status = 422
        else:
            return _finish(mode, user, method, target)
    page = render_template(
        "mfa/second_factor.html",
        form=form,
        mode=mode,
        has_key=any(f.kind == FactorKind.WEBAUTHN for f in factors),
        has_totp=any(f.kind == FactorKind.TOTP for f in factors),
        recovery_left=services.unused_recovery_codes(db.session, user.id),
    )
    return page, status


# --- WebAuthn ceremonies (JSON, called by static/js/webauthn.js) ------------------------

PURPOSES = ("register", "second", "passkey", "reauth")


def _json_error(message: str, status: int) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    return _no_store(response)


def _purpose() -> str:
    body = request.get_json(silent=True)
    purpose = body.get("purpose") if isinstance(body, dict) else None
    if purpose not in PURPOSES:
        abort(400, description="Unknown WebAuthn purpose.")
    return str(purpose)


def _take_challenge(purpose: str) -> bytes | None:
    saved = session.pop(flow.CHALLENGE, None)
    if not isinstance(saved, dict) or saved.get("purpose") != purpose:
        return None
    try:
        return keys.challenge_from_text(str(saved.get("challenge")))
    except ValueError:
        return None


@bp.route("/webauthn/options", methods=["POST"])
def key_options() -> Response:
    """The options for navigator.credentials.create() (register) or .get() (second step,
    passkey sign-in, reauthentication), with a new challenge kept in the session."""
    purpose = _purpose()
    rp = flow.relying_party()
    if purpose == "register":
        if not current_user.is_authenticated:
            return _json_error("Sign in first.", 401)
        if require_fresh() is not None:
            return _json_error("Sign in again first: your sign-in is more than a few minutes old.", 403)
        user = current_user._get_current_object()
        handle = keys.user_handle(current_app.config["SECRET_KEY"], user)
        options, challenge = keys.registration_options(
            rp, user, handle, services.factors_of(db.session, user.id)
        )
    elif purpose == "passkey":
        if current_user.is_authenticated:
            return _json_error("You are signed in already.", 409)
        options, challenge = keys.authentication_options(rp, None)
    else:
        state = _mode()
        if state is None or state[0] != ("reauth" if purpose == "reauth" else "signin"):
            return _json_error("Sign in with your password first.", 401)
        allow = [f for f in services.factors_of(db.session, state[1].id) if f.kind == FactorKind.WEBAUTHN]
        options, challenge = keys.authentication_options(rp, allow)
    session[flow.CHALLENGE] = {"purpose": purpose, "challenge": keys.challenge_to_text(challenge)}
    response = make_response(options)
    response.mimetype = "application/json"
    return _no_store(response)


def _credential() -> dict[str, Any]:
    body = request.get_json(silent=True)
    credential = body.get("credential") if isinstance(body, dict) else None
    if not isinstance(credential, dict):
        abort(400, description="No credential was sent.")
    return credential


def _redirect_json(response: Response) -> Response:
    """A redirect as JSON for the script, keeping its cookies (the known-device one)."""
    answer = jsonify(redirect=response.location)
    for cookie in response.headers.getlist("Set-Cookie"):
        answer.headers.add("Set-Cookie", cookie)
    return _no_store(answer)


@bp.route("/webauthn/assert", methods=["POST"])
def key_assert() -> Response:
    """Check a security key's or passkey's answer: the second step, a reauthentication,
    or a sign-in with a passkey alone (user verification required: two factors)."""
    purpose = _purpose()
    credential = _credential()
    challenge = _take_challenge(purpose)
    if challenge is None:
        return _json_error("This page waited too long. Try again.", 400)
    rp = flow.relying_party()
    now = utcnow()
    if purpose == "passkey":
        if current_user.is_authenticated:
            return _json_error("You are signed in already.", 409)
        try:
            factor = keys.verify_assertion(db.session, rp, credential, challenge, user=None, now=now)
        except services.MfaError as error:
            db.session.rollback()
            audit.record(
                db.session,
                "login",
                actor=AuditActor.anonymous(client_ip()),
                changes={"method": "passkey", "reason": error.reason},
                outcome="failure",
            )
            commit()
            return _json_error(error.message, 422)
        user = db.session.get(User, factor.user_id)
        if user is None or not user.active:
            db.session.rollback()
            return _json_error("This account cannot sign in. Ask an administrator.", 403)
        services.record_passkey_login(db.session, _actor(user), user, factor, now=now)
        commit()
        return _redirect_json(_finish_sign_in(user, "passkey", safe_next(request.args.get("next"))))
    state = _mode()
    if state is None or state[0] != ("reauth" if purpose == "reauth" else "signin"):
        return _json_error("Sign in with your password first.", 401)
    mode, user, target = state
    try:
        keys.verify_assertion(db.session, rp, credential, challenge, user=user, now=now)
    except services.MfaError as error:
        _failed(mode, user, "webauthn", error)
        return _json_error(error.message, 422)
    return _redirect_json(_finish(mode, user, "webauthn", target))


# --- reauthentication -------------------------------------------------------------------


@bp.route("/account/reauth", methods=["GET", "POST"])
def reauth() -> str | Response | tuple[str, int]:
    """Confirm it is you: the password, then the second factor when the account has one."""
    user: User = current_user._get_current_object()
    form = ReauthForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"))
    if form.validate_on_submit():
        target = safe_next(form.next.data)
        if verify_password(user.password_hash, form.password.data or ""):
            session.pop("reauth_failures", None)
            if services.has_factor(db.session, user.id):
                flow.begin_reauth(target)
                return redirect(url_for("mfa.second_factor"))
            return _finish_reauth(user, "password", target)
        failures = int(session.get("reauth_failures", 0)) + 1
        services.record_failure(db.session, _actor(user), user, "reauth", "password", "wrong password")
        if failures >= REAUTH_MAX_FAILURES:
            accounts.end_session(db.session, user, source_ip=client_ip())
            commit()
            session.clear()
            flash("Too many wrong passwords: you were signed out.", "error")
            return redirect(url_for("auth.login"))
        commit()
        session["reauth_failures"] = failures
        add_field_error(form, "password", "That password is not correct.")
        return render_template("mfa/reauth.html", form=form), 422
    return render_template("mfa/reauth.html", form=form)


# --- the account's security page --------------------------------------------------------


@bp.route("/account/security")
def security() -> str:
    """One's second factors: each with its kind and last use; add, remove, recovery codes."""
    user: User = current_user._get_current_object()
    return render_template(
        "mfa/security.html",
        factors=services.factors_of(db.session, user.id),
        required=flow.mfa_required(user),
        recovery_left=services.unused_recovery_codes(db.session, user.id),
        tz=current_app.config["APP_TIMEZONE"],
    )


@bp.route("/account/security/key", methods=["GET", "POST"])
@fresh_signin_required
def add_key() -> str | Response:
    """Register a security key or passkey: the page (GET), then the browser's answer (JSON POST)."""
    user: User = current_user._get_current_object()
    if request.method == "GET":
        return render_template("mfa/add_key.html", form=ConfirmForm())
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _json_error("The browser sent no answer.", 400)
    challenge = _take_challenge("register")
    if challenge is None:
        return _json_error("This page waited too long. Reload it and try again.", 400)
    try:
        new = keys.verify_registration(flow.relying_party(), _credential(), challenge)
        services.add_key(
            db.session,
            _actor(user),
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
            services.record_failure(db.session, _actor(user), user, "mfa_enrol", "webauthn", error.reason)
            commit()
        return _json_error(error.message, 422)
    commit()
    session[flow.SECOND_FACTOR] = session.get(flow.SECOND_FACTOR) or "webauthn"
    flash("Your security key was added.", "success")
    return _no_store(jsonify(redirect=url_for("mfa.security")))


@bp.route("/account/security/totp", methods=["GET", "POST"])
@fresh_signin_required
def add_totp() -> Response:
    """Add an authenticator app: scan the QR code (or type the secret), then its first code."""
    user: User = current_user._get_current_object()
    secret = session.get(flow.NEW_TOTP)
    if not isinstance(secret, str) or request.method == "GET":
        secret = services.new_totp_secret()
        session[flow.NEW_TOTP] = secret
    form = TotpForm()
    status = 200
    if form.validate_on_submit():
        done = save(
            form,
            lambda: services.add_totp(
                db.session,
                _actor(user),
                user,
                name=form.name.data or "",
                secret=secret,
                code=form.code.data or "",
                now=utcnow(),
            ),
            success="Your authenticator app was added.",
            redirect_to=url_for("mfa.security"),
        )
        if done is not None:
            session.pop(flow.NEW_TOTP, None)
            session[flow.SECOND_FACTOR] = session.get(flow.SECOND_FACTOR) or "totp"
            return _no_store(done) if isinstance(done, Response) else done  # type: ignore[return-value]
        status = 422
    uri = services.totp_uri(secret, user.email)
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=2)
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    page = make_response(render_template("mfa/add_totp.html", form=form, qr=qr, secret=grouped), status)
    return _no_store(page)


@bp.route("/account/security/recovery-codes", methods=["GET", "POST"])
@fresh_signin_required
def recovery_codes() -> Response:
    """Make ten new recovery codes (the old ones stop working), shown once."""
    user: User = current_user._get_current_object()
    form = ConfirmForm()
    codes = None
    if form.validate_on_submit():
        if not services.has_factor(db.session, user.id):
            flash(
                "Add a security key or an authenticator app first: recovery codes stand in for one.", "info"
            )
            return redirect(url_for("mfa.security"))
        codes = services.new_recovery_codes(db.session, _actor(user), user, now=utcnow())
        commit()
    page = make_response(
        render_template(
            "mfa/recovery_codes.html",
            form=form,
            codes=codes,
            left=services.unused_recovery_codes(db.session, user.id),
        )
    )
    return _no_store(page)


@bp.route("/account/security/factors/<int:factor_id>/remove", methods=["GET", "POST"])
def remove_factor(factor_id: int) -> str | Response:
    """Remove one of one's factors (a confirmation first, and a fresh sign-in)."""
    user: User = current_user._get_current_object()
    factor = db.session.get(MfaFactor, factor_id)
    if factor is None or factor.user_id != user.id:
        abort(404)
    if (stale := require_fresh()) is not None:
        return stale
    form = ConfirmForm()
    if form.validate_on_submit():
        name = factor.name
        done = save(
            None,
            lambda: services.remove_factor(
                db.session, _actor(user), user, factor, required_roles=flow.required_roles()
            ),
            success=f"“{name}” was removed.",
            redirect_to=url_for("mfa.security"),
        )
        assert done is not None
        return done  # type: ignore[return-value]
    return render_template("mfa/remove.html", form=form, factor=factor)
