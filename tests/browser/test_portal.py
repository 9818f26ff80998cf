"""The public portal in Chromium, signed out: a new visitor finds OIG-12-15, filters,
searches "CPG-502", downloads the report's PDF, the list's CSV and the open-data CSV; a restricted
recommendation shows as a placeholder; axe finds nothing on the public pages.

Ids come from the seed loaded into the live server's fresh database: OIG-12-15 is report
2; its recommendation 4 (I&A) is made restricted for this module and public again after."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from pypdf import PdfReader

from app import audit, clock, storage
from app.extensions import db
from app.models import Recommendation, Report, Sensitivity
from app.opendata import services as opendata
from tests.browser.conftest import LIVE, axe_violations, describe

REC_4 = "Provide training for Fusion Center staff"  # OIG-12-15 recommendation 4's text
PUBLIC_PAGES = [
    "/reports",
    "/reports?q=OIG-12-15",
    "/reports/2",
    "/recommendations",
    "/recommendations?report=2&status=open",
    "/recommendations/3",
    "/components",
    "/components/3",
    "/search?q=CPG-502",
    "/no/such/page",
]


def _set_rec_4(sensitivity: Sensitivity) -> None:
    with LIVE["app"].app_context():
        audit.set_actor(db.session, audit.AuditActor.system("browser tests"))
        recommendation = db.session.scalar(
            sa.select(Recommendation)
            .join(Recommendation.report)
            .where(Report.number == "OIG-12-15", Recommendation.number == 4)
        )
        recommendation.sensitivity = sensitivity
        db.session.commit()
        db.session.remove()


@pytest.fixture
def visitor(browser: Any, live_server: str) -> Iterator[Any]:
    """A signed-out browser (axe injected: bypass_csp), with rec 4 restricted meanwhile."""
    _set_rec_4(Sensitivity.RESTRICTED)
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, accept_downloads=True, bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    try:
        yield page
    finally:
        context.close()
        _set_rec_4(Sensitivity.PUBLIC)
    assert not problems, "\n".join(problems)


def _axe(page: Any) -> None:
    page.wait_for_load_state()
    violations = axe_violations(page)
    assert not violations, f"{page.url}:\n{describe(violations)}"


def test_a_signed_out_visitor_finds_filters_searches_and_downloads(visitor: Any, live_server: str) -> None:
    page = visitor
    page.goto(f"{live_server}/")  # the site's address: the portal, not the sign-in form
    assert page.url == f"{live_server}/reports"
    expect(page.locator("header.usa-header")).to_contain_text("Sign in")
    expect(page.locator("header.usa-header")).not_to_contain_text("Sign out")
    _axe(page)

    page.fill("#q", "OIG-12-15")
    page.click("button:has-text('Apply filters')")
    page.click("main table >> text=OIG-12-15")
    expect(page.locator("h1")).to_contain_text("Relationships Between Fusion Centers")
    restricted = page.locator("#main-content section.rt-rec").nth(3)
    expect(restricted).to_contain_text("Recommendation 4")
    expect(restricted).to_contain_text("Restricted: not available in this view.")
    expect(page.locator("main")).not_to_contain_text(REC_4)
    _axe(page)

    with page.expect_download() as download:
        page.click("button:has-text('Download status report (PDF)')")
    assert download.value.suggested_filename.startswith("rectrack-OIG-12-15-status-")
    pdf = Path(download.value.path()).read_bytes()
    text = " ".join(" ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "OIG-12-15" in text
    assert "Ensure that CPG-502" in text
    assert REC_4 not in text

    page.click("nav >> text=Recommendations")
    page.select_option("#component", label="FEMA")
    page.click("button:has-text('Apply filters')")
    assert "component=" in page.url
    expect(page.locator("main table")).to_contain_text("Ensure that CPG-502")
    _axe(page)

    page.click("nav >> text=Search")
    page.fill("#search-q", "CPG-502")
    page.click("main form[role=search] button")
    expect(page.locator("main")).to_contain_text("OIG-12-15 recommendation 3")
    _axe(page)
    page.click("main .rt-results a:has-text('OIG-12-15 recommendation 3')")
    expect(page.locator("#history-heading")).to_be_visible()  # the status history
    _axe(page)

    page.goto(f"{live_server}/recommendations?report=2")
    expect(page.locator("main table")).to_contain_text("Restricted: not available in this view.")
    with page.expect_download() as download:
        page.click("main a:has-text('Download CSV')")
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
    assert {r["report_number"] for r in rows} == {"OIG-12-15"}
    assert any("CPG-502" in r["rec_text"] for r in rows)
    assert not any(REC_4 in "".join(r.values()) for r in rows)

    # the open-data file, from the footer (built now: the live server's first build)
    _build_open_data()
    page.click("footer a[href='/open-data']")
    _axe(page)
    with page.expect_download() as download:
        page.click("a[href='/open-data/recommendations.csv']")
    open_data = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert "CPG-502" in open_data
    assert REC_4 not in open_data  # withheld while restricted


def _build_open_data() -> None:
    application = LIVE["app"]
    with application.app_context():
        audit.set_actor(db.session, audit.AuditActor.system("browser tests"))
        opendata.build(
            db.session, storage.blob_store(application.config), now=clock.now(), today=clock.today()
        )
        db.session.commit()
        db.session.remove()


def test_public_pages_have_no_axe_violations(visitor: Any, live_server: str) -> None:
    for url in PUBLIC_PAGES:
        visitor.goto(f"{live_server}{url}")
        _axe(visitor)


def test_private_pages_ask_the_visitor_to_sign_in(visitor: Any, live_server: str) -> None:
    visitor.goto(f"{live_server}/work")
    assert visitor.url.startswith(f"{live_server}/login?next=")
    visitor.goto(f"{live_server}/reports/2")
    visitor.click("header.usa-header >> text=Sign in")
    assert visitor.url == f"{live_server}/login?next=/reports/2"


PA11Y = Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "pa11y"


def test_public_pages_have_no_pa11y_errors(live_server: str, tmp_path: Path) -> None:
    """pa11y (HTML_CodeSniffer, WCAG 2 AA) in Debian's Chromium finds no error on the
    pages a signed-out visitor reads. Installed by `make assets` from package.json."""
    import json
    import subprocess

    from tests.browser.conftest import chromium

    assert PA11Y.exists(), "pa11y is missing: run `make assets`"
    config = tmp_path / "pa11y.json"
    config.write_text(
        json.dumps(
            {
                "chromeLaunchConfig": {
                    "executablePath": chromium(),
                    "args": ["--no-sandbox", "--headless", "--disable-gpu"],
                },
                "standard": "WCAG2AA",
                "timeout": 60000,
            }
        )
    )
    found = {}
    for url in [*PUBLIC_PAGES, "/open-data", "/open-data/dictionary"]:
        run = subprocess.run(
            [str(PA11Y), "--config", str(config), "--reporter", "json", f"{live_server}{url}"],
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert run.returncode in (0, 2), f"pa11y could not check {url}: {run.stderr[-2000:]}"
        issues = json.loads(run.stdout or "[]")
        errors = [f"{i['code']}: {i['message']} ({i['selector']})" for i in issues if i["type"] == "error"]
        if errors:
            found[url] = errors
    assert found == {}
