"""The session-limit warning in Chromium (README, "Sessions"): two minutes before the idle
limit a USWDS modal offers "Stay signed in"; pressing it keeps the session (a POST with
the CSRF token to the keep-alive endpoint), and the modal closes. No script error or CSP
violation on the way (the sign_in fixture fails the test on either); axe finds no WCAG
2.1 A or AA violation with the modal open.

Both clocks move 28 minutes: the server's (time-machine, in this process, where the live
server's thread runs) and the page's (Playwright's clock), so no test waits for real."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import time_machine

from app import clock
from tests.browser.conftest import axe_violations, describe


def test_the_warning_offers_to_stay_signed_in(sign_in: Any, live_server: str) -> None:
    page = sign_in("viewer", bypass_csp=True)
    page.clock.install()
    page.goto(f"{live_server}/reports")
    # USWDS wraps the modal in a dialog wrapper, which takes over its id
    wrapper = page.locator("#rt-session-modal")
    modal = page.locator("#rt-session-modal .usa-modal")
    assert not modal.is_visible()
    with time_machine.travel(clock.now() + timedelta(minutes=28, seconds=5), tick=True):
        page.clock.fast_forward("28:05")
        modal.wait_for(state="visible")
        text = page.inner_text("#rt-session-modal")
        assert "Your session is about to end" in text
        assert "you will be signed out in" in text
        assert page.locator("#rt-session-modal [data-absolute-text]").is_hidden()
        assert wrapper.get_attribute("role") == "dialog"
        assert wrapper.get_attribute("aria-modal") == "true"
        # the focus is in the dialog, for keyboard and screen-reader users
        assert page.evaluate("document.getElementById('rt-session-modal').contains(document.activeElement)")
        violations = axe_violations(page)
        assert not violations, describe(violations)

        with page.expect_response(lambda r: r.url.endswith("/session/keep-alive")) as kept:
            page.click("#rt-session-modal button:has-text('Stay signed in')")
        assert kept.value.status == 200
        assert 1790 <= kept.value.json()["idle_seconds"] <= 1800  # the idle limit starts again
        modal.wait_for(state="hidden")
    with time_machine.travel(clock.now() + timedelta(minutes=50), tick=True):
        # 50 minutes after signing in, 22 after "Stay signed in": still signed in
        page.goto(f"{live_server}/reports")
        assert page.url == f"{live_server}/reports"


def test_past_the_idle_limit_the_page_goes_to_sign_in_and_back(sign_in: Any, live_server: str) -> None:
    page = sign_in("viewer")
    page.clock.install()
    page.goto(f"{live_server}/reports?page=1")
    with time_machine.travel(clock.now() + timedelta(minutes=31), tick=True):
        page.clock.fast_forward("31:00")  # the warning's countdown runs out: the page reloads
        page.wait_for_url(re.compile(r".*/login\?next=(%2F|/)reports(%3F|\?)page%3D1$"))
        assert "You were signed out after 30 minutes without activity." in page.inner_text("main")
        page.fill("#email", "viewer@browser.example")
        page.fill("#password", "browser tests passphrase")
        page.click("main button[type=submit]")
        page.wait_for_url(f"{live_server}/reports?page=1")
