"""The deadline policy (README, "Deadline policy"): a reopened recommendation, a returned
response, a closure request, an approximate issue date and "more than 6 months".

Each case is checked the day before, on and after its boundary, and there the words on
the page (the clocks in words), the list filter (SQL), the dashboard count (SQL) and the
"as of" PDF (history replayed, Python) must agree. Every expected date and text below
was worked out by hand from a calendar.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app import audit
from app.dashboard import queries as dashboard
from app.extensions import db
from app.lifecycle import deadlines, history, workflow
from app.lifecycle.workflow import Context, ResponseData
from app.models import (
    Addressee,
    Component,
    Concurrence,
    Recommendation,
    Report,
    ReportType,
    Sensitivity,
    TextSource,
)
from app.pdf import data
from app.recommendations.queries import RecFilters, recommendation_list
from tests.conftest import EMAILS, submit, user_by_email, visible_text

INTERVAL = 90  # TestingConfig's UPDATE_INTERVAL_DAYS
ISSUED = date(2024, 1, 15)  # response due April 14, 2024; six months on July 15, 2024


def _make(
    issued: date = ISSUED, *, approximate: bool = False, concurrence: Concurrence = Concurrence.PENDING
):
    """A fresh public report with one recommendation addressed to FEMA, issued then."""
    fema = db.session.scalar(sa.select(Component).where(Component.abbreviation == "FEMA"))
    report = Report(
        number="TEST-DP-1",
        title="Deadline policy fixture",
        issued_on=issued,
        issued_on_approximate=approximate,
        report_type=ReportType.AUDIT,
        sensitivity=Sensitivity.PUBLIC,
        components=[fema],
    )
    rec = Recommendation(
        number=1,
        text="Deadline policy fixture recommendation.",
        tracked_since=issued,
        text_source=TextSource.VERBATIM,
        addressees=[Addressee(component=fema, is_lead=True, concurrence=concurrence)],
    )
    report.recommendations.append(rec)
    db.session.add(report)
    db.session.flush()
    history.record_issuance(db.session, rec, audit.AuditActor.system("tests"))
    db.session.commit()
    return rec


def _ctx(role: str, day: date, **kwargs) -> Context:
    return Context(user_by_email(EMAILS[role]), day, **kwargs)


def _respond(rec: Recommendation, day: date) -> None:
    workflow.submit_response(
        db.session,
        _ctx("fema", day),
        rec,
        rec.addressees[0],
        ResponseData(Concurrence.CONCUR, "FEMA concurs.", "A plan.", date(2024, 12, 31), "Director"),
    )


def _texts(rec: Recommendation, day: date) -> list[str]:
    """Every clock and note of the recommendation on that day, in words (as the page)."""
    issued = rec.report.issued_on
    rc = deadlines.recommendation_clocks(rec, issued, day)
    ac = deadlines.addressee_clocks(rec, rec.addressees[0], issued, day, INTERVAL)
    out = [c.text for c in (rc.resolution, ac.response, ac.update, ac.target) if c]
    return out + ([ac.no_update] if ac.no_update else [])


def _agree(rec: Recommendation, day: date, name: str, text: str, late: bool) -> None:
    """On `day`: the page says `text`; the list filter, the dashboard and the "as of" PDF
    hold the recommendation exactly when `late`."""
    db.session.commit()
    oig = user_by_email(EMAILS["oig"])
    assert text in _texts(rec, day), (day, _texts(rec, day))
    listed = (
        db.session.scalars(recommendation_list(oig, RecFilters(clock=name), day, INTERVAL)).unique().all()
    )
    assert (rec.id in {r.id for r in listed}) is late, day
    if name in dashboard.OVERDUE:  # the dashboard counts the late clocks, not "due soon"
        assert dashboard.build(db.session, oig, day, INTERVAL).overdue[name] == len(listed), day
    pdf = data.portfolio(db.session, oig, RecFilters(clock=name, report_id=rec.report_id), day, INTERVAL, 100)
    assert [line.rec.id for line in pdf.lines] == ([rec.id] if late else []), day


# --- reopened: a new response, due 90 days after the reopening --------------------------


def _reopened(on: date) -> Recommendation:
    rec = _make(concurrence=Concurrence.CONCUR)
    workflow.resolve(db.session, _ctx("oig", date(2024, 3, 1)), rec)
    workflow.close(db.session, _ctx("oig", date(2024, 6, 3)), rec, implemented=False, note="Abandoned.")
    workflow.reopen(db.session, _ctx("oig", on), rec, "The IG asked again.")
    return rec


@pytest.mark.parametrize(
    ("day", "text", "late"),
    [
        # reopened January 10, 2025: due April 10, 2025 (the original was due April 14, 2024)
        (date(2025, 2, 28), "Revised response due in 41 days", False),
        (date(2025, 4, 9), "Revised response due tomorrow", False),
        (date(2025, 4, 10), "Revised response due today", False),
        (date(2025, 4, 11), "Revised response overdue by 1 day", True),
    ],
)
def test_reopened_recommendation_owes_a_response_90_days_after_the_reopening(
    app, day: date, text: str, late: bool
) -> None:
    rec = _reopened(date(2025, 1, 10))
    _agree(rec, day, "response_overdue", text, late)
    assert rec.addressees[0].response_due_on == date(2025, 4, 10)


# --- returned response: a revised one due REVISED_RESPONSE_DAYS after the return ---------


@pytest.mark.parametrize(
    ("day", "text", "late"),
    [
        # returned April 5, 2024: due May 5, 2024 (the original was due April 14, 2024)
        (date(2024, 4, 20), "Revised response due in 15 days", False),
        (date(2024, 5, 4), "Revised response due tomorrow", False),
        (date(2024, 5, 5), "Revised response due today", False),
        (date(2024, 5, 6), "Revised response overdue by 1 day", True),
    ],
)
def test_returned_response_owes_a_revision_30_days_after_the_return(
    app, day: date, text: str, late: bool
) -> None:
    rec = _make()
    _respond(rec, date(2024, 4, 1))
    workflow.return_response(db.session, _ctx("oig", date(2024, 4, 5)), rec, rec.addressees[0], "Too vague.")
    _agree(rec, day, "response_overdue", text, late)


@pytest.mark.parametrize(
    ("day", "text", "late"),
    [
        # 45 days after April 5, 2024 is May 20, 2024
        (date(2024, 5, 19), "Revised response due tomorrow", False),
        (date(2024, 5, 20), "Revised response due today", False),
        (date(2024, 5, 21), "Revised response overdue by 1 day", True),
    ],
)
def test_revised_response_days_is_a_setting(app, day: date, text: str, late: bool) -> None:
    rec = _make()
    _respond(rec, date(2024, 4, 1))
    ctx = _ctx("oig", date(2024, 4, 5), revised_response_days=45)
    workflow.return_response(db.session, ctx, rec, rec.addressees[0], "Too vague.")
    _agree(rec, day, "response_overdue", text, late)


def test_the_return_form_uses_the_setting(app, as_role, today: date) -> None:
    rec = _make(issued=today - timedelta(days=200))
    workflow.submit_response(
        db.session,
        _ctx("fema", today),
        rec,
        rec.addressees[0],
        ResponseData(Concurrence.CONCUR, "FEMA concurs.", "A plan.", today + timedelta(days=300), "Director"),
    )
    db.session.commit()
    rec_id, part_id = rec.id, rec.addressees[0].id
    app.config["REVISED_RESPONSE_DAYS"] = 12
    try:
        client = as_role("oig")
        response = submit(
            client, f"/recommendations/{rec_id}/components/{part_id}/return", {"reason": "Vague."}
        )
        assert response.status_code in (302, 303), response.status_code
        page = visible_text(client.get(f"/recommendations/{rec_id}"))
    finally:
        app.config["REVISED_RESPONSE_DAYS"] = 30
    assert "Revised response due in 12 days" in page
    assert "Response overdue" not in page


# --- closure requested: the update clock pauses; a return restarts it --------------------


def test_closure_request_pauses_the_update_clock_and_a_return_restarts_it(app) -> None:
    rec = _make(concurrence=Concurrence.CONCUR)
    _respond(rec, date(2024, 1, 20))
    workflow.resolve(db.session, _ctx("oig", date(2024, 2, 1)), rec)  # update due May 1, 2024
    part = rec.addressees[0]
    _agree(rec, date(2024, 4, 19), "update_overdue", "Update due in 12 days", False)  # the day before

    workflow.request_closure(db.session, _ctx("fema", date(2024, 4, 20)), rec, part, "Done.")
    paused = "Progress updates paused: closure requested on April 20, 2024"
    for day in (date(2024, 4, 20), date(2024, 4, 21), date(2024, 5, 2)):  # on, after, past the due date
        _agree(rec, day, "update_overdue", paused, False)
        assert not any(t.startswith("Update") for t in _texts(rec, day))

    # returned June 10, 2024: the next update is due 90 days later, September 8, 2024
    workflow.return_closure(db.session, _ctx("oig", date(2024, 6, 10)), rec, part, "Show the evidence.")
    _agree(rec, date(2024, 9, 7), "update_overdue", "Update due tomorrow", False)
    _agree(rec, date(2024, 9, 8), "update_overdue", "Update due today", False)
    _agree(rec, date(2024, 9, 9), "update_overdue", "Update overdue by 1 day", True)
    # "due within 30 days or overdue" reads the same restarted clock
    _agree(rec, date(2024, 8, 8), "update_due", "Update due in 31 days", False)
    _agree(rec, date(2024, 8, 9), "update_due", "Update due in 30 days", True)


# --- approximate issue date: "about", never a day count -----------------------------------


APPROX = "(the issue date is approximate)"


@pytest.mark.parametrize(
    ("day", "text", "late"),
    [
        # issued about January 15, 2024: response due about April 14, 2024
        (date(2024, 4, 13), f"Response due about April 2024 {APPROX}", False),
        (date(2024, 4, 14), f"Response due about April 2024 {APPROX}", False),
        (date(2024, 4, 15), f"Response overdue since about April 2024 {APPROX}", True),
    ],
)
def test_approximate_issue_date_response_clock(app, day: date, text: str, late: bool) -> None:
    rec = _make(approximate=True)
    _agree(rec, day, "response_overdue", text, late)
    assert not any(re.search(r"\d+ days?\b|today|tomorrow", t) for t in _texts(rec, day))


@pytest.mark.parametrize(
    ("day", "text", "late"),
    [
        # six months after about January 15, 2024: about July 15, 2024
        (date(2024, 7, 14), f"Resolution due about July 2024 {APPROX}", False),
        (date(2024, 7, 15), f"Resolution due about July 2024 {APPROX}", False),
        (date(2024, 7, 16), f"Resolution overdue since about July 2024 {APPROX}", True),
    ],
)
def test_approximate_issue_date_resolution_clock(app, day: date, text: str, late: bool) -> None:
    rec = _make(approximate=True)
    _agree(rec, day, "resolution_overdue", text, late)


def test_revised_response_after_an_approximate_issue_date_is_exact(app) -> None:
    rec = _make(approximate=True)
    _respond(rec, date(2024, 4, 1))
    workflow.return_response(db.session, _ctx("oig", date(2024, 4, 5)), rec, rec.addressees[0], "Too vague.")
    _agree(rec, date(2024, 5, 6), "response_overdue", "Revised response overdue by 1 day", True)


# --- "more than 6 months": the PDF table, the filter and the dashboard ---------------------


@pytest.mark.parametrize(
    ("day", "more"),
    [
        (date(2024, 7, 14), False),
        (date(2024, 7, 15), False),  # exactly six months: not more
        (date(2024, 7, 16), True),
    ],
)
def test_more_than_6_months_means_one_thing(app, day: date, more: bool) -> None:
    rec = _make()
    text = "Resolution overdue by 1 day" if more else "Resolution due"
    assert any(t.startswith(text) for t in _texts(rec, day))
    _agree(rec, day, "resolution_overdue", _texts(rec, day)[0], more)
    oig = user_by_email(EMAILS["oig"])
    pdf = data.portfolio(db.session, oig, RecFilters(report_id=rec.report_id), day, INTERVAL, 100)
    assert [line.rec.id for line in pdf.tables.open_over_6_months] == ([rec.id] if more else [])


# --- the pages say it in words -------------------------------------------------------------


def test_pages_state_the_policy(app, as_role, today: date) -> None:
    """On the live page: a recommendation reopened 49 days ago, and a closure request."""
    rec = _make(issued=today - timedelta(days=800), concurrence=Concurrence.CONCUR)
    workflow.resolve(db.session, _ctx("oig", today - timedelta(days=700)), rec)
    workflow.close(db.session, _ctx("oig", today - timedelta(days=600)), rec, implemented=False, note="No.")
    workflow.reopen(db.session, _ctx("oig", today - timedelta(days=49)), rec, "Again.")
    db.session.commit()
    rec_id, report_id = rec.id, rec.report_id
    client = as_role("oig")
    page = visible_text(client.get(f"/recommendations/{rec_id}"))
    assert "Revised response due in 41 days" in page
    assert "Response overdue" not in page
    shown = visible_text(client.get(f"/recommendations?clock=response_overdue&report={report_id}"))
    assert "TEST-DP-1" not in shown
    shown = visible_text(client.get(f"/recommendations?report={report_id}"))
    assert "TEST-DP-1" in shown


def test_page_says_updates_are_paused(app, as_role, today: date) -> None:
    rec = _make(issued=today - timedelta(days=300), concurrence=Concurrence.CONCUR)
    workflow.resolve(db.session, _ctx("oig", today - timedelta(days=200)), rec)
    workflow.request_closure(
        db.session, _ctx("fema", today - timedelta(days=5)), rec, rec.addressees[0], "Done."
    )
    db.session.commit()
    rec_id = rec.id
    page = visible_text(as_role("oig").get(f"/recommendations/{rec_id}"))
    day = today - timedelta(days=5)
    assert f"Progress updates paused: closure requested on {day:%B} {day.day}, {day.year}" in page
    assert "Update overdue" not in page


def test_page_says_approximate_clocks_are_approximate(app, as_role, today: date) -> None:
    rec = _make(issued=today - timedelta(days=400), approximate=True)
    rec_id = rec.id
    page = visible_text(as_role("oig").get(f"/recommendations/{rec_id}"))
    assert "Response overdue since about" in page
    assert "Resolution overdue since about" in page
    assert "overdue by" not in page
    assert "open about 1–2 years" in page
    assert "(GAO-IG Act list; the issue date is approximate)" in page
