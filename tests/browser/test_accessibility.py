"""axe-core on every page template: zero WCAG 2.1 A and AA violations.

Ids come from the seed loaded into the live server's fresh database: OIG-12-15 is report
2, its recommendation 1 (id 1, addressed to I&A only, row id 1) stays open and
unanswered unless a test here changes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from app import audit, clock, storage
from app.extensions import db
from app.opendata import services
from tests.browser.conftest import LIVE, axe_violations, describe

PAGES = {
    "oig": [
        "/",
        "/work",
        "/reports",
        "/reports/2",
        "/reports/new",
        "/reports/2/edit",
        "/reports/2/delete",
        "/recommendations",
        "/recommendations?status=open&sort=status",
        "/recommendations/1",
        "/recommendations/1/edit",
        "/reports/2/recommendations/new",
        "/recommendations/1/delete",
        "/recommendations/1/resolve",
        "/recommendations/1/close",
        "/components",
        "/components/3",
        "/search?q=fusion+centers",
        "/import",
        "/account/password",
        "/account/security",
        "/account/security/key",
        "/account/security/totp",
        "/account/security/recovery-codes",
        "/account/reauth",
        "/downloads",
        "/no/such/page",
    ],
    "ia": ["/", "/work", "/recommendations/1/components/1/respond", "/components/2"],
    "admin": [
        "/admin/users",
        "/admin/users/new",
        "/admin/users/1/edit",
        "/admin/users/1/password",
        "/admin/users/1/factors",
        "/admin/audit",
        "/admin/background",
        "/components/new",
        "/components/2/edit",
    ],
    "viewer": ["/", "/reports/4", "/recommendations/5", "/admin/users"],  # the last one: the 403 page
}


def _check(page: Any, url: str) -> None:
    page.wait_for_load_state()  # after a click, the new page may still be parsing
    violations = axe_violations(page)
    assert not violations, f"{url}:\n{describe(violations)}"


@pytest.mark.parametrize("who", list(PAGES))
def test_pages_have_no_wcag_violations(sign_in: Any, live_server: str, who: str) -> None:
    page = sign_in(who, bypass_csp=True)
    for url in PAGES[who]:
        page.goto(f"{live_server}{url}")
        _check(page, url)


def test_login_page_and_its_error_state(browser: Any, live_server: str) -> None:
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(f"{live_server}/login")
    _check(page, "/login")
    page.fill("#email", "someone@browser.example")
    page.fill("#password", "not the password at all")
    page.click("main button[type=submit]")
    page.wait_for_selector(".usa-alert--error")
    _check(page, "/login (failed)")
    context.close()


def test_password_reset_pages(browser: Any, live_server: str) -> None:
    """The reset request page, its answer, and a link that cannot be used."""
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.click("text=Forgot your password?")
    page.wait_for_url(f"{live_server}/password/forgot")
    _check(page, "/password/forgot")
    page.click("main button[type=submit]")  # no address: the message at the field
    page.wait_for_selector(".usa-error-message")
    _check(page, "/password/forgot (errors)")
    page.fill("#email", "nobody@browser.example")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=If an active RecTrack account uses that address")
    _check(page, "/password/forgot (sent)")
    page.goto(f"{live_server}/password/reset/not-a-link")
    _check(page, "/password/reset/<token> (refused)")
    context.close()


def test_forms_with_errors(sign_in: Any, live_server: str) -> None:
    page = sign_in("oig", bypass_csp=True)
    page.goto(f"{live_server}/reports/new")
    page.click("button:has-text('Log report')")
    page.wait_for_selector(".usa-error-message")
    _check(page, "/reports/new (errors)")
    page.goto(f"{live_server}/reports/2/recommendations/new")
    page.fill("#number", "3")
    page.click("button:has-text('Save recommendation')")
    page.wait_for_selector(".usa-error-message")
    _check(page, "/reports/2/recommendations/new (errors)")


def test_import_results_page(sign_in: Any, live_server: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "report_title,report_issued_on,rec_number,rec_text,component\nA title,2020-02-30,1,Text,NOPE\n"
    )
    page = sign_in("oig", bypass_csp=True)
    page.goto(f"{live_server}/import")
    page.set_input_files("#file", str(bad))
    page.click("button:has-text('Check the file')")
    page.wait_for_selector("text=Problems by row")
    _check(page, "/import (problems)")


def test_conflict_page(sign_in: Any, live_server: str) -> None:
    """The 409 page: a form loaded before someone else saved."""
    first = sign_in("ia", bypass_csp=True)
    second = sign_in("ia", bypass_csp=True)
    url = f"{live_server}/recommendations/2/components/2/respond"
    for page in (first, second):
        page.goto(url)
        page.select_option("#concurrence", "concur")
        page.fill("#response", "I&A concurs.")
        page.fill("#corrective_action_plan", "Publish the procedures.")
        page.fill("#target_date", "2027-12-31")
        page.fill("#responsible_official", "Deputy Under Secretary")
    first.click("button:has-text('Submit the response')")
    first.wait_for_selector(".usa-alert--success")
    second.click("button:has-text('Submit the response')")
    second.wait_for_selector("text=What the record holds now")
    _check(second, "conflict page")


def test_a_jobs_page_while_it_works_and_once_done(sign_in: Any, live_server: str) -> None:
    page = sign_in("oig", bypass_csp=True)
    page.goto(f"{live_server}/reports/2/status.pdf?as_of=2025-06-30")  # not made yet: a job
    assert "/jobs/" in page.url
    _check(page, page.url)
    expect(page.locator("[data-job-download]")).to_be_visible(timeout=60000)
    _check(page, page.url)


def test_open_data_pages_signed_out(browser: Any, live_server: str) -> None:
    """The open-data pages need no sign-in: reached from the login page's footer, before
    the first build (the note) and after it (the files), with no violation."""
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.click("footer a[href='/open-data']")
    expect(page.locator("h1")).to_have_text("Open data")
    _check(page, "/open-data (no file yet)")
    page.goto(f"{live_server}/open-data/dictionary")
    _check(page, "/open-data/dictionary")
    application = LIVE["app"]
    with application.app_context():
        audit.set_actor(db.session, audit.AuditActor.system("browser tests"))
        services.build(
            db.session, storage.blob_store(application.config), now=clock.now(), today=clock.today()
        )
        db.session.commit()
        db.session.remove()
    page.goto(f"{live_server}/open-data")
    expect(page.locator("table caption")).to_contain_text("7 public recommendations")
    _check(page, "/open-data")
    with page.expect_download() as download:
        page.click("a[href='/open-data/recommendations.csv']")
    assert download.value.suggested_filename.startswith("rectrack-recommendations-")
    context.close()
