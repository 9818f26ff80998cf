"""Three journeys, end to end in Chromium, as the people RecTrack serves take them."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser.conftest import ACCOUNTS, PASSWORD

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _expect_flash(page: Any, text: str) -> None:
    """The success message holds `text`. expect() retries: right after a click the new
    page may still be parsing, and reading it once can see the alert before its text."""
    expect(page.locator(".usa-alert--success").first).to_contain_text(text)


def test_oig_logs_a_report_with_two_recommendations(sign_in: Any) -> None:
    """OIG staff log a new report with two recommendations, one addressed to two components."""
    page = sign_in("oig")
    page.click("nav >> text=Reports")
    page.click("text=Log a new report")
    page.fill("#number", "OIG-26-07")
    page.fill("#title", "Sharing threat information with state and local partners (browser test)")
    page.fill("#issued_on", "2026-03-02")
    page.select_option("#report_type", "inspection")
    page.fill("#recommendations_published", "2")
    # USWDS hides the box itself; people click the label
    page.click("label:has-text('FEMA: Federal Emergency Management Agency')")
    page.click("label:has-text('I&A: Office of Intelligence and Analysis')")
    page.click("button:has-text('Log report')")
    _expect_flash(page, "was logged")
    expect(page.locator("main")).to_contain_text("0 of 2 recommendations entered")

    page.click("text=Add a recommendation")
    page.fill("#text", "Publish threat bulletins to fusion centers within 24 hours of identification.")
    page.select_option("#addressees-0-component_id", label="I&A: Office of Intelligence and Analysis")
    page.select_option("#addressees-0-concurrence", "concur")
    page.click("button:has-text('Save recommendation')")
    _expect_flash(page, "Recommendation 1")

    page.click("text=Add a recommendation")
    expect(page.locator("#number")).to_have_value("2")
    page.fill("#text", "Jointly train fusion center and EOC staff on handling portion-marked products.")
    page.select_option("#addressees-0-component_id", label="FEMA: Federal Emergency Management Agency")
    page.click("label[for='addressees-0-is_lead']")
    page.click("button:has-text('Add another component')")
    page.select_option("#addressees-1-component_id", label="I&A: Office of Intelligence and Analysis")
    page.click("button:has-text('Save recommendation')")
    _expect_flash(page, "Recommendation 2")

    expect(page.locator("main")).to_contain_text("2 of 2 recommendations entered")
    expect(page.locator("#rec-2")).to_contain_text("FEMA (lead)")
    expect(page.locator("#rec-2")).to_contain_text("I&A")


def test_liaison_responds_updates_requests_closure_and_oig_closes(sign_in: Any, tmp_path: Path) -> None:
    """A liaison responds, posts an update and requests closure with an attachment; OIG
    staff resolve and then close it."""
    evidence = tmp_path / "eoc-survey.pdf"
    evidence.write_bytes(PDF)
    fema = sign_in("fema")
    fema.click("nav >> text=My work")
    fema.click("a:has-text('OIG-12-15 #3')")
    rec_url = fema.url.split("#")[0]
    fema.click("a:has-text('Respond')")
    fema.select_option("#concurrence", "concur")
    fema.fill("#response", "FEMA concurs and will send CPG-502 to every state, local and tribal EOC.")
    fema.fill("#corrective_action_plan", "Update the distribution list; send the guidance; survey EOCs.")
    fema.fill("#target_date", "2027-09-30")
    fema.fill("#responsible_official", "Director, National Preparedness Directorate")
    fema.click("button:has-text('Submit the response')")
    _expect_flash(fema, "response was submitted")

    oig = sign_in("oig")
    oig.goto(rec_url)
    oig.locator("#decision").get_by_role("link", name="Resolve", exact=True).click()
    oig.fill("#note", "FEMA's plan is responsive.")
    oig.get_by_role("button", name="Resolve", exact=True).click()
    _expect_flash(oig, "Open–Resolved")

    fema.goto(rec_url)
    fema.click("a:has-text('Post a progress update')")
    fema.fill("#text", "Guidance sent to 54 state EOCs.")
    fema.click("button:has-text('Post a progress update')")
    _expect_flash(fema, "update was posted")
    fema.click("a:has-text('Request closure')")
    fema.fill("#justification", "Guidance sent to every EOC; the survey shows it applies locally.")
    fema.set_input_files("#documents", str(evidence))
    fema.click("button:has-text('Request closure')")
    _expect_flash(fema, "Closure was requested")
    expect(fema.locator("main")).to_contain_text("eoc-survey.pdf")

    oig.goto(rec_url)
    oig.locator("#decision").get_by_role("link", name="Close", exact=True).click()
    oig.select_option("#outcome", "implemented")
    oig.fill("#note", "The evidence shows the guidance reached local EOCs.")
    # in the page's main part: the header's mobile menu has a "Close" button too
    oig.locator("#main-content").get_by_role("button", name="Close", exact=True).click()
    _expect_flash(oig, "closed")
    history = oig.locator("section[aria-labelledby=history-heading]")
    for step in ("Response submitted", "Resolved", "Progress update", "Closure requested", "Closed"):
        expect(history).to_contain_text(step)
    expect(oig.locator("h1")).to_contain_text(re.compile("closed–implemented", re.IGNORECASE))
    with oig.expect_download() as download:
        oig.click("a:has-text('eoc-survey.pdf')")
    assert Path(download.value.path()).read_bytes() == PDF


def test_viewer_filters_searches_and_downloads_a_portfolio_pdf(sign_in: Any) -> None:
    """A viewer filters the list, searches, and downloads a portfolio PDF."""
    page = sign_in("viewer")
    page.click("nav >> text=Recommendations")
    page.select_option("#component", label="OCIO")
    page.click("button:has-text('Apply filters')")
    assert "component=" in page.url
    expect(page.locator("main table tbody tr")).to_have_count(2)
    expect(page.locator("main table")).to_contain_text("Homeland Security Information Network")

    page.click("nav >> text=Search")
    page.fill("#search-q", "CPG-502")
    page.click("main form[role=search] button")
    expect(page.locator("main")).to_contain_text("OIG-12-15 recommendation 3")
    expect(page.locator("main mark").first).to_be_visible()

    page.click("nav >> text=Recommendations")
    page.select_option("#status", "open")
    page.click("button:has-text('Apply filters')")
    # a worker makes the PDF: the job's page shows its progress, then the download
    page.click("button:has-text('Download portfolio PDF')")
    expect(page.locator("h1")).to_contain_text("Portfolio status PDF")
    expect(page.locator("#job-progress")).to_be_visible()
    button = page.locator("[data-job-download]")
    expect(button).to_be_visible(timeout=60000)  # turned into the download, no reload
    with page.expect_download() as download:
        button.click()
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata.title == "Portfolio status of OIG recommendations"
    text = " ".join((p.extract_text() or "") for p in reader.pages)
    assert "Filters: status Open" in " ".join(text.split())
    assert "Congressional staff" in text.upper().title() or "CONGRESSIONAL STAFF" in text


def test_a_pdf_job_works_with_javascript_off_and_is_listed_on_my_downloads(
    browser: Any, live_server: str, sign_in: Any
) -> None:
    """With scripts off the job's page refreshes itself until the file is ready; My
    downloads lists the file either way."""
    context = browser.new_context(java_script_enabled=False, accept_downloads=True)
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        page.goto(f"{live_server}/login")
        page.fill("#email", ACCOUNTS["oig"][0])
        page.fill("#password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{live_server}/")
        page.goto(f"{live_server}/recommendations?year=2011")
        page.click("button:has-text('Download portfolio PDF')")
        expect(page.locator("h1")).to_contain_text("Portfolio status PDF")
        link = page.get_by_role("link", name=re.compile("^Download rectrack-portfolio-status"))
        expect(link).to_be_visible(timeout=60000)  # the <noscript> refresh brought it
        with page.expect_download() as download:
            link.click()
        assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
        page.click("text=My downloads")
        expect(page.locator("main table")).to_contain_text("Portfolio status PDF")
        expect(page.locator("main table")).to_contain_text("Ready")
    finally:
        context.close()
