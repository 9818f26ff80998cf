"""API tokens in Chromium: a liaison makes a token, sees its secret once (not after a
reload), revokes it after the confirmation page; the administrators' list. axe-core finds
no WCAG 2.1 A or AA violation on the pages, the form with its messages included."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import axe_violations, describe


def _check(page: Any, what: str) -> None:
    page.wait_for_load_state()
    violations = axe_violations(page)
    assert not violations, f"{what}:\n{describe(violations)}"


def test_make_see_once_and_revoke_a_token(sign_in: Any, live_server: str) -> None:
    page = sign_in("ia", bypass_csp=True)
    page.click("text=API tokens")
    page.wait_for_url(f"{live_server}/account/tokens")
    _check(page, "/account/tokens")

    page.fill("#name", "")
    page.fill("#expires_on", "2001-01-01")
    page.click("button:has-text('Make the token')")
    page.wait_for_selector("#name-error")
    assert "in the past" in page.inner_text("#expires_on-error")
    _check(page, "/account/tokens (errors)")

    page.fill("#name", "Browser sync")
    page.fill("#expires_on", "")
    page.click("button:has-text('Make the token')")  # the proposed date was cleared
    page.wait_for_selector("#expires_on-error")
    page.goto(f"{live_server}/account/tokens")  # the form again, as proposed
    page.fill("#name", "Browser sync")
    page.click("label[for=scope-1]")  # read and write (USWDS styles the label, the input is hidden)
    page.click("button:has-text('Make the token')")
    page.wait_for_selector("#new-token-secret")
    secret = page.input_value("#new-token-secret")
    assert secret.startswith("rt_")
    assert len(secret) == 46
    _check(page, "/account/tokens (the new secret)")

    page.goto(f"{live_server}/account/tokens")
    assert secret not in page.content()
    assert secret[:10] in page.content()

    page.click("text=Revoke")
    page.wait_for_selector("h1:has-text('Revoke the token')")
    _check(page, "revoke confirmation")
    page.click("button:has-text('Revoke the token')")
    page.wait_for_url(f"{live_server}/account/tokens")
    assert "was revoked" in page.inner_text("main")

    admin = sign_in("admin", bypass_csp=True)
    admin.goto(f"{live_server}/admin/users")
    admin.click("nav[aria-label=Administration] >> text=API tokens")
    admin.wait_for_url(f"{live_server}/admin/tokens")
    assert "ia@browser.example" in admin.inner_text("main")
    _check(admin, "/admin/tokens")
