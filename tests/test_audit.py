"""The audit trail: every change and sign-in recorded, nothing ever rewritten."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from app import audit
from app.audit import AuditError
from app.extensions import db
from app.models import AuditEvent, Component, Report
from tests.conftest import rec, report_by_number, submit


def _last(object_type: str, action: str) -> AuditEvent:
    event = db.session.scalar(
        sa.select(AuditEvent)
        .where(AuditEvent.object_type == object_type, AuditEvent.action == action)
        .order_by(AuditEvent.id.desc())
    )
    assert event is not None
    return event


def test_web_create_update_delete_are_audited_with_actor_and_ip(as_role) -> None:
    client = as_role("oig")
    response = client.post(
        "/reports/new",
        data={
            "number": "oig-99-01",
            "issuing_office": "DHS OIG",
            "title": "Audit trail test report",
            "issued_on": "2020-02-29",
            "sensitivity": "public",
        },
        environ_base={"REMOTE_ADDR": "192.0.2.55"},
    )
    assert response.status_code == 302
    created = _last("reports", "create")
    assert created.actor_label == "oig@test.example"
    assert created.actor_role == "oig"
    assert created.source_ip == "192.0.2.55"
    assert created.changes["number"] == [None, "OIG-99-01"]
    assert created.changes["issued_on"] == [None, "2020-02-29"]

    report = report_by_number("OIG-99-01")
    submit(
        client,
        f"/reports/{report.id}/edit",
        data={
            "number": "OIG-99-01",
            "issuing_office": "DHS OIG",
            "title": "Renamed report",
            "issued_on": "2020-02-29",
            "sensitivity": "public",
        },
    )
    updated = _last("reports", "update")
    assert updated.changes == {"title": ["Audit trail test report", "Renamed report"]}

    client.post(f"/reports/{report.id}/delete")
    deleted = _last("reports", "delete")
    assert deleted.object_id == report.id
    assert deleted.changes["title"] == ["Renamed report", None]


def test_deleting_a_recommendation_keeps_its_content_and_addressees(as_role) -> None:
    cpg = rec("OIG-12-15", 3)
    text, rec_id = cpg.text, cpg.id
    assert as_role("oig").post(f"/recommendations/{rec_id}/delete").status_code == 302
    event = _last("recommendations", "delete")
    assert event.object_id == rec_id
    assert event.changes["text"] == [text, None]
    addressee_events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.object_type == "addressees", AuditEvent.action == "delete")
    ).all()
    concurrences = sorted(e.changes["concurrence"][0] for e in addressee_events)
    assert concurrences == ["concur", "non_concur"]
    assert any("better directed to FEMA" in (e.changes["response"][0] or "") for e in addressee_events)


def test_many_to_many_changes_are_audited() -> None:
    report = report_by_number("OIG-22-29")
    fema = db.session.scalar(sa.select(Component).where(Component.abbreviation == "FEMA"))
    report.components = [*report.components, fema]
    db.session.flush()
    assert _last("reports", "update").changes["components"] == [["I&A"], ["FEMA", "I&A"]]


def test_orm_refuses_to_change_or_delete_audit_events() -> None:
    event = db.session.scalars(sa.select(AuditEvent).limit(1)).one()
    event.action = "tampered"
    with pytest.raises(AuditError):
        db.session.flush()
    db.session.rollback()
    event = db.session.scalars(sa.select(AuditEvent).limit(1)).one()
    db.session.delete(event)
    with pytest.raises(AuditError):
        db.session.flush()


@pytest.mark.parametrize("statement", ["UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"])
def test_database_refuses_to_change_audit_events(statement: str) -> None:
    savepoint = db.session.begin_nested()
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        db.session.execute(sa.text(statement))
    savepoint.rollback()
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) > 0


def test_a_change_without_an_actor_is_refused() -> None:
    audit.set_actor(db.session, None)
    db.session.add(Report(title="No actor", issued_on=date(2020, 1, 1)))
    with pytest.raises(AuditError, match="without an actor"):
        db.session.flush()
