"""Sign-in, sign-out and the signed-in user's own password."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from app.auth import services, signin
from app.auth.forms import LoginForm, PasswordChangeForm
from app.auth.fresh import fresh_signin_required
from app.extensions import db
from app.mfa import flow as mfa_flow
from app.mfa import services as mfa_services
from app.web import add_field_error, client_ip, commit, safe_next, save

bp = Blueprint("auth", __name__)


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
            if mfa_services.has_factor(db.session, attempt.user.id):
                # password only: the session waits for the second factor (app/mfa/views.py)
                mfa_flow.begin_pending(attempt.user, safe_next(form.next.data))
                return redirect(url_for("mfa.second_factor"))
            return signin.start_session(attempt.user, safe_next(form.next.data))
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
