"""The public portal (PUBLIC_PORTAL, on in tests): anonymous visitors browse, filter and
search public items, download report PDFs and CSV lists, read as the most restricted
reader, never see a restricted word, are rate-limited per address, and are sent to the
sign-in page for everything else. With PUBLIC_PORTAL off: tests/test_route_permissions.py."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from limits import parse
from pypdf import PdfReader

from app import audit, portal
from app.auth import policy
from app.extensions import db
from app.lifecycle import history
from app.models import (
    Addressee,
    Attachment,
    AuditEvent,
    Component,
    Concurrence,
    EventKind,
    Recommendation,
    RecommendationEvent,
    Sensitivity,
    TextSource,
)
from app.storage import DatabaseBlobStore
from tests.conftest import login, rec, report_by_number, visible_text

# Every restricted word the fixture below writes; none may reach an anonymous visitor.
SECRETS = (
    "PORTAL-SECRET-TEXT",
    "PORTAL-SECRET-RESPONSE",
    "PORTAL-SECRET-PLAN",
    "PORTAL-SECRET-EVALUATION",
    "PORTAL-SECRET-DECISION",
    "PORTAL-SECRET-EVENT-NOTE",
    "PORTAL-SECRET-DOCUMENT",
    "PORTAL-PUBLIC-DOCUMENT",  # a public recommendation's document: visitors get no documents
    "SYNTHETIC-RESTRICTED",  # the restricted report TEST-R-1 (tests/conftest.py)
    "Synthetic restricted report",
)


def _text(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages).split())


def _document(recommendation: Recommendation, name: str) -> None:
    db.session.add(
        Attachment(
            recommendation_id=recommendation.id,
            addressee_id=recommendation.addressees[0].id,
            component_id=recommendation.addressees[0].component_id,
            sha256=DatabaseBlobStore().put(db.session, b"evidence,1\n"),
            size_bytes=11,
            content_type="text/csv",
            original_name=name,
        )
    )


@pytest.fixture
def restricted() -> Recommendation:
    """Recommendation 5 of the public OIG-12-15: restricted, addressed to FEMA, with a
    response, a plan, OIG notes, a history note and a document; and a document on the
    public recommendation 3."""
    report = report_by_number("OIG-12-15")
    fema = db.session.scalar(sa.select(Component).where(Component.abbreviation == "FEMA"))
    secret = Recommendation(
        number=5,
        text="PORTAL-SECRET-TEXT of a restricted recommendation.",
        text_source=TextSource.VERBATIM,
        sensitivity=Sensitivity.RESTRICTED,
        decision_note="PORTAL-SECRET-DECISION",
        tracked_since=date(2011, 12, 6),
        addressees=[
            Addressee(
                component=fema,
                is_lead=True,
                concurrence=Concurrence.CONCUR,
                response="PORTAL-SECRET-RESPONSE",
                corrective_action_plan="PORTAL-SECRET-PLAN",
                evaluation_note="PORTAL-SECRET-EVALUATION",
            )
        ],
    )
    report.recommendations.append(secret)
    db.session.flush()
    history.record_issuance(db.session, secret, audit.AuditActor.system("tests"))
    db.session.add(
        RecommendationEvent(
            recommendation_id=secret.id,
            kind=EventKind.UPDATE_POSTED,
            actor_label="tests",
            actor_role="system",
            effective_on=date(2012, 1, 5),
            note="PORTAL-SECRET-EVENT-NOTE",
        )
    )
    _document(secret, "PORTAL-SECRET-DOCUMENT.csv")
    _document(rec("OIG-12-15", 3), "PORTAL-PUBLIC-DOCUMENT.csv")
    db.session.commit()
    return secret


@pytest.fixture
def anon(app: Flask) -> FlaskClient:
    return app.test_client()


def _ok(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.headers.get("Location"))
    return response.get_data(as_text=True)


def _no_secrets(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret} in {where}"


def _report_id() -> int:
    return report_by_number("OIG-12-15").id


def _fema_id() -> int:
    return db.session.scalar(sa.select(Component.id).where(Component.abbreviation == "FEMA"))


# --- browsing, filtering, searching -------------------------------------------------------


def test_anonymous_visitor_browses_the_public_pages(anon: FlaskClient) -> None:
    reports = _ok(anon, "/reports?q=OIG-12-15")
    assert "Relationships Between Fusion Centers and Emergency Operations Centers" in reports
    report_page = _ok(anon, f"/reports/{_report_id()}")
    assert "Ensure that CPG-502 and other federal guidance" in report_page
    detail = _ok(anon, f"/recommendations/{rec('OIG-12-15', 3).id}")
    assert 'id="history-heading">History</h2>' in detail  # the status history
    assert "Issued" in visible_text(anon.get(f"/recommendations/{rec('OIG-12-15', 3).id}"))
    assert "Federal Emergency Management Agency" in _ok(anon, f"/components/{_fema_id()}")
    assert ">FEMA<" in _ok(anon, "/components")


def test_the_header_offers_sign_in_and_no_account_links(anon: FlaskClient) -> None:
    page = _ok(anon, "/recommendations?status=open")
    assert 'href="/login?next=/recommendations?status%3Dopen"' in page
    for private in (
        "Sign out",
        "My downloads",
        "Change password",
        "E-mail preferences",
        ">Dashboard<",
        "My work",
    ):
        assert private not in page, private
    for public in (">Reports<", ">Recommendations<", ">Components<", ">Search<"):
        assert public in page, public
    # from the sign-in page or an error page, no way back is carried
    for url in ("/login?next=/reports", "/no/such/page"):
        assert '<a href="/login">Sign in</a>' in anon.get(url).get_data(as_text=True), url


def test_anonymous_visitor_filters_the_list(anon: FlaskClient) -> None:
    listed = visible_text(anon.get(f"/recommendations?report={_report_id()}"))
    # OIG-12-15 has four recommendations entered (tests/data/seed-reports.yaml)
    assert "4 recommendations match" in listed
    assert "Ensure that CPG-502" in listed
    fema_only = visible_text(anon.get(f"/recommendations?report={_report_id()}&component={_fema_id()}"))
    assert "1 recommendation matches" in fema_only  # only number 3 is addressed to FEMA
    assert "Ensure that CPG-502" in fema_only
    assert "Promote the benefits of the all-hazards approach" not in fema_only
    reports = visible_text(anon.get(f"/reports?component={_fema_id()}&year=2011"))
    assert "OIG-12-15" in reports


def test_anonymous_visitor_searches(anon: FlaskClient) -> None:
    found = visible_text(anon.get("/search?q=CPG-502"))
    assert "OIG-12-15" in found
    assert "No results" not in found


# --- restricted items -------------------------------------------------------------------


def test_restricted_recommendations_are_placeholders(anon: FlaskClient, restricted: Recommendation) -> None:
    report_page = visible_text(anon.get(f"/reports/{_report_id()}"))
    assert "Recommendation 5" in report_page
    assert "Restricted: not available in this view." in report_page
    listed = visible_text(anon.get(f"/recommendations?report={_report_id()}"))
    assert "5 recommendations match" in listed  # counts stay honest: four public, one placeholder
    assert "Restricted: not available in this view." in listed
    # its own page is refused, as it is to congressional staff
    assert anon.get(f"/recommendations/{restricted.id}").status_code == 403


def test_a_restricted_report_answers_the_visitor_as_it_answers_a_viewer(
    app: Flask, anon: FlaskClient
) -> None:
    report_id = report_by_number("TEST-R-1").id
    viewer = app.test_client()
    login(viewer, "viewer")
    expected = viewer.get(f"/reports/{report_id}").status_code
    assert expected == 403
    assert anon.get(f"/reports/{report_id}").status_code == expected
    assert anon.get(f"/reports/{report_id}/status.pdf").status_code == expected
    assert "TEST-R-1" not in visible_text(anon.get("/reports"))


def _anonymous_outputs(anon: FlaskClient, secret_id: int) -> Iterator[tuple[str, str]]:
    """Every page and file an anonymous visitor can get about OIG-12-15 and TEST-R-1."""
    report_id, fema = _report_id(), _fema_id()
    restricted_report = report_by_number("TEST-R-1").id
    for url in (
        "/reports",
        f"/reports?component={fema}",
        f"/reports/{report_id}",
        f"/reports/{restricted_report}",
        "/recommendations",
        f"/recommendations?report={report_id}",
        f"/recommendations?component={fema}",
        "/recommendations?q=restricted",  # words of its text (the query itself is echoed)
        f"/recommendations/{secret_id}",
        f"/recommendations/{rec('OIG-12-15', 3).id}",
        "/components",
        f"/components/{fema}",
        "/search?q=restricted",
        "/search?q=synthetic",
        "/search?q=CPG-502",
        "/feeds/all.atom",
        f"/feeds/reports/{report_id}.atom",
        f"/feeds/components/{fema}.atom",
    ):
        yield url, anon.get(url).get_data(as_text=True)
    pdf = anon.get(f"/reports/{report_id}/status.pdf")
    assert pdf.status_code == 200
    yield "report PDF", _text(pdf.data)
    for url in ("/recommendations/export.csv", f"/recommendations/export.csv?report={report_id}"):
        response = anon.get(url)
        assert response.status_code == 200
        yield url, response.get_data(as_text=True)


def test_no_restricted_word_reaches_an_anonymous_visitor(
    anon: FlaskClient, restricted: Recommendation
) -> None:
    seen = 0
    for where, text in _anonymous_outputs(anon, restricted.id):
        _no_secrets(text, where)
        seen += 1
    assert seen == 21
    # the same walk signed in as OIG staff does see them: the check can fail
    assert "PORTAL-SECRET-TEXT" in _signed_in_report_page(anon, restricted)


def _signed_in_report_page(client: FlaskClient, restricted: Recommendation) -> str:
    login(client, "oig")
    return client.get(f"/reports/{restricted.report_id}").get_data(as_text=True)


def test_visitors_get_no_documents(anon: FlaskClient, restricted: Recommendation) -> None:
    document = db.session.scalar(
        sa.select(Attachment).where(Attachment.original_name == "PORTAL-PUBLIC-DOCUMENT.csv")
    )
    page = _ok(anon, f"/recommendations/{rec('OIG-12-15', 3).id}")
    assert "PORTAL-PUBLIC-DOCUMENT" not in page
    response = anon.get(f"/attachments/{document.id}")
    assert response.status_code in (302, 404)
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/login")


def test_the_public_reader_in_the_policy(restricted: Recommendation) -> None:
    reader = policy.PublicReader()
    public = rec("OIG-12-15", 3)
    assert not reader.is_authenticated
    assert policy.can_view_recommendation(reader, public)
    assert not policy.can_view_recommendation(reader, restricted)
    assert policy.can_view_report(reader, report_by_number("OIG-12-15"))
    assert not policy.can_view_report(reader, report_by_number("TEST-R-1"))
    assert not policy.sees_actor_names(reader)
    assert not policy.has_work_queues(reader)
    assert not policy.is_staff(reader)
    document = db.session.scalar(sa.select(Attachment).where(Attachment.recommendation_id == public.id))
    assert not policy.can_download_attachment(reader, document)
    visible = set(
        db.session.scalars(sa.select(Recommendation.id).where(policy.recommendation_visibility(reader)))
    )
    assert public.id in visible
    assert restricted.id not in visible
    # a plain anonymous user (not the portal's reader) still reads nothing
    from flask_login import AnonymousUserMixin

    assert not policy.can_view_recommendation(AnonymousUserMixin(), public)


# --- downloads --------------------------------------------------------------------------


def test_anonymous_report_pdf_is_made_in_the_request_and_audited(
    anon: FlaskClient, restricted: Recommendation
) -> None:
    response = anon.get(f"/reports/{_report_id()}/status.pdf")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    text = _text(response.data)
    assert "OIG-12-15" in text
    assert "STATUS REPORT · PUBLIC" in text.upper()  # the audience line
    assert "Restricted" in text  # recommendation 5's placeholder
    _no_secrets(text, "report PDF")
    # the browser's copy: 304, nothing sent, nothing recorded
    again = anon.get(
        f"/reports/{_report_id()}/status.pdf", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304
    events = _anonymous_events("pdf")
    assert len(events) == 1
    assert (events[0].object_type, events[0].object_id) == ("reports", _report_id())


def _anonymous_events(action: str) -> list[AuditEvent]:
    events = list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))
    anonymous = [e for e in events if e.actor_role == "anonymous"]
    for event in anonymous:
        assert (event.actor_id, event.actor_label, event.source_ip) == (None, "anonymous", "127.0.0.1")
    return anonymous


def test_anonymous_csv_export_is_what_they_see_and_audited(
    anon: FlaskClient, restricted: Recommendation
) -> None:
    response = anon.get(f"/recommendations/export.csv?report={_report_id()}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    body = response.get_data(as_text=True)
    _no_secrets(body, "CSV")
    rows = list(csv.DictReader(io.StringIO(body)))
    # recommendations 1, 2 and 4 to I&A; 3 to I&A and FEMA; 5 (restricted) to FEMA
    assert len(rows) == 6
    placeholder = [r for r in rows if r.get("rec_number") == "5"]
    assert len(placeholder) == 1
    assert "PORTAL" not in "".join(placeholder[0].values())
    events = _anonymous_events("export")
    assert len(events) == 1
    assert (events[0].changes["format"], events[0].changes["rows"], events[0].changes["complete"]) == (
        "csv",
        6,
        True,
    )


def test_a_large_csv_is_refused_to_visitors_only(
    app: Flask, anon: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "EXPORT_JOB_THRESHOLD", 3)
    refused = anon.get(f"/recommendations/export.csv?report={_report_id()}")
    assert refused.status_code == 403
    assert "too many to download without signing in" in visible_text(refused)
    assert (
        anon.get(f"/recommendations/export.csv?report={_report_id()}&component={_fema_id()}").status_code
        == 200
    )
    viewer = app.test_client()
    login(viewer, "viewer")
    assert viewer.get(f"/recommendations/export.csv?report={_report_id()}").status_code in (200, 303)


# --- what still needs an account ---------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/work",
        "/reports/new",
        "/account/password",
        "/account/notifications",
        "/downloads",
        "/admin/users",
        "/recommendations/status.pdf",
        "/recommendations/export.xlsx",
    ],
)
def test_private_pages_send_visitors_to_sign_in(anon: FlaskClient, url: str) -> None:
    response = anon.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_the_site_address_opens_the_portal(anon: FlaskClient) -> None:
    response = anon.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/reports"


def test_component_pdf_needs_an_account(anon: FlaskClient) -> None:
    response = anon.get(f"/components/{_fema_id()}/status.pdf")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert "status.pdf" not in _ok(anon, f"/components/{_fema_id()}")
    assert "status.pdf" not in _ok(anon, "/components")


def test_anonymous_posts_change_nothing(anon: FlaskClient) -> None:
    report_id = _report_id()
    response = anon.post(f"/follows/reports/{report_id}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert "Follow" not in _ok(anon, f"/reports/{report_id}")


def test_anonymous_posts_with_csrf_on_are_refused(
    app: Flask, anon: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = anon.post("/reports/new", data={"number": "OIG-PORTAL-1"})
    assert response.status_code in (302, 400)
    assert report_by_number_or_none("OIG-PORTAL-1") is None


def report_by_number_or_none(number: str) -> object:
    from app.models import Report

    return db.session.scalar(sa.select(Report).where(Report.number == number))


# --- rate limit -------------------------------------------------------------------------


@pytest.fixture
def three_per_minute(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    limit = app.extensions[portal.EXTENSION_KEY]
    monkeypatch.setitem(
        app.extensions, portal.EXTENSION_KEY, portal.PortalLimit(limit.store, parse("3 per minute"))
    )


@pytest.mark.usefixtures("three_per_minute")
def test_the_rate_limit_answers_429_with_retry_after(app: Flask, anon: FlaskClient) -> None:
    for _ in range(3):
        assert anon.get("/reports").status_code == 200
    refused = anon.get("/recommendations")
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= 60
    text = visible_text(refused)
    assert "more than 3 requests in a minute" in text
    assert "Signed-in users are not limited" in text
    assert "Sign in" in text
    # the sign-in page is not counted, nor is another address, nor a signed-in user
    assert anon.get("/login").status_code == 200
    other = app.test_client()
    assert other.get("/reports", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 200
    login(anon, "viewer")
    for _ in range(5):
        assert anon.get("/reports").status_code == 200
    # the first refusal in the window is in the audit trail; the next ones only in the log
    assert anon.get("/reports", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200  # signed in
    visitor = app.test_client()
    assert visitor.get("/reports").status_code == 429
    denied = [
        e
        for e in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.outcome == "denied"))
        if e.changes.get("reason") == "portal rate limit"
    ]
    assert len(denied) == 1
    assert (denied[0].actor_role, denied[0].source_ip, denied[0].changes["path"]) == (
        "anonymous",
        "127.0.0.1",
        "/recommendations",
    )


def test_the_rate_setting_is_checked_at_start() -> None:
    from app import create_app
    from config import TestingConfig

    config = TestingConfig()
    config.PORTAL_RATE_LIMIT = "lots"
    with pytest.raises(RuntimeError, match="PORTAL_RATE_LIMIT"):
        create_app(config)


# --- PUBLIC_PORTAL off --------------------------------------------------------------------


def test_with_the_portal_off_the_header_offers_nothing(
    app: Flask, anon: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "PUBLIC_PORTAL", False)
    for url in (
        "/",
        "/reports",
        "/recommendations",
        "/search?q=CPG-502",
        "/feeds/all.atom",
        f"/reports/{_report_id()}/status.pdf",
    ):
        response = anon.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login?next="), url
    login_page = _ok(anon, "/login")
    assert ">Recommendations<" not in login_page
