"""What a person meets in Chromium: no page wider than a 375 px phone, a 500-character
unbroken title that wraps instead of widening the page, the focus on the error summary
after a failed submit, and a file input named by its visible label."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

PHONE = {"width": 375, "height": 800}
WIDE = "Q" * 500


def _sideways(page: Any) -> int:
    """How far the page scrolls sideways, in CSS pixels (0 when it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def test_dashboard_and_lists_fit_a_375px_screen(sign_in: Any, live_server: str) -> None:
    for who in ("oig", "fema", "viewer"):
        page = sign_in(who)
        page.set_viewport_size(PHONE)
        for url in ("/", "/recommendations", "/reports", "/components", "/search?q=fusion+centers"):
            page.goto(f"{live_server}{url}")
            assert _sideways(page) == 0, f"{who} {url}"


def test_a_500_character_unbroken_title_wraps(sign_in: Any, live_server: str) -> None:
    page = sign_in("oig")
    page.goto(f"{live_server}/reports/new")
    page.fill("#number", "OIG-26-WRAP")
    page.fill("#title", WIDE)
    page.fill("#issued_on", "2026-03-02")
    page.fill("#url", "https://www.oig.dhs.gov/" + "x" * 300)
    page.click("button:has-text('Log report')")
    expect(page.locator(".usa-alert--success").first).to_contain_text("was logged")
    report = page.url
    for size in ({"width": 1280, "height": 900}, PHONE):
        page.set_viewport_size(size)
        for url in (f"{live_server}/reports", report, f"{live_server}/search?q={WIDE}"):
            page.goto(url)
            expect(page.locator("main")).to_contain_text(WIDE[:40])
            assert _sideways(page) == 0, f"{size['width']} px: {url[:60]}"


def test_focus_moves_to_the_error_summary_after_a_failed_submit(sign_in: Any, live_server: str) -> None:
    page = sign_in("oig")
    page.goto(f"{live_server}/reports/new")
    page.click("button:has-text('Log report')")
    summary = page.locator("[data-error-summary]")
    expect(summary).to_contain_text("Nothing was saved")
    expect(summary).to_be_focused()
    page.keyboard.press("Tab")  # and on from there into the form
    expect(page.locator("#number")).to_be_focused()

    liaison = sign_in("ia")
    liaison.goto(f"{live_server}/recommendations/1/components/1/respond")
    liaison.click("main button[type=submit]")
    expect(liaison.locator("[data-error-summary]")).to_be_focused()


def test_a_page_without_errors_keeps_the_focus_at_the_top(sign_in: Any, live_server: str) -> None:
    page = sign_in("oig")
    page.goto(f"{live_server}/reports/new")
    assert page.evaluate("document.activeElement === document.body")


def test_file_inputs_are_named_by_their_visible_label(sign_in: Any, live_server: str) -> None:
    """WCAG 2.5.3: USWDS names a file input by its instructions ("Drag files here or
    choose from folder"); its accessible name must contain the visible label."""
    page = sign_in("ia")
    page.goto(f"{live_server}/recommendations/1/components/1/respond")
    expect(page.locator("label[for=documents]")).to_have_text("Supporting documents")
    expect(page.locator("#documents")).to_have_accessible_name(re.compile(r"^Supporting documents\b"))
    oig = sign_in("oig")
    oig.goto(f"{live_server}/import")
    label = oig.locator("label[for=file]").inner_text().strip()
    expect(oig.locator("#file")).to_have_accessible_name(re.compile(rf"^{re.escape(label)}\b"))
