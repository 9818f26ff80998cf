"""Second factor in Chromium with a virtual authenticator (the DevTools Protocol's
WebAuthn domain through Playwright's CDP session: CTAP2, internal transport, resident
keys, user verification). A new account enrols a security key (a passkey), signs in with
its password and the key, then with the passkey alone; an administrator with no factor,
under MFA_REQUIRED_ROLES naming admins, reaches only the enrolment page.

WebAuthn needs a domain for its RP id (an IP address is refused), so these pages are
opened at http://localhost:<port>, a secure context like 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from app import audit
from app.auth import services as accounts
from app.extensions import db
from app.models import AuditEvent, MfaFactor, Role, User
from tests.browser.conftest import ACCOUNTS, LIVE, PASSWORD, watched_page

NEW_EMAIL = "new.key@browser.example"


@pytest.fixture
def site(live_server: str) -> str:
    return live_server.replace("127.0.0.1", "localhost")


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A page with a virtual authenticator; a CSP violation or a script error fails the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    tab = watched_page(context, problems)
    cdp = context.new_cdp_session(tab)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    tab.authenticator = (cdp, added["authenticatorId"])
    yield tab
    context.close()
    assert not problems, "\n".join(problems)


def _password(page: Any, site: str, email: str) -> None:
    page.goto(f"{site}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")


def _sign_out(page: Any, site: str) -> None:
    page.click("button.rt-signout")
    page.wait_for_url(f"{site}/login")


def _new_account() -> None:
    app = LIVE["app"]
    with app.app_context():
        if db.session.scalar(sa.select(User).where(User.email == NEW_EMAIL)) is None:
            audit.set_actor(db.session, audit.AuditActor.system("browser tests"))
            accounts.create_user(
                db.session, email=NEW_EMAIL, display_name="New Key", role=Role.OIG, password=PASSWORD
            )
            db.session.commit()
        db.session.remove()


def test_enrol_a_key_then_sign_in_with_password_and_key_then_with_the_passkey_alone(
    page: Any, site: str
) -> None:
    _new_account()
    _password(page, site, NEW_EMAIL)
    page.wait_for_url(f"{site}/")

    page.goto(f"{site}/account/security")
    assert "You have no second factor." in page.inner_text("main")
    page.click("text=Add a security key or passkey")
    page.wait_for_url(f"{site}/account/security/key")
    page.fill("#key-name", "Laptop passkey")
    page.click("button:has-text('Add the key')")
    page.wait_for_url(f"{site}/account/security")
    table = page.inner_text("main table")
    assert "Laptop passkey" in table
    assert "(passkey)" in table
    cdp, authenticator = page.authenticator
    stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert len(stored) == 1
    assert stored[0]["isResidentCredential"] is True

    # password, then the key
    _sign_out(page, site)
    _password(page, site, NEW_EMAIL)
    page.wait_for_url(f"{site}/login/second-factor")
    assert "Second step" in page.inner_text("h1")
    page.click("button:has-text('Use my security key')")
    page.wait_for_url(f"{site}/")
    assert "New Key" in page.inner_text(".rt-account")

    # the passkey alone, from the sign-in page
    _sign_out(page, site)
    page.click("button:has-text('Sign in with a passkey')")
    page.wait_for_url(f"{site}/")
    assert "New Key" in page.inner_text(".rt-account")
    count = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"][0][
        "signCount"
    ]
    assert count == 3  # registration, the second step, the passkey: the server keeps the same figure

    app = LIVE["app"]
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == NEW_EMAIL))
        factor = db.session.scalar(sa.select(MfaFactor).where(MfaFactor.user_id == user.id))
        assert (factor.name, factor.sign_count, factor.discoverable) == ("Laptop passkey", 3, True)
        events = db.session.execute(
            sa.select(AuditEvent.action, AuditEvent.changes)
            .where(
                AuditEvent.actor_id == user.id,
                AuditEvent.action.in_(["mfa_enrol", "login_second_factor", "login"]),
            )
            .where(AuditEvent.outcome == "success")
            .order_by(AuditEvent.id)
        ).all()
        db.session.remove()
    assert [(a, (c or {}).get("method")) for a, c in events] == [
        ("login", None),
        ("mfa_enrol", "webauthn"),
        ("login", None),
        ("login_second_factor", "webauthn"),
        ("login", "passkey"),
    ]


def test_an_admin_without_a_factor_reaches_only_enrolment(page: Any, site: str) -> None:
    app = LIVE["app"]
    before = app.config["MFA_REQUIRED_ROLES"]
    app.config["MFA_REQUIRED_ROLES"] = "admin,oig,liaison"
    try:
        _password(page, site, ACCOUNTS["admin"][0])
        page.wait_for_url(f"{site}/account/security")
        assert "Your role requires a second factor" in page.inner_text("main")
        for path in ("/", "/reports", "/admin/users", "/account/tokens", "/admin/audit"):
            page.goto(f"{site}{path}")
            assert page.url == f"{site}/account/security", path
        page.click("text=Add an authenticator app")
        page.wait_for_url(f"{site}/account/security/totp")
        assert page.locator("img[alt^='QR code']").count() == 1, page.inner_text("main")
    finally:
        app.config["MFA_REQUIRED_ROLES"] = before
