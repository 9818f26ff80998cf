"""PDF status reports: content, visibility, as-of dates, metadata, safety, caching."""

from __future__ import annotations

import io
import multiprocessing
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from pypdf import PdfReader

from app import clock
from app.extensions import db
from app.lifecycle import workflow
from app.lifecycle.workflow import Context, ResponseData
from app.models import Addressee, Component, Concurrence, Recommendation, Sensitivity, TextSource
from app.pdf import engine, services
from tests.conftest import EMAILS, login, rec, report_by_number, user_by_email, visible_text

SECRET = "SYNTHETIC-RESTRICTED-IN-PUBLIC-REPORT text for tests"


def _text(pdf: bytes) -> str:
    """The PDF's text with line breaks and runs of spaces folded to one space."""
    return " ".join(" ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages).split())


def _restricted_in_public_report() -> None:
    """A restricted recommendation inside the public OIG-12-15, addressed to FEMA."""
    report = report_by_number("OIG-12-15")
    fema = db.session.scalar(sa.select(Component).where(Component.abbreviation == "FEMA"))
    report.recommendations.append(
        Recommendation(
            number=7,
            text=SECRET,
            text_source=TextSource.VERBATIM,
            sensitivity=Sensitivity.RESTRICTED,
            addressees=[Addressee(component=fema, is_lead=True, concurrence=Concurrence.CONCUR)],
        )
    )
    db.session.flush()
    from app import audit
    from app.lifecycle import history

    history.record_issuance(db.session, report.recommendations[-1], audit.AuditActor.system("tests"))
    db.session.commit()


def _get(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return response


def test_viewer_downloads_the_three_pdfs(as_role) -> None:
    _restricted_in_public_report()
    viewer = as_role("viewer")
    report = report_by_number("OIG-12-15")
    fema_id = db.session.scalar(sa.select(Component.id).where(Component.abbreviation == "FEMA"))
    report_id = report.id  # a download commits (its job): read ids before
    pdfs = {
        "report": _get(viewer, f"/reports/{report_id}/status.pdf").data,
        "component": _get(viewer, f"/components/{fema_id}/status.pdf").data,
        "portfolio": _get(viewer, "/recommendations/status.pdf").data,
    }
    for kind, pdf in pdfs.items():
        reader = PdfReader(io.BytesIO(pdf))
        text = _text(pdf)
        assert reader.metadata.title, kind
        assert SECRET not in text, kind
        assert "SYNTHETIC-RESTRICTED" not in text, kind  # nor the restricted report's texts
        # The report page and the list keep it as a placeholder; the component page
        # leaves out what the reader may not read, and so does its PDF.
        assert ("Restricted: not available in this version." in text) == (kind != "component"), kind
        assert "Page 1 of" in text, kind
    assert PdfReader(io.BytesIO(pdfs["report"])).metadata.title == "OIG-12-15: recommendation status"
    report_text = _text(pdfs["report"])
    assert "4 of 8 recommendations entered" not in report_text  # now 5 entered with the restricted one
    assert "5 of 8 recommendations entered" in report_text
    assert "Recommendation 3 · Open–Unresolved" in report_text
    assert "Non-concur" in report_text
    component_text = _text(pdfs["component"])
    assert "FEMA (Federal Emergency Management Agency)" in component_text
    assert "OIG-12-15" in component_text
    assert "Recommendation 7" not in component_text
    assert "1 recommendation addressed to FEMA" in component_text  # #3; not the restricted #7
    portfolio_text = _text(pdfs["portfolio"])
    for heading in (
        "Executive summary",
        "Recommendations open more than 6 months",
        "Significant recommendations without final action",
        "Open one year or more (GAO-IG Act)",
    ):
        assert heading in portfolio_text
    assert "TEST-R-1" not in portfolio_text  # a restricted report is not in a viewer's portfolio


def test_oig_staff_see_the_restricted_text(as_role) -> None:
    _restricted_in_public_report()
    report = report_by_number("OIG-12-15")
    assert SECRET in _text(_get(as_role("oig"), f"/reports/{report.id}/status.pdf").data)


def test_pdf_is_tagged_with_title_and_language(as_role) -> None:
    report = report_by_number("OIG-12-15")
    reader = PdfReader(io.BytesIO(_get(as_role("viewer"), f"/reports/{report.id}/status.pdf").data))
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en"
    assert bool(root["/MarkInfo"]["/Marked"])  # a pypdf BooleanObject
    assert "/StructTreeRoot" in root
    assert reader.metadata.title == "OIG-12-15: recommendation status"


def test_portfolio_filters_and_contents_with_page_numbers(as_role) -> None:
    fema = db.session.scalar(sa.select(Component).where(Component.abbreviation == "FEMA"))
    text = _text(_get(as_role("oig"), f"/recommendations/status.pdf?component={fema.id}&status=open").data)
    assert "Filters: status Open (resolved or not); component FEMA" in text
    assert "Executive summary" in text
    assert "OIG-12-15 · Recommendation 3" in text
    assert "OIG-12-15 · Recommendation 1" not in text  # I&A only


def _walk(today: date) -> int:
    """OIG-12-15's recommendation 3 as if RecTrack had tracked it since its issuance
    (December 6, 2011: the steps below are dated 2012 and 2013)."""
    cpg = rec("OIG-12-15", 3)
    cpg.tracked_since = date(2011, 12, 6)
    fema = next(a for a in cpg.addressees if a.component.abbreviation == "FEMA")
    workflow.submit_response(
        db.session,
        Context(user_by_email(EMAILS["fema"]), date(2012, 3, 1)),
        cpg,
        fema,
        ResponseData(Concurrence.CONCUR, "FEMA concurs.", "Plan 2012", date(2013, 1, 1), "Director"),
    )
    workflow.resolve(db.session, Context(user_by_email(EMAILS["oig"]), date(2012, 4, 1)), cpg, "Responsive.")
    workflow.request_closure(
        db.session, Context(user_by_email(EMAILS["fema"]), date(2013, 2, 1)), cpg, fema, "Done."
    )
    workflow.close(db.session, Context(user_by_email(EMAILS["oig"]), date(2013, 3, 1)), cpg, implemented=True)
    db.session.commit()
    return cpg.report_id


@pytest.mark.parametrize(
    ("as_of", "status", "present", "absent"),
    [
        # issued 2011-12-06: the response is due 2012-03-05
        ("2012-01-15", "Open–Unresolved", "Response due in 50 days", "Plan 2012"),
        # FEMA responded on 2012-03-01; I&A never did
        ("2012-03-06", "Open–Unresolved", "Response overdue by 1 day", "Closure accepted"),
        ("2012-06-01", "Open–Resolved", "Plan 2012", "Closure: Closure accepted"),
        ("2013-04-01", "Closed–Implemented", "Closure: Closure accepted", "Response overdue"),
    ],
)
def test_pdf_as_of_a_past_date_shows_that_dates_status(as_role, as_of, status, present, absent) -> None:
    report_id = _walk(clock.today())
    text = _text(_get(as_role("oig"), f"/reports/{report_id}/status.pdf?as_of={as_of}").data)
    assert f"Recommendation 3 · {status}" in text
    section = text.split("Recommendation 3 ·", 1)[1].split("Recommendation 4 ·", 1)[0]
    assert present in section
    assert absent not in section
    assert f"As of {date.fromisoformat(as_of):%B} {date.fromisoformat(as_of).day}, {as_of[:4]}" in text
    assert "rebuilt from each recommendation" in text


@pytest.mark.parametrize("value", ["2015-02-30", "yesterday", "2999-01-01"])
def test_bad_as_of_is_a_clear_400(as_role, value: str) -> None:
    report = report_by_number("OIG-12-15")
    response = as_role("viewer").get(f"/reports/{report.id}/status.pdf?as_of={value}")
    assert response.status_code == 400
    assert "as of" in response.get_data(as_text=True).lower()


def test_viewer_gets_403_on_a_restricted_reports_pdf(as_role) -> None:
    assert as_role("viewer").get(f"/reports/{report_by_number('TEST-R-1').id}/status.pdf").status_code == 403


# --- caching -----------------------------------------------------------------------------


def test_etag_304_and_a_write_changes_the_version(as_role) -> None:
    client = as_role("viewer")
    report = report_by_number("OIG-12-15")
    url = f"/reports/{report.id}/status.pdf"
    first = _get(client, url)
    etag = first.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    # another role sees other things: another key
    assert as_role("oig").get(url).headers["ETag"] != etag
    login(client, "viewer")
    report = report_by_number("OIG-12-15")
    report.title = report.title + " (corrected)"
    db.session.commit()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert "(corrected)" in _text(changed.data)


def test_a_pdf_made_under_older_content_rules_is_not_served_again(as_role, monkeypatch) -> None:
    """A release that changes what PDFs show (as the component PDF's visibility fix did)
    must not serve copies cached, or confirm ETags given out, before it."""
    client = as_role("viewer")
    url = f"/reports/{report_by_number('OIG-12-15').id}/status.pdf"
    etag = _get(client, url).headers["ETag"]
    monkeypatch.setattr(services, "CONTENT_RULES", services.CONTENT_RULES + 1)
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 200
    assert again.headers["ETag"] != etag


def test_cached_copy_is_served_without_rendering(as_role, monkeypatch) -> None:
    client = as_role("viewer")
    url = f"/reports/{report_by_number('OIG-12-15').id}/status.pdf"
    first = _get(client, url).data
    monkeypatch.setattr(engine, "render", lambda *a, **k: pytest.fail("rendered again"))
    assert _get(client, url).data == first


# --- failures and limits --------------------------------------------------------------------


def test_render_failure_is_a_friendly_page_not_a_partial_file(as_role, monkeypatch) -> None:
    def broken(*_args: object, **_kwargs: object) -> engine.RenderResult:
        raise engine.PdfError("renderer crashed")

    monkeypatch.setattr(engine, "render", broken)
    client = as_role("viewer")
    response = client.get("/recommendations/status.pdf?year=2011")
    assert response.status_code == 303  # to the job's page, which says it failed
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    text = visible_text(page)
    assert "The file was not made The PDF could not be made: renderer crashed" in text
    assert "Try again" in text


def test_rendering_has_a_time_limit(app: Flask) -> None:
    html = "<html lang='en'><head><title>t</title></head><body>" + "<p>x</p>" * 20000 + "</body></html>"
    with pytest.raises(engine.PdfError, match="longer than"):
        engine.render(html, Path(app.static_folder), timeout=0.05)


def test_too_many_recommendations_is_a_clear_message(app: Flask, as_role) -> None:
    app.config["PDF_MAX_RECOMMENDATIONS"] = 2
    client = as_role("oig")
    try:
        response = client.get("/recommendations/status.pdf")
    finally:
        app.config["PDF_MAX_RECOMMENDATIONS"] = 5000
    assert response.status_code == 303  # the job's page says why no PDF was made
    assert "one PDF holds at most 2" in client.get(response.headers["Location"]).get_data(as_text=True)


# --- the URL fetcher --------------------------------------------------------------------------


class _Counter(BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self) -> None:
        type(self).hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def local_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    _Counter.hits = 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_nothing_outside_static_is_fetched(app: Flask, local_server: str, tmp_path: Path) -> None:
    secret = tmp_path / "secret.css"
    secret.write_text("body { color: red }")
    html = f"""<html lang="en"><head><title>t</title>
      <link rel="stylesheet" href="{local_server}/style.css">
      <link rel="stylesheet" href="{secret.as_uri()}">
      <link rel="stylesheet" href="pdf/print.css">
    </head><body>
      <img src="{local_server}/tracker.png" alt="remote">
      <img src="file:///etc/passwd" alt="file">
      <img src="../../../../etc/hostname" alt="climbing out">
      <img src="uswds/img/us_flag_small.png" alt="flag">
    </body></html>"""
    result = engine.render_in_process(html, Path(app.static_folder))
    assert _Counter.hits == 0
    refused = set(result.refused)
    assert f"{local_server}/style.css" in refused
    assert f"{local_server}/tracker.png" in refused
    assert secret.as_uri() in refused
    assert "file:///etc/passwd" in refused
    assert any(url.endswith("/etc/hostname") for url in refused)
    assert not any("print.css" in url or "us_flag_small" in url for url in refused)  # static files load


def test_text_in_the_data_cannot_smuggle_markup(as_role, local_server: str) -> None:
    cpg = rec("OIG-12-15", 1)
    cpg.text = f'Plain words <img src="{local_server}/leak.png"> and <b>no bold</b>'
    report_id = cpg.report_id
    db.session.commit()
    pdf = _get(as_role("oig"), f"/reports/{report_id}/status.pdf").data
    assert _Counter.hits == 0
    assert "<b>no bold</b>" in _text(pdf)  # shown as text, never run as HTML


# --- the command line -------------------------------------------------------------------------


def test_cli_makes_the_three_reports_with_a_viewers_visibility(app: Flask, tmp_path: Path) -> None:
    _restricted_in_public_report()
    runner = app.test_cli_runner()
    outputs = {
        "report": ["pdf", "report", "OIG-12-15"],
        "component": ["pdf", "component", "FEMA"],
        "portfolio": ["pdf", "portfolio", "--status", "open", "--overdue", "resolution_overdue"],
    }
    for name, args in outputs.items():
        target = tmp_path / f"{name}.pdf"
        result = runner.invoke(
            args=[*args, "--as-of", "2024-01-01", "--as-role", "viewer", "--output", str(target)]
        )
        assert result.exit_code == 0, result.output
        text = _text(target.read_bytes())
        assert "As of January 1, 2024" in text
        assert SECRET not in text
    assert "Restricted: not available in this version." in _text((tmp_path / "report.pdf").read_bytes())
    oig = runner.invoke(
        args=["pdf", "report", "OIG-12-15", "--as-role", "oig", "--output", str(tmp_path / "o.pdf")]
    )
    assert oig.exit_code == 0
    assert SECRET in _text((tmp_path / "o.pdf").read_bytes())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pdf", "report", "OIG-99-99"], "No report numbered OIG-99-99"),
        (["pdf", "component", "NOPE"], "No component NOPE"),
        (["pdf", "portfolio", "--status", "bogus"], "--status must be one of"),
        (["pdf", "report", "OIG-12-15", "--as-of", "2999-01-01"], "cannot be in the future"),
        (["pdf", "report", "OIG-12-15", "--as-role", "liaison"], "needs --as-component"),
    ],
)
def test_cli_errors_are_clear(app: Flask, tmp_path: Path, args: list[str], message: str) -> None:
    result = app.test_cli_runner().invoke(args=[*args, "--output", str(tmp_path / "x.pdf")])
    assert result.exit_code != 0
    assert message in result.output
    assert not (tmp_path / "x.pdf").exists()


def test_rendering_works_inside_a_daemonic_process(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    # A Celery (prefork) worker runs each job in a daemonic process, where multiprocessing
    # refuses to start a child ("daemonic processes are not allowed to have children").
    monkeypatch.setitem(multiprocessing.current_process()._config, "daemon", True)
    html = "<html lang='en'><head><title>t</title></head><body><p>daemon</p></body></html>"
    assert engine.render(html, Path(app.static_folder), timeout=30).pdf.startswith(b"%PDF-")
