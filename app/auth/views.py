"""Sign-in, sign-out and the signed-in user's own password."""

from __future__ import annotations

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

from app.auth import services
from app.auth.forms import LoginForm, PasswordChangeForm
from app.database import utcnow
from app.extensions import db, limiter
from app.web import add_field_error, client_ip, safe_next

bp = Blueprint("auth", __name__)

GENERIC_FAILURE = "The e-mail address or password is not correct, or sign-in is paused."


def _login_rate_key() -> str:
    email = services.normalize_email(request.form.get("email", ""))
    return f"login:{client_ip()}:{email}"


def _login_rate_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, key_func=_login_rate_key, methods=["POST"])
def login() -> str | Response:
    """Sign in with e-mail and password."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"))
    if form.validate_on_submit():
        user = services.authenticate(
            db.session,
            form.email.data,
            form.password.data,
            source_ip=client_ip(),
            now=utcnow(),
            lockout=services.LockoutPolicy(
                current_app.config["LOGIN_LOCKOUT_THRESHOLD"],
                current_app.config["LOGIN_LOCKOUT_MINUTES"],
            ),
        )
        db.session.commit()
        if user is not None:
            target = safe_next(form.next.data)
            session.clear()
            login_user(user)
            session.permanent = True
            flash(f"Signed in as {user.display_name} ({user.role.label}).", "success")
            return redirect(target or url_for("dashboard.index"))
        add_field_error(form, None, GENERIC_FAILURE)
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    """Sign out; the old session cookie stops working everywhere."""
    services.end_session(db.session, current_user, source_ip=client_ip())
    db.session.commit()
    logout_user()
    session.clear()
    flash("You have signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
def change_password() -> str | Response:
    """Change one's own password."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                db.session,
                current_user,
                form.current_password.data,
                form.password.data,
                form.confirm.data,
            )
        except services.AccountError as exc:
            db.session.rollback()
            add_field_error(form, exc.field, str(exc))
        else:
            db.session.commit()
            login_user(current_user._get_current_object())  # new session version, this browser
            flash("Your password has been changed. Other sessions have been signed out.", "success")
            return redirect(url_for("dashboard.index"))
    return render_template("auth/password.html", form=form)
