"""The request side of single sign-on, for the SSO views (app/auth/sso_views.py): the
configured providers, the started sign-in kept in the session, the callback's checks and
calls to the provider in order, and the session a success starts. Like signin.py for the
password, it reads the request; the protocol is app/auth/oidc.py, the matching and the
audit trail app/auth/sso_services.py."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from flask import abort, current_app, session, url_for
from werkzeug.wrappers import Response

from app import clock
from app.auth import oidc, signin, sso_services

PENDING = "sso_pending"  # the started sign-in (oidc.Pending), in the signed session cookie
SECOND_FACTOR = "second_factor"  # read by the MFA gate: any non-empty value satisfies it


def providers() -> dict[str, oidc.Provider]:
    return oidc.load_providers(current_app.config["OIDC_PROVIDERS"])


def provider_or_404(name: str) -> oidc.Provider:
    provider = providers().get(name)
    if provider is None:
        abort(404)
    return provider


def _timeout() -> float:
    return float(current_app.config["OIDC_HTTP_TIMEOUT_SECONDS"])


def _redirect_uri(provider: oidc.Provider) -> str:
    return url_for("sso.callback", name=provider.name, _external=True)


def begin(provider: oidc.Provider, target: str | None) -> str:
    """The provider's authorization URL for a new sign-in, its state, nonce and code
    verifier kept in the session (replacing any earlier one); SsoRefused when the
    provider cannot be reached."""
    metadata = oidc.discover(provider, _timeout())
    url, pending = oidc.start(provider, metadata, _redirect_uri(provider), next=target, now=clock.now())
    session[PENDING] = pending.to_dict()
    return url


def take_pending() -> oidc.Pending | None:
    """The started sign-in, removed from the session: each state is used once."""
    return oidc.Pending.from_dict(session.pop(PENDING, None))


def _check_pending(provider: oidc.Provider, pending: oidc.Pending | None, state: str) -> oidc.Pending:
    """The sign-in this callback ends, or SsoRefused when it is not one started here, in
    this browser, for this provider, within the last FLOW_TIMEOUT."""
    if pending is None:
        raise oidc.SsoRefused("no sign-in started in this browser", sso_services.STATE_MISMATCH)
    if pending.provider != provider.name or not hmac.compare_digest(pending.state.encode(), state.encode()):
        raise oidc.SsoRefused("wrong state", sso_services.STATE_MISMATCH)
    if clock.now() - pending.started_at > oidc.FLOW_TIMEOUT:
        raise oidc.SsoRefused("sign-in started too long ago", sso_services.STATE_MISMATCH)
    return pending


def finish(
    provider: oidc.Provider, pending: oidc.Pending | None, args: Mapping[str, str]
) -> sso_services.Identity:
    """Check the callback's state, trade its code, validate the ID token and read the
    e-mail address (from the userinfo endpoint when the token has none): the identity
    the provider vouches for, or SsoRefused with the first thing wrong (not yet audited)."""
    pending = _check_pending(provider, pending, args.get("state", ""))
    if "iss" in args and args.get("iss") != provider.issuer:  # RFC 9207: a mix-up of providers
        raise oidc.SsoRefused("authorization response from another issuer", sso_services.STATE_MISMATCH)
    if "error" in args:  # the person cancelled, or the provider refused
        error = args.get("error", "")[:60]
        raise oidc.SsoRefused(
            f"provider answered {error}", sso_services.CANCELLED.format(label=provider.label, error=error)
        )
    metadata = oidc.discover(provider, _timeout())
    tokens = oidc.exchange_code(
        provider,
        metadata,
        _redirect_uri(provider),
        code=args.get("code", ""),
        code_verifier=pending.code_verifier,
        now=clock.now,
        timeout=_timeout(),
    )
    jwks = oidc.fetch_jwks(provider, metadata, _timeout())
    claims: dict[str, Any] = oidc.validate_id_token(
        provider, tokens["id_token"], jwks=jwks, nonce=pending.nonce, now=clock.now()
    )
    if "email" not in claims and isinstance(tokens.get("access_token"), str):
        userinfo = oidc.fetch_userinfo(provider, metadata, tokens["access_token"], _timeout())
        if userinfo.get("sub") != claims["sub"]:
            raise oidc.SsoRefused(
                "userinfo names another subject", oidc.UNREACHABLE.format(label=provider.label)
            )
        claims = {**userinfo, **claims}
    return sso_services.identity_from_claims(
        provider=provider.name,
        label=provider.label,
        issuer=provider.issuer,
        claims=claims,
        second_factor=oidc.counts_as_mfa(provider, claims),
    )


def start_session(
    signed_in: sso_services.SignedIn, identity: sso_services.Identity, target: str | None
) -> Response:
    """The password sign-in's fresh session (signin.start_session, showing the previous
    sign-in), with the second factor recorded when this provider's sign-in counts as one."""
    response = signin.start_session(
        signed_in.user, target, previous_at=signed_in.previous_at, previous_ip=signed_in.previous_ip
    )
    if identity.second_factor:
        session[SECOND_FACTOR] = f"sso:{identity.provider}"
    return response
