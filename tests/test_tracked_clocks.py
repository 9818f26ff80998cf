"""Tracked since (README, "Deadline policy": Tracked since): a deadline that fell due
before RecTrack began tracking a recommendation is "not recorded", never overdue, in the
page, the list filter (SQL on the stored due dates), the dashboard and the PDFs; one on or
after that day runs normally. Approximate clocks for month and fiscal-year issue dates.

The suite's clock is frozen on November 16, 2026. Every expected date and count below was
worked out by hand from a calendar.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from app.dashboard import queries as dashboard
from app.extensions import db
from app.lifecycle import deadlines
from app.models import (
    Component,
    Concurrence,
    IssuePrecision,
    Recommendation,
    RecStatus,
    Report,
)
from app.pdf import data
from app.recommendations.queries import RecFilters, recommendation_list
from tests.conftest import EMAILS, user_by_email, visible_text
from tests.factories import make_recommendation, make_report

pytestmark = pytest.mark.usefixtures("on_november_16")
TODAY = date(2026, 11, 16)
INTERVAL = 90
ISSUED = date(2024, 1, 15)  # response due April 14, 2024; six months on July 15, 2024
GAO = date(2025, 1, 15)  # one year after ISSUED


# --- the registry's rule, on plain values -------------------------------------------------


@pytest.mark.parametrize(
    ("tracked_since", "resolution_due"),
    [
        (None, date(2024, 7, 15)),  # no tracking date known: runs from issuance
        (date(2024, 7, 14), date(2024, 7, 15)),  # the day before the due date: runs
        (date(2024, 7, 15), date(2024, 7, 15)),  # tracked on the due date: runs
        (date(2024, 7, 16), None),  # the day after: fell before tracking, not recorded
    ],
)
def test_resolution_before_tracking_does_not_run_gao_ig_act_stays(tracked_since, resolution_due) -> None:
    due = deadlines.rec_due_dates(RecStatus.OPEN_UNRESOLVED, ISSUED, tracked_since)
    assert due == deadlines.RecDueDates(resolution_due=resolution_due, gao_ig_act_from=GAO)


def _part(**state):
    values = {
        "status": RecStatus.OPEN_UNRESOLVED,
        "issued": ISSUED,
        "resolved_on": None,
        "response_state": "none",
        "response_due_on": None,
        "concurrence": "pending",
        "has_plan": False,
        "last_update_on": None,
        "closure_state": "none",
        "closure_state_on": None,
        "target_date": None,
        "interval_days": INTERVAL,
        **state,
    }
    return deadlines.addressee_due_dates(**values)


@pytest.mark.parametrize(
    ("tracked_since", "response_due"),
    [
        (date(2024, 4, 13), date(2024, 4, 14)),
        (date(2024, 4, 14), date(2024, 4, 14)),
        (date(2024, 4, 15), None),
    ],
)
def test_response_before_tracking_does_not_run(tracked_since, response_due) -> None:
    assert _part(tracked_since=tracked_since).response_due == response_due


@pytest.mark.parametrize(
    ("tracked_since", "target_due"),
    [
        (date(2026, 2, 28), date(2026, 3, 1)),
        (date(2026, 3, 1), date(2026, 3, 1)),
        (date(2026, 3, 2), None),
    ],
)
def test_target_date_before_tracking_does_not_run(tracked_since, target_due) -> None:
    part = _part(
        status=RecStatus.OPEN_RESOLVED,
        resolved_on=date(2025, 6, 1),
        concurrence="concur",
        has_plan=True,
        target_date=date(2026, 3, 1),
        last_update_on=date(2026, 10, 1),
        tracked_since=tracked_since,
    )
    assert part.target_due == target_due


@pytest.mark.parametrize(
    ("tracked_since", "update_due"),
    [
        # resolved July 1, 2026: the next update is due September 29, 2026 (90 days)
        (date(2026, 9, 28), date(2026, 9, 29)),
        (date(2026, 9, 29), date(2026, 9, 29)),
        # due before tracking: the first update is due 90 days after September 30, 2026
        (date(2026, 9, 30), date(2026, 12, 29)),
    ],
)
def test_first_update_after_tracking_is_due_one_interval_after_it(tracked_since, update_due) -> None:
    part = _part(
        status=RecStatus.OPEN_RESOLVED,
        resolved_on=date(2026, 7, 1),
        concurrence="concur",
        has_plan=True,
        tracked_since=tracked_since,
    )
    assert part.update_due == update_due


# --- page, list filter, dashboard count and PDF agree ---------------------------------------


def _fema() -> Component:
    found = db.session.scalar(sa.select(Component).where(Component.abbreviation == "FEMA"))
    assert found is not None
    return found


def _make(tracked_since: date, **fields) -> Recommendation:
    report = make_report(issued_on=ISSUED, components=[_fema()])
    rec = make_recommendation(report, [_fema()], tracked_since=tracked_since, with_history=True, **fields)
    db.session.commit()
    return rec


def _listed(name: str, **filters) -> set[int]:
    oig = user_by_email(EMAILS["oig"])
    stmt = recommendation_list(oig, RecFilters(clock=name, **filters), TODAY, INTERVAL)
    return {r.id for r in db.session.scalars(stmt).unique()}


def _agree(rec: Recommendation, name: str, late: bool, *, pdf_too: bool = True) -> None:
    """The list filter, the dashboard count and the portfolio PDF (history replayed;
    pdf_too=False for a record made without its steps' history) hold `rec` exactly when
    `late`."""
    oig = user_by_email(EMAILS["oig"])
    listed = _listed(name)
    assert (rec.id in listed) is late
    assert dashboard.build(db.session, oig, TODAY, INTERVAL).overdue[name] == len(listed)
    if pdf_too:
        filters = RecFilters(clock=name, report_id=rec.report_id)
        pdf = data.portfolio(db.session, oig, filters, TODAY, INTERVAL, 100)
        assert [line.rec.id for line in pdf.lines] == ([rec.id] if late else [])


@pytest.mark.parametrize(
    ("tracked_since", "late", "words"),
    [
        # April 14, 2024 to November 16, 2026: 365 + 365 + 216 days
        (date(2024, 4, 13), True, "Response overdue by 946 days"),
        (date(2024, 4, 14), True, "Response overdue by 946 days"),
        (
            date(2024, 4, 15),
            False,
            "Response was due April 14, 2024, before RecTrack began tracking this "
            "recommendation on April 15, 2024: not recorded.",
        ),
    ],
)
def test_response_page_filter_dashboard_and_pdf_agree(as_role, tracked_since, late, words) -> None:
    rec = _make(tracked_since)
    _agree(rec, "response_overdue", late)
    page = visible_text(as_role("oig").get(f"/recommendations/{rec.id}"))
    assert words in page
    assert ("Response overdue" in page) is late
    # the resolution (July 15, 2024) falls after each of these days: it runs in all three
    assert rec.id in _listed("resolution_overdue")


@pytest.mark.parametrize(
    ("tracked_since", "late"),
    [(date(2024, 7, 14), True), (date(2024, 7, 15), True), (date(2024, 7, 16), False)],
)
def test_resolution_page_filter_dashboard_and_pdf_agree(as_role, tracked_since, late) -> None:
    rec = _make(tracked_since)
    _agree(rec, "resolution_overdue", late)
    _agree(rec, "response_overdue", False)  # April 14, 2024: before each of these days
    page = visible_text(as_role("oig").get(f"/recommendations/{rec.id}"))
    not_recorded = (
        "Resolution was due July 15, 2024, before RecTrack began tracking this recommendation "
        "on July 16, 2024: not recorded."
    )
    assert (not_recorded in page) is not late
    assert ("Resolution overdue" in page) is late
    # a fact about the issue date, kept: open one year or more (from January 15, 2025)
    assert rec.id in _listed("gao_ig_act")


@pytest.mark.parametrize(
    ("tracked_since", "late", "words"),
    [
        (date(2026, 9, 29), True, "Update overdue by 48 days"),  # due September 29, 2026
        (date(2026, 9, 30), False, "Update due in 43 days"),  # due December 29, 2026
    ],
)
def test_update_after_tracking_runs(as_role, tracked_since, late, words) -> None:
    fema = _fema()
    report = make_report(issued_on=date(2026, 3, 2), components=[fema])
    rec = make_recommendation(
        report,
        [(fema, {"concurrence": Concurrence.CONCUR, "corrective_action_plan": "A plan."})],
        status=RecStatus.OPEN_RESOLVED,
        resolved_on=date(2026, 7, 1),
        tracked_since=tracked_since,
    )
    db.session.commit()
    _agree(rec, "update_overdue", late, pdf_too=False)
    assert (rec.id in _listed("update_due")) is late  # December 29 is 43 days away
    page = visible_text(as_role("oig").get(f"/recommendations/{rec.id}"))
    assert words in page
    assert ("An update was due September 29, 2026" in page) is not late


def test_update_due_soon_boundary_after_tracking() -> None:
    """Tracked since September 30, 2026: the first update is due December 29, 2026, 43
    days away: outside "due within 30 days"."""
    fema = _fema()
    report = make_report(issued_on=date(2026, 3, 2), components=[fema])
    rec = make_recommendation(
        report,
        [(fema, {"concurrence": Concurrence.CONCUR, "corrective_action_plan": "A plan."})],
        status=RecStatus.OPEN_RESOLVED,
        resolved_on=date(2026, 7, 1),
        tracked_since=date(2026, 9, 30),
    )
    db.session.commit()
    assert rec.id not in _listed("update_due")


# --- history from before RecTrack: dashboard, list filter, PDF ---------------------------------


def _before_tracking_list(user_key: str) -> set[int]:
    user = user_by_email(EMAILS[user_key])
    stmt = recommendation_list(user, RecFilters(status="open", before_tracking=True), TODAY, INTERVAL)
    return {r.id for r in db.session.scalars(stmt).unique()}


@pytest.mark.parametrize("role", ["oig", "viewer"])
def test_dashboard_counts_open_recommendations_with_history_from_before_tracking(as_role, role) -> None:
    user = user_by_email(EMAILS[role])
    before = dashboard.build(db.session, user, TODAY, INTERVAL).before_tracking
    assert before == len(_before_tracking_list(role)) == 0  # the base data: tracked from issuance
    fema = _fema()
    report = make_report(issued_on=ISSUED, components=[fema])
    from_issuance = make_recommendation(report, [fema], tracked_since=ISSUED)  # not counted
    later_open = make_recommendation(report, [fema], tracked_since=date(2024, 1, 16))  # counted
    later_closed = make_recommendation(
        report,
        [fema],
        tracked_since=date(2025, 1, 1),
        status=RecStatus.CLOSED_IMPLEMENTED,
        closed_on=date(2025, 6, 1),
    )
    db.session.commit()
    after = dashboard.build(db.session, user, TODAY, INTERVAL).before_tracking
    assert after == 1
    listed = _before_tracking_list(role)
    assert len(listed) == after
    assert later_open.id in listed
    assert from_issuance.id not in listed
    assert later_closed.id not in listed
    page = as_role(role).get("/").get_data(as_text=True)
    assert "history=before_tracking" in page
    assert "1 open recommendation has history from before RecTrack" in visible_text(as_role(role).get("/"))
    listing = visible_text(as_role(role).get("/recommendations?status=open&history=before_tracking"))
    assert "with history from before RecTrack" in listing


def test_portfolio_pdf_counts_and_marks_rows_with_history_from_before_tracking() -> None:
    oig = user_by_email(EMAILS["oig"])
    fema = _fema()
    report = make_report(issued_on=ISSUED, components=[fema])
    tracked_late = make_recommendation(report, [fema], tracked_since=date(2024, 1, 16), with_history=True)
    from_issuance = make_recommendation(report, [fema], tracked_since=ISSUED, with_history=True)
    db.session.commit()
    pdf = data.portfolio(db.session, oig, RecFilters(report_id=report.id), TODAY, INTERVAL, 100)
    assert pdf.summary.before_tracking_open == 1
    gao = {line.rec.id: line.before_tracking for line in pdf.tables.gao_ig_act}
    assert gao == {tracked_late.id: True, from_issuance.id: False}


# --- the real record: no overdue response or resolution from before tracking ------------------


def test_seeded_record_has_no_overdue_response_or_resolution_from_before_tracking(as_role) -> None:
    from app.audit import AuditActor
    from app.seed.services import load_seed

    load_day = date(2026, 11, 2)
    load_seed(db.session, AuditActor.system("tests"), today=load_day)
    db.session.commit()
    loaded_open = set(
        db.session.scalars(
            sa.select(Recommendation.id)
            .join(Report)
            .where(
                Recommendation.tracked_since == load_day,
                Recommendation.status.in_(RecStatus.open_values()),
            )
        )
    )
    assert loaded_open  # the real record has open recommendations issued years ago
    for name in ("response_overdue", "resolution_overdue"):
        assert not (_listed(name) & loaded_open), name
    # every real report was issued before the load day: all of them carry such history
    for role in ("oig", "viewer"):
        assert loaded_open <= _before_tracking_list(role)
    text = visible_text(as_role("viewer").get("/"))
    assert "have history from before RecTrack" in text


# --- approximate clocks for imprecise dates --------------------------------------------------


@pytest.mark.parametrize(
    ("precision", "words"),
    [
        (IssuePrecision.DAY, "Response due in 43 days"),
        (IssuePrecision.MONTH, "Response due about December 2026 (the issue date is approximate)"),
        (IssuePrecision.FISCAL_YEAR, "Response due about December 2026 (the issue date is approximate)"),
    ],
)
def test_month_and_fiscal_year_issue_dates_give_approximate_clocks(precision, words) -> None:
    # September 30, 2026 (the last day of September 2026 and of FY2026): response due
    # December 29, 2026, 43 days after November 16
    report = make_report(issued_on=date(2026, 9, 30), components=[_fema()], issued_precision=precision)
    rec = make_recommendation(report, [_fema()])
    db.session.flush()
    assert deadlines.issue_date_approximate(rec) is (precision != IssuePrecision.DAY)
    clocks = deadlines.addressee_clocks(rec, rec.addressees[0], report.issued_on, TODAY, INTERVAL)
    assert clocks.response is not None
    assert clocks.response.text == words


# --- significant: "Not listed" where the source does not say ------------------------------


def test_a_real_recommendation_whose_source_lists_no_significance_shows_not_listed(as_role) -> None:
    from app.audit import AuditActor
    from app.seed.services import load_seed
    from tests.conftest import rec

    load_seed(db.session, AuditActor.system("tests"), today=date(2026, 11, 2))
    db.session.commit()
    # the file gives no `significant` for OIG-12-15's recommendations; OIG-24-56 #1 says false
    unlisted, listed = rec("OIG-12-15", 1), rec("OIG-24-56", 1)
    assert (unlisted.significant, listed.significant) == (None, False)
    client = as_role("viewer")
    assert "Significant Not listed" in visible_text(client.get(f"/recommendations/{unlisted.id}"))
    assert "Significant No" in visible_text(client.get(f"/recommendations/{listed.id}"))
    # "Not significant" is a listed "no", not a missing value
    shown = visible_text(client.get(f"/recommendations?significant=no&report={unlisted.report_id}"))
    assert "No recommendations match" in shown


def test_significant_not_listed_is_shown_in_the_edit_form_and_on_the_page(as_role) -> None:
    fema = _fema()
    rec_id = make_recommendation(make_report(components=[fema]), [fema], significant=None).id
    db.session.commit()
    client = as_role("oig")
    form = client.get(f"/recommendations/{rec_id}/edit").get_data(as_text=True)
    assert re.search(r'<option (selected value=""|value="" selected)>Not listed', form)
    assert "Significant Not listed" in visible_text(client.get(f"/recommendations/{rec_id}"))


def test_import_keeps_a_blank_significant_as_not_listed() -> None:
    from app import clock
    from app.audit import AuditActor
    from app.imports.reader import read_sheet
    from app.imports.services import run_import
    from tests.test_imports_exports import _csv, _new_rows

    rows = _new_rows()
    rows[0]["rec_significant"] = ""
    rows[-1]["rec_significant"] = "yes"
    data = _csv([{**row, "rec_significant": row.get("rec_significant", "")} for row in rows])
    result = run_import(
        db.session,
        AuditActor.system("tests: imports"),
        read_sheet(data),
        filename="sig.csv",
        data=data,
        commit=True,
        today=clock.today(),
    )
    assert result.problems == []
    found = db.session.execute(
        sa.select(Recommendation.number, Recommendation.significant)
        .join(Report)
        .where(Report.number == "OIG-99-01")
        .order_by(Recommendation.number)
    ).all()
    assert [tuple(r) for r in found] == [(1, None), (2, True)]


@pytest.mark.parametrize(
    ("tracked_since", "queued"),
    [
        (date(2024, 4, 13), True),  # tracked before the response fell due: its clock runs
        (date(2024, 4, 15), True),  # due April 14, before tracking: owed still, no clock
    ],
)
def test_a_response_owed_from_before_tracking_stays_in_the_liaisons_queue(tracked_since, queued) -> None:
    """The response is still owed though RecTrack does not know whether it was late: the
    FEMA liaison's "Responses due" queue lists it either way; once it is in, it leaves."""
    from app.lifecycle.queries import queues_for
    from app.models import Addressee, ResponseState

    rec = _make(tracked_since)
    rec_id = rec.id
    fema_liaison = user_by_email(EMAILS["fema"])

    def responses_due() -> set[int]:
        queue = next(q for q in queues_for(fema_liaison, TODAY, INTERVAL) if q.key == "responses_due")
        return {a.recommendation_id for a in db.session.scalars(queue.stmt).unique()}

    assert (rec_id in responses_due()) is queued
    part = db.session.scalars(sa.select(Addressee).where(Addressee.recommendation_id == rec_id)).one()
    part.response_state = ResponseState.SUBMITTED
    db.session.flush()
    assert rec_id not in responses_due()
