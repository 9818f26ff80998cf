"""Single sign-on pages (README, "Single sign-on"): a GET link that starts the flow at a
configured OpenID provider, and the callback the provider sends the browser back to.
The steps in between are app/auth/sso_flow.py's.

A refusal, whatever its cause, ends on the sign-in page with a message saying what went
wrong, and is audited; nothing else is saved. With no providers configured these routes
answer 404 and the sign-in page shows no buttons.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from app import clock, portal
from app.auth import oidc, sso_flow, sso_services
from app.extensions import db
from app.web import client_ip, commit, safe_next

bp = Blueprint("sso", __name__)


@bp.app_context_processor
def sso_buttons() -> dict[str, Any]:
    """The sign-in page's buttons, one per configured provider."""
    return {"sso_providers": list(sso_flow.providers().values())}


def _back_to_sign_in(refusal: oidc.SsoRefused, target: str | None) -> Response:
    flash(refusal.message, "error")
    return redirect(url_for("auth.login", next=target) if target else url_for("auth.login"))


@bp.route("/sso/<name>/start")
def start(name: str) -> Any:
    """Send the browser to the provider with a new state, nonce and PKCE challenge."""
    provider = sso_flow.provider_or_404(name)
    if (limited := portal.limit_anonymous()) is not None:
        return limited  # each start reads the provider's discovery document: counted per address
    target = safe_next(request.args.get("next"))
    try:
        return redirect(sso_flow.begin(provider, target))
    except oidc.SsoRefused as refusal:
        sso_services.record_refusal(db.session, provider=name, reason=refusal.reason, source_ip=client_ip())
        commit()
        return _back_to_sign_in(refusal, target)


@bp.route("/sso/<name>/callback")
def callback(name: str) -> Response:
    """Finish the sign-in: the provider's answer checked, the account found, the session started."""
    provider = sso_flow.provider_or_404(name)
    pending = sso_flow.take_pending()
    target = pending.next if pending is not None else None
    try:
        identity = sso_flow.finish(provider, pending, request.args)
    except oidc.SsoRefused as refusal:
        sso_services.record_refusal(db.session, provider=name, reason=refusal.reason, source_ip=client_ip())
        commit()
        return _back_to_sign_in(refusal, target)
    try:
        signed_in = sso_services.sign_in(db.session, identity, source_ip=client_ip(), now=clock.now())
    except oidc.SsoRefused as refusal:
        commit()  # the refusal's audit event, and nothing else
        return _back_to_sign_in(refusal, target)
    commit()
    return sso_flow.start_session(signed_in, identity, target)
