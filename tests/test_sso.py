"""Single sign-on over OpenID Connect (app/auth/oidc.py, sso_flow.py, sso_services.py, sso_views.py),
against a real OpenID provider on loopback (oidc-provider, tests/oidc/provider.mjs).

The success path runs the whole flow through the real provider: RecTrack's start link,
the provider's authorization endpoint and login, the callback, the code traded at the
provider's token endpoint with PKCE and a private_key_jwt client assertion, the ID token
checked against the provider's JWKS, the e-mail read from its userinfo endpoint. The
forged ID tokens are handed to the same callback in place of the token endpoint's answer,
with the real provider's discovery document and keys; each is refused with its message
on the sign-in page, audited, and nothing else changes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from limits import parse
from sqlalchemy.orm import selectinload

from app import clock, portal
from app.auth import oidc
from app.extensions import db
from app.models import AuditEvent, SsoIdentity, User
from tests import sso_support
from tests.conftest import user_by_email, visible_text
from tests.servers import free_port
from tests.sso_support import CLIENT_ID, LABEL, NAME, LocalProvider, new_rsa_key, write_pem

START = f"/sso/{NAME}/start"
CALLBACK = f"/sso/{NAME}/callback"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalProvider]:
    """oidc-provider on a free loopback port for this module's tests, with a client key
    made here (its public half registered with the provider for private_key_jwt)."""
    folder = tmp_path_factory.mktemp("oidc")
    client_key = new_rsa_key()
    local = LocalProvider(
        port=free_port(),
        client_key_path=write_pem(client_key, folder / "client.pem"),
        signing_key=new_rsa_key(),
    )
    local.start(client_key.as_dict(private=False))
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture
def sso(app: Flask, provider: LocalProvider, monkeypatch: pytest.MonkeyPatch) -> LocalProvider:
    """The app configured with the local provider (an ordinary, non-MFA one)."""
    monkeypatch.setitem(app.config, "OIDC_PROVIDERS", provider.setting())
    return provider


def _events(action: str = "login") -> list[AuditEvent]:
    return list(
        db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
    )


def _sso_events(outcome: str) -> list[dict[str, Any]]:
    return [
        json.loads(e.changes) if isinstance(e.changes, str) else e.changes
        for e in _events()
        if e.outcome == outcome and '"sso"' in json.dumps(e.changes)
    ]


def _links() -> list[tuple[str, str, str]]:
    return [
        (link.issuer, link.subject, link.user.email)
        for link in db.session.scalars(sa.select(SsoIdentity).options(selectinload(SsoIdentity.user)))
    ]


def _signed_in_user_id(client: FlaskClient) -> str | None:
    with client.session_transaction() as sess:
        return sess.get("_user_id")


def _start(client: FlaskClient, next_page: str | None = None) -> str:
    response = client.get(START, query_string={"next": next_page} if next_page else None)
    assert response.status_code == 302
    return response.headers["Location"]


def _full_sign_in(
    client: FlaskClient, account: str, next_page: str | None = None, acr: str | None = None
) -> Any:
    location = sso_support.sign_in_at_provider(_start(client, next_page), account, acr)
    return client.get(sso_support.callback_path(location))


# --- the real provider, end to end ------------------------------------------------------


def test_sign_in_through_the_local_provider(sso: LocalProvider, client: FlaskClient) -> None:
    viewer = user_by_email("viewer@test.example")
    start = _start(client, "/reports?status=open")
    params = sso_support.query(start)
    # the authorization request: code flow, PKCE S256, state and nonce, this client
    assert start.startswith(f"{sso.issuer}/auth?")
    assert params["response_type"] == "code"
    assert params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == sso_support.REDIRECT_URI
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43
    assert len(params["state"]) >= 43
    assert len(params["nonce"]) >= 43
    assert params["scope"] == "openid email"

    location = sso_support.sign_in_at_provider(start, "viewer-sub")
    assert sso_support.query(location)["state"] == params["state"]
    response = client.get(sso_support.callback_path(location))

    assert response.status_code == 302
    assert response.headers["Location"] == "/reports?status=open"  # back where they wanted to go
    assert _signed_in_user_id(client) == viewer.get_id()
    with client.session_transaction() as sess:
        assert "second_factor" not in sess  # this provider is not configured as a second factor
        signed_in_at = datetime.fromisoformat(sess["auth_at"])  # start_session recorded it
        assert timedelta(0) <= clock.now() - signed_in_at < timedelta(seconds=30)
        assert "sso_pending" not in sess
    page = client.get("/")
    assert page.status_code == 200
    assert "Signed in as Viewer (Congressional staff (read-only))." in visible_text(page)
    assert "This is the first sign-in to your account." in visible_text(page)
    # linked on first match; the sign-in audited with provider and subject, no token
    assert _links() == [(sso.issuer, "viewer-sub", "viewer@test.example")]
    (success,) = _sso_events("success")
    assert success == {"method": "sso", "provider": NAME, "subject": "viewer-sub", "second_factor": False}
    (link_event,) = _events("sso_link")
    assert link_event.actor_label == "viewer@test.example"
    db.session.expire_all()
    assert user_by_email("viewer@test.example").last_login_at is not None
    everything = json.dumps([e.changes for e in _events()] + [e.changes for e in _events("sso_link")])
    assert "eyJ" not in everything  # no JWT (tokens start with a base64 '{"')


def test_a_linked_subject_signs_in_by_its_link_and_keeps_its_role(sso: LocalProvider, app: Flask) -> None:
    first = app.test_client()
    _full_sign_in(first, "viewer-sub")
    second = app.test_client()
    response = _full_sign_in(second, "viewer-sub")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert _signed_in_user_id(second) == user_by_email("viewer@test.example").get_id()
    assert len(_links()) == 1  # one link, not two
    assert len(_sso_events("success")) == 2
    # the role is RecTrack's: the viewer cannot reach an administrator's page
    assert second.get("/admin/users").status_code == 403


def test_e_mail_matching_ignores_case(sso: LocalProvider, client: FlaskClient) -> None:
    response = _full_sign_in(client, "liaison-sub")
    assert response.status_code == 302
    assert _signed_in_user_id(client) == user_by_email("liaison@test.example").get_id()


def test_a_provider_that_counts_as_mfa_sets_the_second_factor(
    app: Flask, provider: LocalProvider, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(
        app.config,
        "OIDC_PROVIDERS",
        provider.setting(counts_as_mfa=True, acr_values="urn:rectrack:test:phishing-resistant"),
    )
    start = _start(client)
    assert sso_support.query(start)["acr_values"] == "urn:rectrack:test:phishing-resistant"
    location = sso_support.sign_in_at_provider(
        start, "viewer-sub", acr="urn:rectrack:test:phishing-resistant"
    )
    assert client.get(sso_support.callback_path(location)).status_code == 302
    with client.session_transaction() as sess:
        assert sess["second_factor"] == "sso:test"
    assert _sso_events("success")[-1]["second_factor"] is True


def test_a_lower_acr_than_asked_is_no_second_factor(
    app: Flask, provider: LocalProvider, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(
        app.config,
        "OIDC_PROVIDERS",
        provider.setting(counts_as_mfa=True, acr_values="urn:rectrack:test:phishing-resistant"),
    )
    location = sso_support.sign_in_at_provider(_start(client), "viewer-sub", acr="urn:rectrack:test:password")
    assert client.get(sso_support.callback_path(location)).status_code == 302
    assert _signed_in_user_id(client) == user_by_email("viewer@test.example").get_id()
    with client.session_transaction() as sess:
        assert "second_factor" not in sess
    assert _sso_events("success")[-1]["second_factor"] is False


# --- refusals through the real provider -------------------------------------------------


def _assert_refused(client: FlaskClient, response: Any, message: str, reason: str) -> dict[str, Any]:
    """Refused: back on the sign-in page with the message, not signed in, one audited
    refusal with the reason, no link and no sign-in recorded."""
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert _signed_in_user_id(client) is None
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert message in visible_text(page)
    refusals = _sso_events("denied")
    assert [r["reason"] for r in refusals] == [reason]
    assert _links() == []
    assert _sso_events("success") == []
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.last_login_at.is_not(None)))
        == 0
    )
    return refusals[0]


def test_no_matching_account_is_refused(sso: LocalProvider, client: FlaskClient) -> None:
    refusal = _assert_refused(
        client,
        _full_sign_in(client, "stranger-sub"),
        "There is no RecTrack account for the e-mail address Test IdP gave (nobody@test.example).",
        "no account with this e-mail address",
    )
    assert refusal == {
        "method": "sso",
        "provider": NAME,
        "reason": "no account with this e-mail address",
        "subject": "stranger-sub",
        "email": "nobody@test.example",
    }


def test_an_unverified_e_mail_is_refused(sso: LocalProvider, client: FlaskClient) -> None:
    _assert_refused(
        client,
        _full_sign_in(client, "unverified-sub"),
        "Test IdP has not verified your e-mail address",
        "e-mail address not verified",
    )


def test_a_wrong_state_is_refused(sso: LocalProvider, client: FlaskClient) -> None:
    location = sso_support.sign_in_at_provider(_start(client), "viewer-sub")
    forged = location.replace(f"state={sso_support.query(location)['state']}", "state=someone-elses-state")
    _assert_refused(
        client,
        client.get(sso_support.callback_path(forged)),
        "This sign-in did not start here, or it has already been used or has expired.",
        "wrong state",
    )


def test_an_answer_naming_another_issuer_is_refused(sso: LocalProvider, client: FlaskClient) -> None:
    """RFC 9207: the provider names itself in its answer (oidc-provider does); an answer
    naming another provider is a mix-up, refused before any code is traded."""
    location = sso_support.sign_in_at_provider(_start(client), "viewer-sub")
    assert sso_support.query(location)["iss"] == sso.issuer
    forged = location.replace("iss=http%3A%2F%2F127.0.0.1", "iss=https%3A%2F%2Fevil.example%2Fx")
    assert forged != location
    _assert_refused(
        client,
        client.get(sso_support.callback_path(forged)),
        "This sign-in did not start here",
        "authorization response from another issuer",
    )


def test_a_callback_with_no_sign_in_started_is_refused(
    sso: LocalProvider, app: Flask, client: FlaskClient
) -> None:
    """A code and state made for another browser (a login CSRF) do not sign this one in."""
    location = sso_support.sign_in_at_provider(_start(app.test_client()), "viewer-sub")
    _assert_refused(
        client,
        client.get(sso_support.callback_path(location)),
        "This sign-in did not start here",
        "no sign-in started in this browser",
    )


def test_a_callback_is_used_once(sso: LocalProvider, client: FlaskClient) -> None:
    location = sso_support.sign_in_at_provider(_start(client), "viewer-sub")
    assert client.get(sso_support.callback_path(location)).status_code == 302
    client.post("/logout")
    response = client.get(sso_support.callback_path(location))
    assert response.headers["Location"].startswith("/login")
    assert _signed_in_user_id(client) is None
    assert _sso_events("denied")[-1]["reason"] == "no sign-in started in this browser"


def test_a_sign_in_left_at_the_provider_too_long_is_refused(sso: LocalProvider, client: FlaskClient) -> None:
    start = _start(client)
    with client.session_transaction() as sess:
        pending = dict(sess["sso_pending"])
        started = clock.now() - oidc.FLOW_TIMEOUT - timedelta(seconds=1)
        sess["sso_pending"] = {**pending, "started_at": started.isoformat()}
    location = sso_support.sign_in_at_provider(start, "viewer-sub")
    _assert_refused(
        client, client.get(sso_support.callback_path(location)), "has expired", "sign-in started too long ago"
    )


def test_a_cancelled_sign_in_is_refused(sso: LocalProvider, client: FlaskClient) -> None:
    location = sso_support.sign_in_at_provider(_start(client), "no-such-account")
    assert sso_support.query(location)["error"] == "access_denied"
    _assert_refused(
        client,
        client.get(sso_support.callback_path(location)),
        "Sign-in with Test IdP did not finish (access_denied).",
        "provider answered access_denied",
    )


def test_a_disabled_account_is_refused(sso: LocalProvider, client: FlaskClient) -> None:
    viewer = user_by_email("viewer@test.example")
    viewer.active = False
    db.session.commit()
    _assert_refused(
        client,
        _full_sign_in(client, "viewer-sub"),
        "Your RecTrack account is disabled.",
        "account disabled",
    )


def test_a_subject_linked_to_another_account_is_refused(sso: LocalProvider, client: FlaskClient) -> None:
    """The provider's identity is linked to the FEMA liaison, and now vouches for the
    viewer's address: the two disagree, so neither is signed in."""
    fema = user_by_email("fema@test.example")
    db.session.add(SsoIdentity(user_id=fema.id, issuer=sso.issuer, subject="viewer-sub", provider=NAME))
    db.session.commit()
    response = _full_sign_in(client, "viewer-sub")
    assert response.headers["Location"].startswith("/login")
    assert _signed_in_user_id(client) is None
    page = visible_text(client.get(response.headers["Location"]))
    assert "This Test IdP identity is already linked to another RecTrack account" in page
    assert [r["reason"] for r in _sso_events("denied")] == ["subject linked to another account"]
    assert _links() == [(sso.issuer, "viewer-sub", "fema@test.example")]


def test_an_account_linked_to_another_subject_is_refused(sso: LocalProvider, client: FlaskClient) -> None:
    viewer = user_by_email("viewer@test.example")
    db.session.add(SsoIdentity(user_id=viewer.id, issuer=sso.issuer, subject="an-older-sub", provider=NAME))
    db.session.commit()
    response = _full_sign_in(client, "viewer-sub")
    assert _signed_in_user_id(client) is None
    page = visible_text(client.get(response.headers["Location"]))
    assert "Your RecTrack account is already linked to a different Test IdP identity" in page
    assert [r["reason"] for r in _sso_events("denied")] == [
        "account linked to another subject at this issuer"
    ]


def test_a_code_the_provider_did_not_issue_is_refused(sso: LocalProvider, client: FlaskClient) -> None:
    location = sso_support.sign_in_at_provider(_start(client), "viewer-sub")
    forged = location.replace(f"code={sso_support.query(location)['code']}", "code=made-up")
    _assert_refused(
        client,
        client.get(sso_support.callback_path(forged)),
        "Test IdP could not be reached, or answered in a way RecTrack does not accept.",
        "token endpoint refused the code: invalid_grant",
    )


def test_the_token_endpoint_checks_the_client_key(
    app: Flask, provider: LocalProvider, client: FlaskClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """private_key_jwt is what authenticates RecTrack: a key the provider does not know
    gets no tokens, though the person signed in at the provider."""
    stranger_key = write_pem(new_rsa_key(), tmp_path / "not-registered.pem")
    monkeypatch.setitem(app.config, "OIDC_PROVIDERS", provider.setting(private_key_path=str(stranger_key)))
    location = sso_support.sign_in_at_provider(_start(client), "viewer-sub")
    _assert_refused(
        client,
        client.get(sso_support.callback_path(location)),
        "Test IdP could not be reached",
        "token endpoint refused the code: invalid_client",
    )


# --- forged ID tokens, handed to the callback in place of the token endpoint's answer ---


def _claims(sso: LocalProvider, session_nonce: str, /, **changes: Any) -> dict[str, Any]:
    now = int(clock.now().timestamp())
    claims = {
        "iss": sso.issuer,
        "sub": "viewer-sub",
        "aud": CLIENT_ID,
        "iat": now,
        "exp": now + 600,
        "nonce": session_nonce,
        "email": "viewer@test.example",
        "email_verified": True,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _forged_callback(
    sso: LocalProvider, client: FlaskClient, monkeypatch: pytest.MonkeyPatch, make_token: Any
) -> Any:
    """Start a sign-in, then come back with a code whose token response carries the token
    `make_token(nonce)` returns (the real provider's discovery and keys are used)."""
    start = _start(client)
    params = sso_support.query(start)
    token = make_token(params["nonce"])
    monkeypatch.setattr(oidc, "exchange_code", lambda *a, **k: {"id_token": token})
    return client.get(CALLBACK, query_string={"code": "a-code", "state": params["state"]})


FORGED = {
    "wrong issuer": (
        lambda sso, nonce: sso.forge(_claims(sso, nonce, iss="http://127.0.0.1:1")),
        "ID token: wrong issuer",
        "it was issued by someone else",
    ),
    "wrong audience": (
        lambda sso, nonce: sso.forge(_claims(sso, nonce, aud="another-client")),
        "ID token: wrong audience",
        "it is addressed to another application",
    ),
    "wrong nonce": (
        lambda sso, nonce: sso.forge(_claims(sso, "a-nonce-from-another-sign-in")),
        "ID token: wrong nonce",
        "it does not belong to this sign-in",
    ),
    "no nonce": (
        lambda sso, nonce: sso.forge(_claims(sso, nonce, nonce=None)),
        "ID token: wrong nonce",
        "it does not belong to this sign-in",
    ),
    "bad signature": (
        lambda sso, nonce: sso.forge(_claims(sso, nonce), key=new_rsa_key()),
        "ID token: bad signature",
        "its signature does not match the provider's keys",
    ),
    "expired": (
        lambda sso, nonce: sso.forge(
            _claims(
                sso,
                nonce,
                iat=int(clock.now().timestamp()) - 3600,
                exp=int((clock.now() - oidc.LEEWAY).timestamp()),
            )
        ),
        "ID token: expired",
        "it has expired",
    ),
    "issued in the future": (
        lambda sso, nonce: sso.forge(
            _claims(sso, nonce, iat=int((clock.now() + oidc.LEEWAY).timestamp()) + 1)
        ),
        "ID token: issued in the future",
        "it was issued in the future",
    ),
    "another audience besides": (
        lambda sso, nonce: sso.forge(_claims(sso, nonce, aud=[CLIENT_ID, "another-client"])),
        "ID token: wrong authorized party",
        "it was issued to another application",
    ),
}


@pytest.mark.parametrize("case", list(FORGED))
def test_forged_id_tokens_are_refused(
    case: str, sso: LocalProvider, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    make, reason, what = FORGED[case]
    with time_machine.travel(clock.now(), tick=False):
        response = _forged_callback(sso, client, monkeypatch, lambda nonce: make(sso, nonce))
        refusal = _assert_refused(
            client, response, f"Test IdP sent a sign-in RecTrack cannot trust ({what})", reason
        )
    assert refusal == {"method": "sso", "provider": NAME, "reason": reason}


def test_a_valid_token_in_the_same_path_signs_in(
    sso: LocalProvider, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The forged-token path is able to succeed: the refusals above are the claims'."""
    response = _forged_callback(sso, client, monkeypatch, lambda nonce: sso.forge(_claims(sso, nonce)))
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert _signed_in_user_id(client) == user_by_email("viewer@test.example").get_id()


# --- expiry on the app's clock, at the boundary -----------------------------------------


def _validate(sso: LocalProvider, token: str) -> dict[str, Any]:
    provider = oidc.load_providers(sso.setting())[NAME]
    metadata = oidc.discover(provider, 5)
    return oidc.validate_id_token(
        provider, token, jwks=oidc.fetch_jwks(provider, metadata, 5), nonce="n", now=clock.now()
    )


@pytest.mark.parametrize(
    ("seconds_past_expiry", "accepted"),
    [(59, True), (60, False), (61, False)],  # LEEWAY is 60 seconds: exp <= now - 60 is refused
)
def test_expiry_uses_the_app_clock_with_a_minute_of_leeway(
    sso: LocalProvider, seconds_past_expiry: int, accepted: bool
) -> None:
    expires = clock.now().replace(microsecond=0)
    token = sso.forge(_claims(sso, "n", iat=int(expires.timestamp()) - 600, exp=int(expires.timestamp())))
    with time_machine.travel(expires + timedelta(seconds=seconds_past_expiry), tick=False):
        if accepted:
            assert _validate(sso, token)["sub"] == "viewer-sub"
        else:
            with pytest.raises(oidc.SsoRefused) as refused:
                _validate(sso, token)
            assert refused.value.reason == "ID token: expired"


@pytest.mark.parametrize(("seconds_ahead", "accepted"), [(59, True), (60, True), (61, False)])
def test_issue_time_in_the_future_has_the_same_leeway(
    sso: LocalProvider, seconds_ahead: int, accepted: bool
) -> None:
    now = clock.now().replace(microsecond=0)
    token = sso.forge(
        _claims(sso, "n", iat=int(now.timestamp()) + seconds_ahead, exp=int(now.timestamp()) + 3600)
    )
    with time_machine.travel(now, tick=False):
        if accepted:
            assert _validate(sso, token)["sub"] == "viewer-sub"
        else:
            with pytest.raises(oidc.SsoRefused, match="issued in the future"):
                _validate(sso, token)


# --- configuration ----------------------------------------------------------------------


def test_no_providers_means_no_buttons_and_404(app: Flask, client: FlaskClient) -> None:
    assert app.config["OIDC_PROVIDERS"] == ""
    assert "Or sign in with" not in visible_text(client.get("/login"))
    assert client.get(START).status_code == 404
    assert client.get(CALLBACK, query_string={"code": "x", "state": "y"}).status_code == 404


def test_the_sign_in_page_links_each_provider_keeping_next(sso: LocalProvider, client: FlaskClient) -> None:
    page = client.get("/login", query_string={"next": "/reports"}).get_data(as_text=True)
    assert "Or sign in with" in page
    assert f'href="/sso/{NAME}/start?next=/reports">{LABEL}</a>' in page
    assert client.get("/sso/another/start").status_code == 404


def test_an_unreachable_provider_is_refused_with_a_message(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key = write_pem(new_rsa_key(), tmp_path / "k.pem")
    closed = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setitem(
        app.config,
        "OIDC_PROVIDERS",
        json.dumps(
            [{"name": NAME, "label": LABEL, "issuer": closed, "client_id": "c", "private_key_path": str(key)}]
        ),
    )
    monkeypatch.setitem(app.config, "OIDC_HTTP_TIMEOUT_SECONDS", 2)
    response = client.get(START, query_string={"next": "/reports"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/reports"
    assert "Test IdP could not be reached" in visible_text(client.get(response.headers["Location"]))
    assert [r["reason"] for r in _sso_events("denied")] == ["provider unreachable: discovery"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"name": "Login Gov"}, "name must be 1-40 lower-case letters"),
        ({"label": ""}, "label (the button's text) is missing"),
        ({"issuer": "http://idp.example.gov"}, "issuer must be an https:// URL"),
        ({"scopes": ["email"]}, "scopes must be a list including openid"),
        ({"counts_as_mfa": "yes"}, "counts_as_mfa must be true or false"),
        ({"private_key_path": "/nonexistent/key.pem"}, "cannot read private_key_path"),
        ({"client_secret": "x"}, "unknown keys client_secret"),
    ],
)
def test_a_provider_setting_that_cannot_work_stops_the_start(
    entry: dict[str, Any], message: str, tmp_path: Path
) -> None:
    key = write_pem(new_rsa_key(), tmp_path / "k.pem")
    good = {
        "name": "logingov",
        "label": "Login.gov",
        "issuer": "https://idp.example.gov/",
        "client_id": "c",
        "private_key_path": str(key),
    }
    assert oidc.load_providers(json.dumps([good]))["logingov"].discovery_url == (
        "https://idp.example.gov/.well-known/openid-configuration"
    )
    with pytest.raises(oidc.ProviderConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        oidc.load_providers(json.dumps([{**good, **entry}]))


def test_the_setting_may_name_a_file(tmp_path: Path) -> None:
    key = write_pem(new_rsa_key(), tmp_path / "k.pem")
    path = tmp_path / "providers.json"
    path.write_text(
        json.dumps(
            [
                {
                    "name": "agency",
                    "label": "DHS PIV",
                    "issuer": "https://sso.dhs.example/",
                    "client_id": "c",
                    "private_key_path": str(key),
                    "counts_as_mfa": True,
                }
            ]
        )
    )
    (agency,) = oidc.load_providers(str(path)).values()
    assert (agency.label, agency.counts_as_mfa, agency.scopes) == ("DHS PIV", True, ("openid", "email"))
    with pytest.raises(oidc.ProviderConfigError, match="neither a JSON list nor a readable file"):
        oidc.load_providers(str(tmp_path / "missing.json"))


HOSTILE = ["", "x" * 5000, "ünïcødé", "' OR 1=1 --", "%00", "<script>", "[]", "{}", "../../etc/passwd"]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_callback_arguments_are_refused_never_an_error(
    value: str, sso: LocalProvider, client: FlaskClient
) -> None:
    """Whatever comes back to the callback (with the right state or not, as each argument
    or all at once, repeated), the answer is the sign-in page, never a 500 or a session."""
    for arguments in (
        {"code": value, "state": value},
        {"error": value, "state": value},
        {"code": value, "state": "right"},
        {"code": [value, value], "state": ["right", value], "iss": value, "error_description": value},
    ):
        start = _start(client, "/reports")
        state = sso_support.query(start)["state"]
        query = {
            k: (
                [state if x == "right" else x for x in v]
                if isinstance(v, list)
                else (state if v == "right" else v)
            )
            for k, v in arguments.items()
        }
        response = client.get(CALLBACK, query_string=query)
        assert response.status_code == 302, arguments
        assert response.headers["Location"] == "/login?next=/reports"
        assert _signed_in_user_id(client) is None
    assert _links() == []
    assert _sso_events("success") == []


def test_an_administrator_unlinks_an_identity_from_the_command_line(sso: LocalProvider, app: Flask) -> None:
    """After `users sso-unlink`, the next sign-in matches by verified e-mail again."""
    _full_sign_in(app.test_client(), "viewer-sub")
    assert _links() == [(sso.issuer, "viewer-sub", "viewer@test.example")]
    runner = app.test_cli_runner()
    other_issuer = runner.invoke(
        args=["users", "sso-unlink", "Viewer@test.example", "--issuer", "https://elsewhere.example/"]
    )
    assert other_issuer.exit_code == 0, other_issuer.output
    assert "Removed 0 single sign-on identities of viewer@test.example." in other_issuer.output
    assert len(_links()) == 1
    done = runner.invoke(args=["users", "sso-unlink", "viewer@test.example"])
    assert done.exit_code == 0, done.output
    assert "Removed 1 single sign-on identity of viewer@test.example." in done.output
    assert _links() == []
    (event,) = _events("sso_unlink")
    assert event.actor_label == "cli: users sso-unlink"
    assert event.object_label == "viewer@test.example"
    unknown = runner.invoke(args=["users", "sso-unlink", "nobody@test.example"])
    assert unknown.exit_code != 0
    assert "No account has the e-mail address nobody@test.example." in unknown.output
    client = app.test_client()
    assert _full_sign_in(client, "viewer-sub").status_code == 302
    assert _signed_in_user_id(client) == user_by_email("viewer@test.example").get_id()
    assert len(_events("sso_link")) == 2


def test_a_provider_setting_that_cannot_work_stops_create_app() -> None:
    from app import create_app
    from config import TestingConfig

    config = TestingConfig("sqlite://")
    config.OIDC_PROVIDERS = '[{"name": "logingov"}]'
    with pytest.raises(oidc.ProviderConfigError, match="label \\(the button's text\\) is missing"):
        create_app(config)


def test_after_single_sign_on_the_user_sees_the_previous_sign_in(
    sso: LocalProvider, client: FlaskClient
) -> None:
    viewer = user_by_email("viewer@test.example")
    viewer.last_login_at = datetime.fromisoformat("2026-11-10T14:00:00+00:00")  # 09:00 in Washington
    viewer.last_login_ip = "198.51.100.23"
    db.session.commit()
    response = _full_sign_in(client, "viewer-sub")
    assert response.status_code == 302
    text = visible_text(client.get("/"))
    assert "Your previous sign-in: November 10, 2026, 09:00 EST from 198.51.100.23." in text
    db.session.expire_all()
    assert user_by_email("viewer@test.example").last_login_ip == "127.0.0.1"


def test_starting_single_sign_on_is_rate_limited_per_address(
    sso: LocalProvider, app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each start reads the provider's discovery document, so an address's starts count
    against the portal's limit (PORTAL_RATE_LIMIT; 3 per minute here): the fourth is a 429."""
    limit = app.extensions[portal.EXTENSION_KEY]
    monkeypatch.setitem(
        app.extensions, portal.EXTENSION_KEY, portal.PortalLimit(limit.store, parse("3 per minute"))
    )
    for _ in range(3):
        assert _start(client).startswith(f"{sso.issuer}/auth?")
    refused = client.get(START)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
