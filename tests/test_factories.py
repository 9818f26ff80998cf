"""The test factories (tests/factories.py) make what they say, and flush without committing."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from app.extensions import db
from app.models import (
    Concurrence,
    EventKind,
    RecommendationEvent,
    RecStatus,
    Report,
    ResponseState,
    Role,
    Sensitivity,
)
from tests.factories import (
    login_as,
    make_component,
    make_recommendation,
    make_report,
    make_response,
    make_user,
    part,
)


def test_a_factory_flushes_and_never_commits() -> None:
    report = make_report(number="FAC-FLUSH")
    assert report.id is not None
    assert db.session.scalar(sa.select(Report.id).where(Report.number == "FAC-FLUSH")) == report.id
    db.session.rollback()  # back to the savepoint the test started in: nothing was committed
    assert db.session.scalar(sa.select(Report.id).where(Report.number == "FAC-FLUSH")) is None


def test_recommendations_are_numbered_on_their_report_with_the_first_addressee_the_lead() -> None:
    fema, ia = make_component("TFEMA"), make_component("TIA")
    report = make_report(issued_on=date(2024, 2, 29), restricted=True, components=[fema])
    first = make_recommendation(report, addressees=[fema, (ia, {"concurrence": Concurrence.NON_CONCUR})])
    second = make_recommendation(report, addressees=[ia], lead=False, restricted=False)
    assert (first.number, second.number) == (1, 2)
    assert [(a.component.abbreviation, a.is_lead, a.concurrence) for a in first.addressees] == [
        ("TFEMA", True, Concurrence.PENDING),
        ("TIA", False, Concurrence.NON_CONCUR),
    ]
    assert [a.is_lead for a in second.addressees] == [False]
    assert (first.sensitivity, second.sensitivity) == (Sensitivity.RESTRICTED, Sensitivity.PUBLIC)
    assert first.status == RecStatus.OPEN_UNRESOLVED
    assert (report.issued_on, [c.abbreviation for c in report.components]) == (date(2024, 2, 29), ["TFEMA"])


def test_with_history_records_the_issuance_and_the_known_concurrence() -> None:
    fema, ia = make_component(), make_component()
    rec = make_recommendation(
        make_report(issued_on=date(2023, 5, 8)),
        addressees=[(fema, {"concurrence": Concurrence.CONCUR}), ia],
        with_history=True,
    )
    event = RecommendationEvent
    events = db.session.execute(
        sa.select(event.kind, event.effective_on, event.addressee_id)
        .where(event.recommendation_id == rec.id)
        .order_by(event.id)
    ).all()
    assert [tuple(e) for e in events] == [
        (EventKind.CREATED, date(2023, 5, 8), None),
        (EventKind.CONCURRENCE_RECORDED, date(2023, 5, 8), part(rec, fema).id),
    ]


def test_make_response_writes_the_components_part() -> None:
    fema, ia = make_component(), make_component()
    rec = make_recommendation(addressees=[fema, ia])
    make_response(rec, ia, concurrence=Concurrence.PARTIAL, target_date=date(2025, 1, 31))
    mine, other = part(rec, ia), part(rec, fema)
    assert (mine.concurrence, mine.response_state, mine.target_date, mine.responsible_official) == (
        Concurrence.PARTIAL,
        ResponseState.SUBMITTED,
        date(2025, 1, 31),
        "Responsible Official",
    )
    assert (other.concurrence, other.response_state) == (Concurrence.PENDING, ResponseState.NONE)


def test_a_factory_account_signs_in_by_its_session(client) -> None:
    fema = make_component()
    restricted = make_report(restricted=True, components=[fema])
    public = make_report()
    viewer, liaison = make_user(Role.VIEWER), make_user(Role.LIAISON, [fema])
    db.session.commit()
    urls = {"restricted": f"/reports/{restricted.id}", "public": f"/reports/{public.id}"}
    accounts = {"viewer": viewer.get_id(), "liaison": liaison.get_id()}
    seen = {
        (who, which): login_as(client, account).get(url).status_code
        for who, account in accounts.items()
        for which, url in urls.items()
    }
    assert seen == {
        ("viewer", "restricted"): 403,
        ("viewer", "public"): 200,
        ("liaison", "restricted"): 200,
        ("liaison", "public"): 200,
    }
