"""Sign-in, sign-out and the signed-in user's own password."""

from __future__ import annotations

import math

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from app.auth import devices, services, throttle
from app.auth.forms import LoginForm, PasswordChangeForm
from app.database import utcnow
from app.extensions import db
from app.web import add_field_error, client_ip, commit, safe_next, save

bp = Blueprint("auth", __name__)

GENERIC_FAILURE = "The e-mail address or password is not correct, or sign-in is paused."
THROTTLED = (
    "Too many failed sign-in attempts. Sign-in from here is paused: try again in {minutes}, "
    "or from a browser you have signed in with before."
)


def _login_policy() -> services.LoginPolicy:
    return services.LoginPolicy(
        max_consecutive_failures=current_app.config["LOGIN_MAX_CONSECUTIVE_FAILURES"],
        known_address_days=current_app.config["LOGIN_KNOWN_ADDRESS_DAYS"],
    )


def _minutes(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int, dict[str, str]]:
    """Sign in with e-mail and password."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"))
    if form.validate_on_submit():
        attempt = services.authenticate(
            db.session,
            form.email.data or "",
            form.password.data or "",
            source_ip=client_ip(),
            now=utcnow(),
            throttle=throttle.current(),
            policy=_login_policy(),
            device_user_ids=devices.known_user_ids(),
        )
        commit()  # the attempt is recorded whatever its outcome
        if attempt.user is not None:
            target = safe_next(form.next.data)
            session.clear()
            login_user(attempt.user)
            session.permanent = True
            flash(f"Signed in as {attempt.user.display_name} ({attempt.user.role.label}).", "success")
            response = redirect(target or url_for("dashboard.index"))
            devices.remember(response, attempt.user.id)
            return response
        if attempt.refusal is not None:
            seconds = attempt.refusal.retry_after
            add_field_error(form, None, THROTTLED.format(minutes=_minutes(seconds)))
            page = render_template("auth/login.html", form=form)
            return page, 429, {"Retry-After": str(seconds)}
        add_field_error(form, None, GENERIC_FAILURE)
    return render_template("auth/login.html", form=form)


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
