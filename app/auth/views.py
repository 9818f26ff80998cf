"""Sign-in, sign-out and the signed-in user's own password."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from app.auth import reset, services, sessions, signin
from app.auth.forms import ForgotPasswordForm, LoginForm, NewPasswordForm, PasswordChangeForm
from app.auth.fresh import fresh_signin_required
from app.database import utcnow
from app.extensions import db
from app.mail.compose import Links
from app.mfa import flow as mfa_flow
from app.mfa import services as mfa_services
from app.web import add_field_error, client_ip, commit, safe_next, save

bp = Blueprint("auth", __name__)
RESET_DONE = "Your password has been changed and every session of your account has ended. Sign in with it."


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int, dict[str, str]]:
    """Sign in with e-mail and password."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if request.method == "GET":
        signin.check_database()
        form.next.data = safe_next(request.args.get("next"))
    if form.validate_on_submit():
        attempt = signin.attempt(form.email.data or "", form.password.data or "")
        commit()  # the attempt is recorded whatever its outcome
        if attempt.user is not None:
            return _after_password(attempt, safe_next(form.next.data))
        if attempt.refusal is not None:
            seconds = attempt.refusal.retry_after
            add_field_error(form, None, signin.throttled_message(seconds))
            page = _login_page(form)
            return page, 429, {"Retry-After": str(seconds)}
        add_field_error(form, None, signin.GENERIC_FAILURE)
    return _login_page(form)


def _login_page(form: LoginForm) -> str:
    return render_template(
        "auth/login.html",
        form=form,
        mfa_roles=sorted(mfa_flow.required_roles()),
        development=current_app.config["WEBAUTHN_FROM_REQUEST_HOST"],
    )


def _after_password(attempt: services.LoginAttempt, target: str | None) -> Response:
    """The password was right: the session starts, or, for an account with a second
    factor, waits for it (app/mfa/views.py)."""
    assert attempt.user is not None
    at, ip = attempt.previous_at, attempt.previous_ip
    if mfa_services.has_factor(db.session, attempt.user.id):
        mfa_flow.begin_pending(attempt.user, target, previous_at=at, previous_ip=ip)
        return redirect(url_for("mfa.second_factor"))
    return signin.start_session(attempt.user, target, previous_at=at, previous_ip=ip)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    """Sign out; the old session cookie stops working everywhere."""
    services.end_session(db.session, current_user, source_ip=client_ip())
    commit()
    logout_user()
    session.clear()
    flash("You have signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@fresh_signin_required
def change_password() -> str | Response | tuple[str, int]:
    """Change one's own password."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        done = save(
            form,
            lambda: services.change_password(
                db.session,
                current_user,
                form.current_password.data or "",
                form.password.data or "",
                form.confirm.data or "",
            ),
            success="Your password has been changed. Other sessions have been signed out.",
            redirect_to=url_for("dashboard.index"),
            # the new session version, in this browser
            then=lambda _: login_user(current_user._get_current_object()),
        )
        if done is not None:
            return done
    return render_template("auth/password.html", form=form)


@bp.route("/session/status")
def session_status() -> Response:
    """Seconds left before each session limit, for the warning's script (not activity)."""
    limits = sessions.Limits.from_config(current_app.config)
    return jsonify(sessions.remaining(limits, utcnow()))


@bp.route("/session/keep-alive", methods=["POST"])
def keep_alive() -> Response:
    """ "Stay signed in": activity, so the idle limit starts again (the absolute one does not)."""
    limits = sessions.Limits.from_config(current_app.config)
    return jsonify(sessions.remaining(limits, utcnow()))


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password() -> str | Response | tuple[str, int, dict[str, str]]:
    """Ask for a reset link. The answer is the same whether or not the address has an
    account (only throttling answers differently, for any address alike)."""
    if current_user.is_authenticated:
        return redirect(url_for("auth.change_password"))
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        email = form.email.data or ""
        wait = reset.throttled(email, client_ip())
        if wait is not None:
            add_field_error(form, None, reset.THROTTLED.format(minutes=signin.minutes_text(wait)))
            page = render_template("auth/forgot.html", form=form, sent=False)
            return page, 429, {"Retry-After": str(wait)}
        links = Links(current_app)
        reset.request_reset(
            db.session,
            email,
            now=utcnow(),
            minutes=current_app.config["PASSWORD_RESET_MINUTES"],
            source_ip=client_ip(),
            link_for=lambda token: links("auth.reset_password", token=token),
        )
        commit()
        return render_template("auth/forgot.html", form=ForgotPasswordForm(formdata=None), sent=True)
    return render_template("auth/forgot.html", form=form, sent=False)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> str | Response | tuple[str, int]:
    """Choose a new password through an e-mailed link (single use, PASSWORD_RESET_MINUTES)."""
    try:
        reset.usable(db.session, token, now=utcnow(), source_ip=client_ip())
    except services.AccountError as refused:
        commit()  # the refusal's audit event
        return render_template("auth/reset_refused.html", message=refused.message), 410
    form = NewPasswordForm()
    if form.validate_on_submit():
        new, confirm, source_ip = form.password.data or "", form.confirm.data or "", client_ip()
        done = save(
            form,
            lambda: reset.complete_reset(db.session, token, new, confirm, now=utcnow(), source_ip=source_ip),
            success=RESET_DONE,
            redirect_to=url_for("auth.login"),
        )
        if done is not None:
            logout_user()  # whoever this browser was signed in as, it signs in afresh
            return done
    return render_template("auth/reset.html", form=form)
