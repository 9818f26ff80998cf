"""Access events in the audit trail: exports, downloads, PDFs, reads of restricted items and
refused requests each leave an event with the actor and the outcome; each event names its
record in words, and the audit page filters by that name."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from app import audit
from app.extensions import db
from app.models import Attachment, AuditEvent, Component, Job, RecommendationEvent, Report
from tests.conftest import EMAILS, login, rec, report_by_number, submit, user_by_email, visible_text


def _mark() -> int:
    return db.session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0


def _new_events(since: int, action: str | None = None) -> list[AuditEvent]:
    stmt = sa.select(AuditEvent).where(AuditEvent.id > since).order_by(AuditEvent.id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return list(db.session.scalars(stmt.execution_options(populate_existing=True)))


def _one(since: int, action: str) -> AuditEvent:
    events = _new_events(since, action)
    assert len(events) == 1, [(e.action, e.object_type, e.object_id) for e in _new_events(since)]
    return events[0]


def _assert_actor(event: AuditEvent, role: str, outcome: str = "success") -> None:
    user = user_by_email(EMAILS[role])
    assert (event.actor_id, event.actor_label, event.outcome) == (user.id, EMAILS[role], outcome)
    assert event.actor_role == str(user.role)


def _no_restricted_text(event: AuditEvent) -> None:
    assert "SYNTHETIC-RESTRICTED" not in json.dumps(event.changes) + (event.object_label or "")


def _fema() -> Component:
    found = db.session.scalar(sa.select(Component).where(Component.abbreviation == "FEMA"))
    assert found is not None
    return found


# --- exports ------------------------------------------------------------------------------


def test_csv_export_records_the_filters_and_the_rows_sent(as_role) -> None:
    viewer = as_role("viewer")
    fema = _fema()
    since = _mark()
    response = viewer.get(f"/recommendations/export.csv?status=open&component={fema.id}&sort=ignored")
    body = response.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))[1:]
    assert len(rows) == 2  # OIG-12-15 #3 is the one open public recommendation to FEMA: its two rows
    event = _one(since, "export")
    _assert_actor(event, "viewer")
    assert event.object_type is None
    assert event.changes == {
        "format": "csv",
        "filters": {"status": "open", "component_id": fema.id},
        "rows": 2,
        "complete": True,
    }


def test_xlsx_export_records_the_filters_and_the_rows(as_role) -> None:
    oig = as_role("oig")
    since = _mark()
    response = oig.get("/recommendations/export.xlsx?year=2011")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True)["Recommendations"]
    rows = list(sheet.iter_rows(values_only=True))[1:]
    # OIG-12-15 (issued 2011-12-06): recommendations 1, 2, 4 to I&A, #3 to I&A and FEMA.
    assert len(rows) == 5
    event = _one(since, "export")
    _assert_actor(event, "oig")
    assert event.changes == {"format": "xlsx", "filters": {"year": 2011}, "rows": 5, "complete": True}


def test_a_csv_export_cut_off_midway_records_what_was_written(as_role, today) -> None:
    from app.demo.generator import generate

    generate(db.session.connection(), reports=60, recommendations=700, seed=3, today=today, allow_mixed=True)
    db.session.commit()
    oig = as_role("oig")
    since = _mark()
    response = oig.get("/recommendations/export.csv", buffered=False)
    chunks = iter(response.response)
    first = next(chunks)
    while not first:  # stream_with_context and the response wrapper may hand over empty chunks first
        first = next(chunks)
    response.close()  # the client goes away after the first chunk
    sent = len(list(csv.reader(io.StringIO(first.decode("utf-8").lstrip("\ufeff"))))) - 1
    assert sent == 500  # services.csv_chunks writes 500 rows per chunk, and there are more
    event = _one(since, "export")
    _assert_actor(event, "oig")
    assert event.changes == {"format": "csv", "filters": {}, "rows": 500, "complete": False}


def test_an_unfiltered_export_records_no_filters(as_role) -> None:
    viewer = as_role("viewer")
    since = _mark()
    body = viewer.get("/recommendations/export.csv").get_data(as_text=True)
    sent = len(list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))) - 1
    event = _one(since, "export")
    assert event.changes["filters"] == {}
    assert event.changes["rows"] == sent > 0


# --- downloads and PDFs -----------------------------------------------------------------


def _attachment_of(role: str, client: FlaskClient) -> Attachment:
    """A document FEMA sends with its response to OIG-12-15 #3."""
    cpg = rec("OIG-12-15", 3)
    fema_row = next(a for a in cpg.addressees if a.component.abbreviation == "FEMA")
    login(client, "fema")
    response = submit(
        client,
        f"/recommendations/{cpg.id}/components/{fema_row.id}/respond",
        data={
            "concurrence": "concur",
            "response": "FEMA concurs.",
            "corrective_action_plan": "Plan.",
            "target_date": "2099-01-01",
            "responsible_official": "Director",
            "documents": [(io.BytesIO(b"evidence\n"), "FEMA evidence.txt")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, visible_text(response)[:400]
    login(client, role)
    found = db.session.scalar(sa.select(Attachment).order_by(Attachment.id.desc()))
    assert found is not None
    return found


def test_attachment_download_records_which_file(client: FlaskClient) -> None:
    attachment = _attachment_of("viewer", client)
    attachment_id, sha256 = attachment.id, attachment.sha256
    since = _mark()
    assert client.get(f"/attachments/{attachment_id}").data == b"evidence\n"
    event = _one(since, "download")
    _assert_actor(event, "viewer")
    assert (event.object_type, event.object_id) == ("attachments", attachment_id)
    assert event.object_label == "OIG-12-15 #3 / FEMA: FEMA evidence.txt"
    assert event.changes == {"file": "FEMA evidence.txt", "sha256": sha256, "bytes": 9}


def test_pdf_download_records_the_pdf(as_role, today) -> None:
    viewer = as_role("viewer")
    report_id = report_by_number("OIG-12-15").id
    since = _mark()
    response = viewer.get(f"/reports/{report_id}/status.pdf")
    assert response.status_code == 200
    event = _one(since, "pdf")
    _assert_actor(event, "viewer")
    assert (event.object_type, event.object_id, event.object_label) == ("reports", report_id, "OIG-12-15")
    filename = response.headers["Content-Disposition"].split('filename="', 1)[1].rstrip('"')
    job_id = db.session.scalar(sa.select(Job.id))  # the PDF was made by a job (inline in tests)
    assert event.changes == {
        "kind": "report",
        "as_of": today.isoformat(),
        "file": filename,
        "job": job_id,
        "bytes": len(response.data),
    }
    # The browser asking again for the copy it has (304) receives nothing: no new event.
    since = _mark()
    again = viewer.get(
        f"/reports/{report_id}/status.pdf", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304
    assert _new_events(since, "pdf") == []


# --- reads of restricted items ----------------------------------------------------------


def test_reading_a_restricted_recommendation_is_recorded(as_role) -> None:
    liaison = as_role("liaison")
    target = rec("TEST-R-1", 1).id  # restricted, addressed to I&A
    since = _mark()
    assert liaison.get(f"/recommendations/{target}").status_code == 200
    event = _one(since, "read")
    _assert_actor(event, "liaison")
    assert (event.object_type, event.object_id, event.object_label) == (
        "recommendations",
        target,
        "TEST-R-1 #1",
    )
    _no_restricted_text(event)


def test_reading_a_restricted_report_is_recorded(as_role) -> None:
    oig = as_role("oig")
    report = report_by_number("TEST-R-1").id
    since = _mark()
    assert oig.get(f"/reports/{report}").status_code == 200
    event = _one(since, "read")
    _assert_actor(event, "oig")
    assert (event.object_type, event.object_id, event.object_label) == ("reports", report, "TEST-R-1")
    assert event.changes == {"restricted_recommendations": [1, 2]}
    _no_restricted_text(event)


def test_opening_a_step_form_of_a_restricted_recommendation_is_a_read(as_role) -> None:
    target = rec("TEST-R-1", 1)
    target_id, row = target.id, target.addressees[0].id
    since = _mark()
    page = as_role("liaison").get(f"/recommendations/{target_id}/components/{row}/respond")
    assert page.status_code == 200
    event = _one(since, "read")
    _assert_actor(event, "liaison")
    assert (event.object_id, event.changes) == (target_id, {"step": "submit_response"})


def test_reading_public_items_is_not_recorded(as_role) -> None:
    viewer = as_role("viewer")
    report = report_by_number("OIG-12-15")
    since = _mark()
    assert viewer.get(f"/reports/{report.id}").status_code == 200
    assert viewer.get(f"/recommendations/{rec('OIG-12-15', 3).id}").status_code == 200
    assert _new_events(since) == []


# --- refused requests -------------------------------------------------------------------


def test_a_refused_read_is_recorded_as_denied(as_role) -> None:
    viewer = as_role("viewer")
    target = rec("TEST-R-1", 2).id
    since = _mark()
    assert viewer.get(f"/recommendations/{target}").status_code == 403
    event = _one(since, "request")
    _assert_actor(event, "viewer", outcome="denied")
    assert (event.object_type, event.object_id, event.object_label) == (
        "recommendations",
        target,
        "TEST-R-1 #2",
    )
    assert event.changes == {
        "endpoint": "recommendations.detail",
        "method": "GET",
        "path": f"/recommendations/{target}",
    }
    _no_restricted_text(event)


def test_a_refused_post_is_recorded_and_saves_nothing_else(as_role) -> None:
    liaison = as_role("liaison")
    reports_before = db.session.scalar(sa.select(sa.func.count(Report.id)))
    since = _mark()
    response = liaison.post(
        "/reports/new",
        data={
            "number": "OIG-99-77",
            "title": "Not allowed",
            "issued_on": "2020-01-01",
            "sensitivity": "public",
        },
    )
    assert response.status_code == 403
    event = _one(since, "request")
    _assert_actor(event, "liaison", outcome="denied")
    assert event.changes == {"endpoint": "reports.create", "method": "POST", "path": "/reports/new"}
    assert [e.action for e in _new_events(since)] == ["request"]
    assert db.session.scalar(sa.select(sa.func.count(Report.id))) == reports_before


def test_a_refused_workflow_step_records_the_reason(as_role) -> None:
    cpg = rec("OIG-12-15", 3)
    fema_row = next(a for a in cpg.addressees if a.component.abbreviation == "FEMA")
    since = _mark()
    response = as_role("liaison").get(f"/recommendations/{cpg.id}/components/{fema_row.id}/respond")
    assert response.status_code == 403
    event = _one(since, "request")
    _assert_actor(event, "liaison", outcome="denied")
    assert (event.object_type, event.object_id, event.object_label) == (
        "addressees",
        fema_row.id,
        "OIG-12-15 #3 / FEMA",
    )
    assert event.changes["reason"] == "You act for I&A, not FEMA."


def test_access_events_are_committed_apart_from_the_request_work(app: Flask) -> None:
    """The helper ends the request's transaction without saving it, then saves the events."""
    report = report_by_number("OIG-12-15")
    actor = audit.AuditActor.for_user(user_by_email(EMAILS["viewer"]), "192.0.2.9")
    since = _mark()
    with app.test_request_context("/"):
        db.session.add(Report(title="Never saved", issued_on=report.issued_on))
        db.session.flush()
        audit.commit_apart(db.session, actor, [audit.Access("read", "reports", report.id)])
    assert db.session.scalar(sa.select(sa.func.count(Report.id)).where(Report.title == "Never saved")) == 0
    event = _one(since, "read")
    assert (event.actor_label, event.source_ip, event.object_label) == (
        EMAILS["viewer"],
        "192.0.2.9",
        "OIG-12-15",
    )


# --- readable record names and the audit page's filter ----------------------------------


def _addressee_id(report: str, number: int, component: str) -> int:
    return next(a.id for a in rec(report, number).addressees if a.component.abbreviation == component)


def test_change_events_name_their_record() -> None:
    fema_row = _addressee_id("OIG-12-15", 3, "FEMA")
    created = db.session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.object_type == "addressees",
            AuditEvent.object_id == fema_row,
            AuditEvent.action == "create",
        )
    )
    assert created is not None
    assert created.object_label == "OIG-12-15 #3 / FEMA"
    report = report_by_number("OIG-22-29")
    report.number = "OIG-22-29A"
    db.session.flush()
    renamed = _new_events(0, "update")[-1]
    assert (renamed.object_type, renamed.object_label) == ("reports", "OIG-22-29A")


def test_deleted_records_keep_their_names(as_role) -> None:
    cpg = rec("OIG-12-15", 3)
    since = _mark()
    assert as_role("oig").post(f"/recommendations/{cpg.id}/delete").status_code == 302
    deleted = {(e.object_type, e.object_label) for e in _new_events(since, "delete")}
    assert ("recommendations", "OIG-12-15 #3") in deleted
    assert ("addressees", "OIG-12-15 #3 / FEMA") in deleted
    assert ("addressees", "OIG-12-15 #3 / I&A") in deleted


def _audit_rows(client: FlaskClient, query: str) -> list[str]:
    page = client.get(f"/admin/audit?{query}").get_data(as_text=True)
    return [visible_text_of(row) for row in re.split(r'<td data-label="Record"[^>]*>', page)[1:]]


def visible_text_of(fragment: str) -> str:
    import re

    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment.split("</td>", 1)[0])).strip()


@pytest.mark.parametrize("typed", ["OIG-12-15 #3 / FEMA", "  oig-12-15 #3 / fema "])
def test_audit_page_filters_by_record_name(as_role, typed: str) -> None:
    from urllib.parse import urlencode

    client = as_role("admin")
    records = _audit_rows(client, urlencode({"object": typed}))
    assert records, "the FEMA part of OIG-12-15 #3 has events (created, concurrence recorded)"
    assert any(r.startswith("OIG-12-15 #3 / FEMA addressees #") for r in records), records
    assert all("OIG-12-15 #3 / FEMA" in r for r in records), records
    fema_row = _addressee_id("OIG-12-15", 3, "FEMA")
    steps = sa.select(RecommendationEvent.id).where(RecommendationEvent.addressee_id == fema_row)
    expected = db.session.scalar(
        sa.select(sa.func.count(AuditEvent.id)).where(
            sa.or_(
                sa.and_(AuditEvent.object_type == "addressees", AuditEvent.object_id == fema_row),
                sa.and_(AuditEvent.object_type == "recommendation_events", AuditEvent.object_id.in_(steps)),
            )
        )
    )
    assert len(records) == expected


def test_audit_page_shows_records_in_words(as_role) -> None:
    records = _audit_rows(as_role("admin"), "object_type=addressees")
    assert records
    for shown in records:
        label, _, technical = shown.partition(" addressees #")
        assert technical.isdigit(), shown
        # "OIG-12-15 #3 / FEMA", not "addressees #4"
        assert " #" in label, shown
        assert " / " in label, shown
