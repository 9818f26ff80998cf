"""Single sign-on pages (README, "Single sign-on"): a GET link that starts the flow at a
configured OpenID provider, and the callback the provider sends the browser back to.

A refusal, whatever its cause, ends on the sign-in page with a message saying what went
wrong, and is audited; nothing else is saved. With no providers configured these routes
answer 404 and the sign-in page shows no buttons.
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, request, session, url_for
from werkzeug.wrappers import Response

from app import clock
from app.auth import oidc, signin, sso_services
from app.extensions import db
from app.web import client_ip, commit, safe_next

bp = Blueprint("sso", __name__)

PENDING = "sso_pending"  # the started sign-in (oidc.Pending), in the signed session cookie
SECOND_FACTOR = "second_factor"  # read by the MFA gate: any non-empty value satisfies it


def providers() -> dict[str, oidc.Provider]:
    return oidc.load_providers(current_app.config["OIDC_PROVIDERS"])


def _provider(name: str) -> oidc.Provider:
    provider = providers().get(name)
    if provider is None:
        abort(404)
    return provider


def _timeout() -> float:
    return float(current_app.config["OIDC_HTTP_TIMEOUT_SECONDS"])


def _redirect_uri(provider: oidc.Provider) -> str:
    return url_for("sso.callback", name=provider.name, _external=True)


@bp.app_context_processor
def sso_buttons() -> dict[str, Any]:
    """The sign-in page's buttons, one per configured provider."""
    return {"sso_providers": list(providers().values())}


def _refused(provider: str, refusal: oidc.SsoRefused, target: str | None, **identity: Any) -> Response:
    sso_services.record_refusal(
        db.session, provider=provider, reason=refusal.reason, source_ip=client_ip(), **identity
    )
    commit()
    flash(refusal.message, "error")
    return redirect(url_for("auth.login", next=target) if target else url_for("auth.login"))


@bp.route("/sso/<name>/start")
def start(name: str) -> Response:
    """Send the browser to the provider with a new state, nonce and PKCE challenge."""
    provider = _provider(name)
    target = safe_next(request.args.get("next"))
    try:
        metadata = oidc.discover(provider, _timeout())
    except oidc.SsoRefused as refusal:
        return _refused(provider.name, refusal, target)
    url, pending = oidc.start(provider, metadata, _redirect_uri(provider), next=target, now=clock.now())
    session[PENDING] = pending.to_dict()
    return redirect(url)


def _check_pending(provider: oidc.Provider, pending: oidc.Pending | None) -> oidc.Pending:
    """The sign-in this callback ends, or SsoRefused when it is not one started here, in
    this browser, for this provider, within the last FLOW_TIMEOUT."""
    state = request.args.get("state", "")
    if pending is None:
        raise oidc.SsoRefused("no sign-in started in this browser", sso_services.STATE_MISMATCH)
    if pending.provider != provider.name or not hmac.compare_digest(pending.state.encode(), state.encode()):
        raise oidc.SsoRefused("wrong state", sso_services.STATE_MISMATCH)
    if clock.now() - pending.started_at > oidc.FLOW_TIMEOUT:
        raise oidc.SsoRefused("sign-in started too long ago", sso_services.STATE_MISMATCH)
    return pending


@bp.route("/sso/<name>/callback")
def callback(name: str) -> Response:
    """Finish the sign-in: check state, trade the code, validate the ID token, find the
    account, start the session."""
    provider = _provider(name)
    pending = oidc.Pending.from_dict(session.pop(PENDING, None))
    target = pending.next if pending is not None else None
    try:
        pending = _check_pending(provider, pending)
        if "error" in request.args:  # the person cancelled, or the provider refused
            error = request.args.get("error", "")[:60]
            raise oidc.SsoRefused(
                f"provider answered {error}", sso_services.CANCELLED.format(label=provider.label, error=error)
            )
        metadata = oidc.discover(provider, _timeout())
        tokens = oidc.exchange_code(
            provider,
            metadata,
            _redirect_uri(provider),
            code=request.args.get("code", ""),
            code_verifier=pending.code_verifier,
            now=clock.now,
            timeout=_timeout(),
        )
        jwks = oidc.fetch_jwks(provider, metadata, _timeout())
        claims = oidc.validate_id_token(
            provider, tokens["id_token"], jwks=jwks, nonce=pending.nonce, now=clock.now()
        )
        if "email" not in claims and isinstance(tokens.get("access_token"), str):
            userinfo = oidc.fetch_userinfo(provider, metadata, tokens["access_token"], _timeout())
            if userinfo.get("sub") != claims["sub"]:
                raise oidc.SsoRefused(
                    "userinfo names another subject", oidc.UNREACHABLE.format(label=provider.label)
                )
            claims = {**userinfo, **claims}
    except oidc.SsoRefused as refusal:
        return _refused(provider.name, refusal, target)
    identity = sso_services.identity_from_claims(
        provider=provider.name,
        label=provider.label,
        issuer=provider.issuer,
        claims=claims,
        second_factor=oidc.counts_as_mfa(provider, claims),
    )
    try:
        user = sso_services.sign_in(db.session, identity, source_ip=client_ip(), now=clock.now())
    except oidc.SsoRefused as refusal:
        commit()  # the refusal's audit event, and nothing else
        flash(refusal.message, "error")
        return redirect(url_for("auth.login", next=target) if target else url_for("auth.login"))
    commit()
    response = signin.start_session(user, target)
    if identity.second_factor:
        session[SECOND_FACTOR] = f"sso:{provider.name}"
    return response
