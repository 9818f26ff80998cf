"""API token pages: one's own tokens (make, list, revoke) and the administrators' list of
every token. A new token's secret is shown once, in the answer to the POST that made it
(never stored, never in an address or a cookie, never cached)."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response

from app import clock
from app.auth import policy
from app.auth.fresh import require_fresh
from app.extensions import db
from app.forms import ConfirmForm
from app.models import ApiToken, TokenScope
from app.tokens import services
from app.tokens.forms import TokenForm
from app.web import note_access, safe_next, save, today

bp = Blueprint("tokens", __name__)


def _new_form() -> TokenForm:
    form = TokenForm(formdata=None)
    form.offer_scopes(current_user)
    form.scope.data = TokenScope.READ.value
    form.expires_on.data = services.default_expiry_day(today())
    return form


def _page(template: str, status: int = 200, **context: Any) -> Response:
    """A token page, never kept by a browser or a proxy (one of them shows a secret)."""
    tz = current_app.config["APP_TIMEZONE"]
    response = make_response(
        render_template(
            template,
            now=clock.now(),
            tz=tz,
            state_of=services.state_of,
            expiry_day=lambda token: services.expiry_day(token, tz),
            **context,
        ),
        status,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _account(form: TokenForm, new: services.NewToken | None = None) -> Response:
    tokens = db.session.scalars(services.tokens_of(current_user)).unique().all()
    last_day = services.last_expiry_day(today())
    return _page("tokens/account.html", form=form, tokens=tokens, new=new, last_day=last_day)


def _create(form: TokenForm) -> services.NewToken:
    now = clock.now()
    day = form.expires_on.data
    if day is None:  # InputRequired and the date's parse saw to it; for the type checker
        raise services.TokenError("Choose the day the token expires.", "expires_on")
    expires_at = services.expiry_at_end_of(day, today=today(), now=now, tz=current_app.config["APP_TIMEZONE"])
    scope = TokenScope(form.scope.data)
    return services.create(
        db.session, current_user, name=form.name.data or "", scope=scope, expires_at=expires_at, now=now
    )


@bp.route("/account/tokens", methods=["GET", "POST"])
def account() -> Response:
    """Your API tokens: the list, and a form to make one; its secret is shown once."""
    if request.method == "GET":
        return _account(_new_form())
    if (stale := require_fresh()) is not None:  # making a token needs a fresh sign-in
        return stale
    form = TokenForm()
    form.offer_scopes(current_user)
    if form.validate_on_submit():
        made: list[services.NewToken] = []
        done = save(
            form,
            lambda: _create(form),
            success=lambda new: f"The token “{new.token.name}” was made.",
            redirect_to=url_for("tokens.account"),
            then=made.append,
        )
        if done is not None:  # saved: this answer, not the redirect, carries the secret
            return _account(_new_form(), new=made[0])
    return _account(form)


def _already_revoked(token: ApiToken, back: str) -> Response:
    """A second revocation (two tabs, two administrators): nothing changes, and it says so."""
    who = token.revoked_by.email if token.revoked_by is not None else "a deleted account"
    when = token.revoked_at.isoformat() if token.revoked_at else ""
    note_access(
        "revoke",
        object_type="api_tokens",
        object_id=token.id,
        details={"reason": "already revoked", "revoked_at": when},
        outcome="failure",
    )
    flash(
        f"The token “{token.name}” was already revoked on {token.revoked_at:%Y-%m-%d %H:%M} UTC "
        f"by {who}. Nothing changed.",
        "info",
    )
    return redirect(back)


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["GET", "POST"])
def revoke(token_id: int) -> Response | tuple[str, int]:
    """Revoke a token after a confirmation page: its owner, or an administrator."""
    token = services.token_to_revoke(db.session, token_id, lock=request.method == "POST")
    if token is None:
        abort(404)
    if not services.may_revoke(current_user, token):
        abort(403, description=services.REVOKE_REFUSED)
    back = safe_next(request.values.get("next")) or url_for("tokens.account")
    form = ConfirmForm()
    if form.validate_on_submit():
        if token.revoked_at is not None:
            return _already_revoked(token, back)
        done = save(
            None,
            lambda: services.revoke(db.session, token, by=current_user, now=clock.now()),
            success=f"The token “{token.name}” was revoked: it no longer works.",
            redirect_to=back,
        )
        if done is not None:
            return done
    return _page("tokens/revoke.html", form=form, token=token, back=back)


@bp.route("/admin/tokens")
def admin_tokens() -> Response:
    """Administrators: every token with its owner, state and last use, each revocable."""
    policy.require(policy.is_admin(current_user))
    tokens = db.session.scalars(services.all_tokens()).unique().all()
    return _page("tokens/admin.html", tokens=tokens)
