"""Second-factor pages: the second step of signing in (a key, an app's code or a
recovery code), sign-in with a passkey alone, reauthentication, and the account's own
security page (list, add a key or an app, recovery codes, remove). The work is in
app/mfa/steps.py and the services."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth.fresh import fresh_signin_required, require_fresh
from app.auth.passwords import verify_password
from app.database import utcnow
from app.extensions import db
from app.forms import ConfirmForm
from app.mfa import flow, services, steps
from app.mfa.forms import CodeForm, ReauthForm, TotpForm
from app.models import MfaFactor, User
from app.web import add_field_error, commit, safe_next, save

bp = Blueprint("mfa", __name__)


@bp.route("/login/second-factor", methods=["GET", "POST"])
def second_factor() -> str | Response | tuple[str, int]:
    """After the password: a security key, a code from the authenticator app, or a recovery code."""
    state = steps.mode()
    if state is None:
        if current_user.is_authenticated:
            return redirect(url_for("dashboard.index"))
        flash("Sign in with your password first (the second step waits 10 minutes at most).", "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        done = steps.check_code(state, form)
        return done if done is not None else steps.second_factor_page(state, form, 422)
    return steps.second_factor_page(state, form, 200)


@bp.route("/webauthn/options", methods=["POST"])
def key_options() -> Response:
    """The options for navigator.credentials.create() or .get() (static/js/webauthn.js)."""
    return steps.options(steps.purpose())


@bp.route("/webauthn/assert", methods=["POST"])
def key_assert() -> Response:
    """A security key's or passkey's answer: the second step, a reauthentication, or a
    sign-in with a passkey alone."""
    purpose = steps.purpose()
    answer = steps.credential()
    challenge = steps.take_challenge(purpose)
    if challenge is None:
        return steps.json_error(steps.WAITED, 400)
    if purpose == "passkey":
        return steps.passkey_sign_in(answer, challenge)
    return steps.key_step(purpose, answer, challenge)


@bp.route("/account/reauth", methods=["GET", "POST"])
def reauth() -> str | Response | tuple[str, int]:
    """Confirm it is you: the password, then the second factor when the account has one."""
    user: User = current_user._get_current_object()
    form = ReauthForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"))
    if form.validate_on_submit():
        ok = verify_password(user.password_hash, form.password.data or "")
        done = steps.reauth_password(user, ok, safe_next(form.next.data))
        if done is not None:
            return done
        add_field_error(form, "password", "That password is not correct.")
        return render_template("mfa/reauth.html", form=form), 422
    return render_template("mfa/reauth.html", form=form)


@bp.route("/account/security")
def security() -> str:
    """One's second factors: each with its kind and last use; add, remove, recovery codes."""
    user: User = current_user._get_current_object()
    return render_template(
        "mfa/security.html",
        factors=services.factors_of(db.session, user.id),
        required=flow.mfa_required(user),
        recovery_left=services.unused_recovery_codes(db.session, user.id),
    )


@bp.route("/account/security/key", methods=["GET", "POST"])
@fresh_signin_required
def add_key() -> str | Response:
    """Register a security key or passkey: the page (GET), then the browser's answer (JSON POST)."""
    if request.method == "GET":
        return render_template("mfa/add_key.html", form=ConfirmForm())
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return steps.json_error("The browser sent no answer.", 400)
    return steps.register_key(current_user._get_current_object(), body)


@bp.route("/account/security/totp", methods=["GET", "POST"])
@fresh_signin_required
def add_totp() -> Response | tuple[str, int]:
    """Add an authenticator app: scan the QR code (or type the secret), then its first code."""
    user: User = current_user._get_current_object()
    secret = session.get(flow.NEW_TOTP)
    if not isinstance(secret, str) or request.method == "GET":
        secret = session[flow.NEW_TOTP] = services.new_totp_secret()
    form = TotpForm()
    if form.validate_on_submit():
        done = steps.save_totp(form, user, secret)
        if done is not None:
            return done
    return steps.totp_page(form, user, secret)


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
        codes = services.new_recovery_codes(db.session, steps.actor(user), user, now=utcnow())
        commit()
    left = services.unused_recovery_codes(db.session, user.id)
    page = render_template("mfa/recovery_codes.html", form=form, codes=codes, left=left)
    return steps.no_store(make_response(page))


@bp.route("/account/security/factors/<int:factor_id>/remove", methods=["GET", "POST"])
def remove_factor(factor_id: int) -> str | Response | tuple[str, int]:
    """Remove one of one's factors (a confirmation first, and a fresh sign-in)."""
    user: User = current_user._get_current_object()
    factor = db.session.get(MfaFactor, factor_id)
    if factor is None or factor.user_id != user.id:
        abort(404)
    if (stale := require_fresh()) is not None:
        return stale
    form = ConfirmForm()
    if form.validate_on_submit():
        name, roles = factor.name, flow.required_roles()
        done = save(
            None,
            lambda: services.remove_factor(db.session, steps.actor(user), user, factor, required_roles=roles),
            success=f"“{name}” was removed.",
            redirect_to=url_for("mfa.security"),
        )
        return done or abort(500)
    return render_template("mfa/remove.html", form=form, factor=factor)
