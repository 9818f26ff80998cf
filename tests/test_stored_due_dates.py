"""The due dates stored on recommendations and addressees (README, "Where each clock is
defined"): the session hook stores them after every kind of change, the page clock, the
list filter and the stored column agree the day before, on and after each due date, and
`flask --app app deadlines recompute` refreshes them after the update interval changes.

Every expected date below was worked out by hand from a calendar.
"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from app import audit, clock
from app.demo.generator import generate
from app.extensions import db
from app.lifecycle import deadlines, due_dates, history, workflow
from app.lifecycle.deadlines import DeadlinePolicy
from app.lifecycle.workflow import Context, ResponseData, UpdateData
from app.models import (
    Addressee,
    ClosureState,
    Component,
    Concurrence,
    Recommendation,
    RecStatus,
    Report,
    ReportType,
    ResponseState,
    Sensitivity,
    TextSource,
)
from app.recommendations.queries import RecFilters, recommendation_list
from tests.conftest import EMAILS, user_by_email

INTERVAL = 90  # TestingConfig's UPDATE_INTERVAL_DAYS
ISSUED = date(2024, 1, 15)
# from January 15, 2024: response due April 14, 2024 (90 days); resolution due July 15,
# 2024 (six months); GAO-IG Act list from January 15, 2025 (one year)


def _make(
    issued: date = ISSUED, concurrence: Concurrence = Concurrence.PENDING, tracked_since: date | None = None
) -> Recommendation:
    fema = db.session.scalar(sa.select(Component).where(Component.abbreviation == "FEMA"))
    report = Report(
        number="TEST-DUE-1",
        title="Stored due dates fixture",
        issued_on=issued,
        report_type=ReportType.AUDIT,
        sensitivity=Sensitivity.PUBLIC,
        components=[fema],
    )
    rec = Recommendation(
        number=1,
        text="Stored due dates fixture recommendation.",
        tracked_since=tracked_since or issued,
        text_source=TextSource.VERBATIM,
        addressees=[Addressee(component=fema, is_lead=True, concurrence=concurrence)],
    )
    report.recommendations.append(rec)
    db.session.add(report)
    db.session.flush()
    history.record_issuance(db.session, rec, audit.AuditActor.system("tests"))
    db.session.flush()
    return rec


def _ctx(role: str, day: date, **kwargs) -> Context:
    return Context(user_by_email(EMAILS[role]), day, **kwargs)


def _stored(rec: Recommendation | int) -> dict[str, date | None]:
    """The stored due dates as the database holds them (not the objects in the session)."""
    rec_id = rec if isinstance(rec, int) else rec.id
    r, a = Recommendation.__table__, Addressee.__table__
    row = (
        db.session.connection()
        .execute(sa.select(r.c.resolution_due, r.c.gao_ig_act_from).where(r.c.id == rec_id))
        .one()
    )
    part = (
        db.session.connection()
        .execute(
            sa.select(a.c.response_due, a.c.update_due, a.c.target_due).where(a.c.recommendation_id == rec_id)
        )
        .one()
    )
    return {
        "resolution_due": row.resolution_due,
        "gao_ig_act_from": row.gao_ig_act_from,
        "response_due": part.response_due,
        "update_due": part.update_due,
        "target_due": part.target_due,
    }


def _expect(**values: date | None) -> dict[str, date | None]:
    out: dict[str, date | None] = dict.fromkeys(
        ("resolution_due", "gao_ig_act_from", "response_due", "update_due", "target_due")
    )
    out.update(values)
    return out


def _respond(rec: Recommendation, day: date, target: date = date(2024, 12, 31)) -> None:
    workflow.submit_response(
        db.session,
        _ctx("fema", day),
        rec,
        rec.addressees[0],
        ResponseData(Concurrence.CONCUR, "FEMA concurs.", "A plan.", target, "Director"),
    )


def _agree_with_objects(rec: Recommendation) -> None:
    """The objects in the session carry the stored values too."""
    stored = _stored(rec)
    assert rec.resolution_due == stored["resolution_due"]
    assert rec.gao_ig_act_from == stored["gao_ig_act_from"]
    part = rec.addressees[0]
    assert (part.response_due, part.update_due, part.target_due) == (
        stored["response_due"],
        stored["update_due"],
        stored["target_due"],
    )


def test_the_hook_stores_the_due_dates_after_every_kind_of_change(app) -> None:
    rec = _make()
    assert _stored(rec) == _expect(
        response_due=date(2024, 4, 14), resolution_due=date(2024, 7, 15), gao_ig_act_from=date(2025, 1, 15)
    )
    _agree_with_objects(rec)

    _respond(rec, date(2024, 4, 1))  # a response in: no response clock; the target runs
    assert _stored(rec) == _expect(
        resolution_due=date(2024, 7, 15), gao_ig_act_from=date(2025, 1, 15), target_due=date(2024, 12, 31)
    )

    part = rec.addressees[0]
    workflow.return_response(db.session, _ctx("oig", date(2024, 4, 5)), rec, part, "Too vague.")
    # returned April 5: revised response due 30 days later, May 5
    assert _stored(rec)["response_due"] == date(2024, 5, 5)
    _agree_with_objects(rec)

    _respond(rec, date(2024, 4, 20))
    workflow.resolve(db.session, _ctx("oig", date(2024, 5, 1)), rec)
    # resolved May 1: no resolution clock; first update due 90 days later, July 30
    assert _stored(rec) == _expect(
        gao_ig_act_from=date(2025, 1, 15), update_due=date(2024, 7, 30), target_due=date(2024, 12, 31)
    )

    workflow.post_update(db.session, _ctx("fema", date(2024, 7, 1)), rec, part, UpdateData("Halfway."))
    assert _stored(rec)["update_due"] == date(2024, 9, 29)  # July 1 + 90 days

    moved = UpdateData("Slower.", new_target_date=date(2025, 3, 31), target_change_reason="Funding.")
    workflow.post_update(db.session, _ctx("fema", date(2024, 7, 10)), rec, part, moved)
    assert _stored(rec)["target_due"] == date(2025, 3, 31)
    assert _stored(rec)["update_due"] == date(2024, 10, 8)  # July 10 + 90 days

    workflow.request_closure(db.session, _ctx("fema", date(2024, 8, 1)), rec, part, "Done.")
    assert _stored(rec)["update_due"] is None  # paused while the OIG decides
    _agree_with_objects(rec)

    workflow.return_closure(db.session, _ctx("oig", date(2024, 8, 10)), rec, part, "Show the evidence.")
    assert _stored(rec)["update_due"] == date(2024, 11, 8)  # August 10 + 90 days

    workflow.close(db.session, _ctx("oig", date(2024, 9, 1)), rec, implemented=False, note="Abandoned.")
    assert _stored(rec) == _expect()  # closed: no clock runs
    _agree_with_objects(rec)

    workflow.reopen(db.session, _ctx("oig", date(2025, 1, 10)), rec, "The IG asked again.")
    # reopened January 10, 2025: a new response due 90 days later, April 10, 2025
    assert _stored(rec) == _expect(
        response_due=date(2025, 4, 10),
        resolution_due=date(2024, 7, 15),
        gao_ig_act_from=date(2025, 1, 15),
        target_due=date(2025, 3, 31),
    )
    _agree_with_objects(rec)


def test_a_non_concurrence_without_a_plan_owes_no_updates(app) -> None:
    rec = _make()
    workflow.submit_response(
        db.session,
        _ctx("fema", date(2024, 3, 1)),
        rec,
        rec.addressees[0],
        ResponseData(Concurrence.NON_CONCUR, "FEMA does not concur."),
    )
    workflow.resolve(db.session, _ctx("oig", date(2024, 4, 1)), rec)
    assert _stored(rec) == _expect(gao_ig_act_from=date(2025, 1, 15))


def test_closed_implemented_stops_every_clock(app) -> None:
    rec = _make()
    _respond(rec, date(2024, 3, 1))
    workflow.resolve(db.session, _ctx("oig", date(2024, 4, 1)), rec)
    assert _stored(rec)["update_due"] == date(2024, 6, 30)  # April 1 + 90 days
    workflow.request_closure(db.session, _ctx("fema", date(2024, 4, 20)), rec, rec.addressees[0], "Done.")
    workflow.close(db.session, _ctx("oig", date(2024, 5, 1)), rec, implemented=True)
    assert _stored(rec) == _expect()


def test_a_new_issue_date_moves_the_dates_counted_from_it(app) -> None:
    """An edit of the report alone (the recommendation row is not touched)."""
    rec = _make(tracked_since=date(2023, 8, 1))
    report = rec.report
    report.issued_on = date(2023, 8, 31)
    db.session.flush()
    # August 31, 2023: response due November 29, 2023; six months on February 29, 2024
    # (a leap year; the month's last day); one year on August 31, 2024
    assert _stored(rec) == _expect(
        response_due=date(2023, 11, 29), resolution_due=date(2024, 2, 29), gao_ig_act_from=date(2024, 8, 31)
    )
    _agree_with_objects(rec)


def test_editing_unrelated_text_writes_no_due_dates(app) -> None:
    """A flush that changes no clock's state issues no statement of the hook."""
    rec = _make()
    db.session.commit()
    statements: list[str] = []
    conn = db.session.connection()

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    sa.event.listen(conn, "before_cursor_execute", record)
    try:
        rec.text = "Stored due dates fixture recommendation, reworded."
        db.session.flush()
    finally:
        sa.event.remove(conn, "before_cursor_execute", record)
    written = [s for s in statements if s.startswith("UPDATE") and "_due" in s.split("WHERE")[0]]
    assert written == []
    assert not any("has_plan" in s for s in statements)  # the hook's state query
    assert any(s.startswith("UPDATE recommendations SET text") for s in statements)


# --- the page clock, the filter and the stored column agree at each boundary ------------


def _listed(name: str, day: date) -> set[int]:
    oig = user_by_email(EMAILS["oig"])
    rows = db.session.scalars(recommendation_list(oig, RecFilters(clock=name), day, INTERVAL)).unique()
    return {r.id for r in rows}


def _page_clock(rec: Recommendation, name: str, day: date):
    issued = rec.report.issued_on
    if name in ("resolution_overdue", "gao_ig_act"):
        rc = deadlines.recommendation_clocks(rec, issued, day)
        return rc.resolution if name == "resolution_overdue" else rc.gao_ig_act
    ac = deadlines.addressee_clocks(rec, rec.addressees[0], issued, day, INTERVAL)
    return {"response_overdue": ac.response, "update_overdue": ac.update, "update_due": ac.update}[name]


@pytest.mark.parametrize(
    ("name", "column", "day", "late"),
    [
        # response due April 14, 2024
        ("response_overdue", "response_due", date(2024, 4, 13), False),
        ("response_overdue", "response_due", date(2024, 4, 14), False),
        ("response_overdue", "response_due", date(2024, 4, 15), True),
        # resolution due July 15, 2024
        ("resolution_overdue", "resolution_due", date(2024, 7, 14), False),
        ("resolution_overdue", "resolution_due", date(2024, 7, 15), False),
        ("resolution_overdue", "resolution_due", date(2024, 7, 16), True),
        # one year open on January 15, 2025: the anniversary counts
        ("gao_ig_act", "gao_ig_act_from", date(2025, 1, 14), False),
        ("gao_ig_act", "gao_ig_act_from", date(2025, 1, 15), True),
        ("gao_ig_act", "gao_ig_act_from", date(2025, 1, 16), True),
    ],
)
def test_issue_date_clocks_agree_at_the_boundary(app, name: str, column: str, day: date, late: bool) -> None:
    rec = _make()
    stored = _stored(rec)[column]
    assert stored is not None
    page = _page_clock(rec, name, day)
    page_late = page if isinstance(page, bool) else page.overdue
    assert page_late is late
    assert (stored < deadlines.CLOCK_FILTERS_BY_NAME[name].cutoff(day)) is late
    assert (rec.id in _listed(name, day)) is late


@pytest.mark.parametrize(
    ("name", "day", "late"),
    [
        # resolved March 1, 2024: update due May 30, 2024
        ("update_overdue", date(2024, 5, 29), False),
        ("update_overdue", date(2024, 5, 30), False),
        ("update_overdue", date(2024, 5, 31), True),
        # due within 30 days from April 30, 2024
        ("update_due", date(2024, 4, 29), False),
        ("update_due", date(2024, 4, 30), True),
        ("update_due", date(2024, 5, 1), True),
    ],
)
def test_update_clock_agrees_at_the_boundary(app, name: str, day: date, late: bool) -> None:
    rec = _make()
    _respond(rec, date(2024, 2, 1))
    workflow.resolve(db.session, _ctx("oig", date(2024, 3, 1)), rec)
    assert _stored(rec)["update_due"] == date(2024, 5, 30)
    page = _page_clock(rec, name, day)
    page_late = page.overdue if name == "update_overdue" else page.days_left <= 30
    assert page_late is late
    assert deadlines.CLOCK_FILTERS_BY_NAME[name].matches(rec.addressees[0].update_due, day) is late
    assert (rec.id in _listed(name, day)) is late


@pytest.mark.parametrize(
    ("day", "late"),
    [(date(2024, 12, 30), False), (date(2024, 12, 31), False), (date(2025, 1, 1), True)],
)
def test_target_clock_agrees_at_the_boundary(app, day: date, late: bool) -> None:
    rec = _make()
    _respond(rec, date(2024, 2, 1))  # target December 31, 2024
    ac = deadlines.addressee_clocks(rec, rec.addressees[0], ISSUED, day, INTERVAL)
    assert ac.target is not None
    assert ac.target.overdue is late
    assert (_stored(rec)["target_due"] < day) is late
    assert (rec.id in _listed("target_overdue", day)) is late


def test_a_liaison_scope_narrows_to_its_own_part(app) -> None:
    """clock_criterion with `addressee_scope`: I&A's part late, FEMA's answered."""
    comps = {c.abbreviation: c for c in db.session.scalars(sa.select(Component))}
    rec = _make()
    rec.addressees.append(Addressee(component=comps["I&A"], concurrence=Concurrence.PENDING))
    db.session.flush()
    _respond(rec, date(2024, 3, 1))
    day = date(2024, 4, 15)  # the day after April 14
    crit = deadlines.clock_criterion
    ids = set(db.session.scalars(sa.select(Recommendation.id).where(crit("response_overdue", day))))
    assert rec.id in ids
    fema_only = crit("response_overdue", day, addressee_scope=Addressee.component_id == comps["FEMA"].id)
    assert rec.id not in set(db.session.scalars(sa.select(Recommendation.id).where(fema_only)))
    ia_only = crit("response_overdue", day, addressee_scope=Addressee.component_id == comps["I&A"].id)
    assert rec.id in set(db.session.scalars(sa.select(Recommendation.id).where(ia_only)))


# --- the one function on plain values (as the "as of" pages call it) -------------------


def test_the_function_takes_plain_values() -> None:
    due = deadlines.addressee_due_dates(
        status=RecStatus.OPEN_RESOLVED,
        issued=ISSUED,
        resolved_on=date(2024, 3, 1),
        response_state=ResponseState.ACCEPTED,
        response_due_on=None,
        concurrence=Concurrence.CONCUR,
        has_plan=True,
        last_update_on=date(2024, 4, 1),
        closure_state=ClosureState.RETURNED,
        closure_state_on=date(2024, 5, 1),
        target_date=date(2025, 6, 30),
        interval_days=60,
    )
    # the latest of March 1, April 1 and May 1, plus 60 days: June 30, 2024
    assert due == deadlines.AddresseeDueDates(
        response_due=None, update_due=date(2024, 6, 30), target_due=date(2025, 6, 30)
    )
    assert deadlines.rec_due_dates(RecStatus.CLOSED_IMPLEMENTED, ISSUED) == deadlines.RecDueDates(None, None)
    assert deadlines.rec_due_dates(None, ISSUED) == deadlines.RecDueDates(None, None)
    assert deadlines.rec_due_dates(RecStatus.OPEN_RESOLVED, date(2023, 2, 28)) == deadlines.RecDueDates(
        resolution_due=None, gao_ig_act_from=date(2024, 2, 28)
    )


# --- after a configuration change ---------------------------------------------------------


def test_recompute_after_the_update_interval_changes(app) -> None:
    rec = _make()
    _respond(rec, date(2024, 2, 1))
    workflow.resolve(db.session, _ctx("oig", date(2024, 3, 1)), rec)
    db.session.commit()
    rec_id = rec.id  # the command's app context closes the session: the objects go
    assert _stored(rec_id)["update_due"] == date(2024, 5, 30)  # 90 days
    app.config["UPDATE_INTERVAL_DAYS"] = 60
    try:
        result = app.test_cli_runner().invoke(args=["deadlines", "recompute"])
    finally:
        app.config["UPDATE_INTERVAL_DAYS"] = INTERVAL
    assert result.exit_code == 0, result.output
    assert _stored(rec_id)["update_due"] == date(2024, 4, 30)  # March 1 + 60 days
    assert "(update interval 60 days)" in result.output
    assert result.output.startswith("Due dates changed on 0 recommendations and "), result.output
    assert " and 0 addressees" not in result.output
    # and back: a second run with nothing changed reports no change
    again = app.test_cli_runner().invoke(args=["deadlines", "recompute"])
    assert _stored(rec_id)["update_due"] == date(2024, 5, 30)
    third = app.test_cli_runner().invoke(args=["deadlines", "recompute"])
    assert again.exit_code == third.exit_code == 0
    assert third.output.startswith("Due dates changed on 0 recommendations and 0 addressees"), third.output


def test_refresh_with_a_policy_of_the_session(app) -> None:
    """The hook computes with the session's settings when set (set_policy)."""
    due_dates.set_policy(db.session, DeadlinePolicy(update_interval_days=30))
    try:
        rec = _make()
        _respond(rec, date(2024, 2, 1))
        workflow.resolve(db.session, _ctx("oig", date(2024, 3, 1)), rec)
        assert _stored(rec)["update_due"] == date(2024, 3, 31)  # March 1 + 30 days
    finally:
        db.session.info.pop("rectrack.deadline_policy", None)


def test_every_stored_due_date_is_fresh(app) -> None:
    """The seed, the fixtures and synthetic data (bulk inserts, stamped by the generator)
    all hold what the function computes: a full refresh changes nothing."""
    generate(
        db.session.connection(),
        reports=20,
        recommendations=80,
        seed=7,
        today=clock.today(),
        allow_mixed=True,
    )
    recs, parts = due_dates.refresh(db.session.connection(), DeadlinePolicy())
    assert (recs, parts) == ({}, {})
    stored = db.session.scalar(sa.select(sa.func.count()).where(Addressee.response_due.is_not(None)))
    assert stored is not None
    assert stored > 0


def test_the_same_function_on_a_replayed_state_gives_the_dates_as_they_stood(app) -> None:
    """ "As of": the functions run on the state history.replay rebuilds, and on the last day
    they give exactly what the hook stored live."""
    rec = _make()
    part = rec.addressees[0]
    _respond(rec, date(2024, 4, 1))
    workflow.return_response(db.session, _ctx("oig", date(2024, 4, 5)), rec, part, "Too vague.")
    _respond(rec, date(2024, 4, 20))
    workflow.resolve(db.session, _ctx("oig", date(2024, 5, 1)), rec)
    workflow.request_closure(db.session, _ctx("fema", date(2024, 8, 1)), rec, part, "Done.")
    workflow.return_closure(db.session, _ctx("oig", date(2024, 8, 10)), rec, part, "Show the evidence.")
    db.session.flush()

    def as_of(day: date) -> dict[str, date | None]:
        snap = history.state_as_of(db.session, rec.id, day)
        rd, parts = deadlines.due_dates_of(snap, ISSUED, INTERVAL)
        return {**vars(rd), **vars(parts[part.id])}

    assert as_of(date(2024, 8, 10)) == _stored(rec)
    assert as_of(date(2024, 8, 10)) == _expect(
        gao_ig_act_from=date(2025, 1, 15), update_due=date(2024, 11, 8), target_due=date(2024, 12, 31)
    )
    assert as_of(date(2024, 3, 1)) == _expect(  # before any response
        response_due=date(2024, 4, 14), resolution_due=date(2024, 7, 15), gao_ig_act_from=date(2025, 1, 15)
    )
    assert as_of(date(2024, 4, 10))["response_due"] == date(2024, 5, 5)  # returned April 5
    assert as_of(date(2024, 8, 5))["update_due"] is None  # closure requested August 1: paused
    assert as_of(date(2024, 6, 1))["update_due"] == date(2024, 7, 30)  # resolved May 1


def test_the_function_takes_values_read_with_sql() -> None:
    """The enums as the values a row read with SQL holds."""
    due = deadlines.addressee_due_dates(
        status="open_unresolved",
        issued=ISSUED,
        resolved_on=None,
        response_state="returned",
        response_due_on=date(2024, 5, 5),
        concurrence="concur",
        has_plan=True,
        last_update_on=None,
        closure_state="none",
        closure_state_on=None,
        target_date=None,
        interval_days=INTERVAL,
    )
    assert due == deadlines.AddresseeDueDates(response_due=date(2024, 5, 5), update_due=None, target_due=None)
    assert deadlines.rec_due_dates("open_unresolved", ISSUED) == deadlines.RecDueDates(
        resolution_due=date(2024, 7, 15), gao_ig_act_from=date(2025, 1, 15)
    )


# --- an import writes through the same session: the hook covers it ------------------------


def _import_rows(issued: str) -> bytes:
    from tests.test_imports_exports import NEW_REPORT, _csv, _new_rows

    assert NEW_REPORT["report_number"] == "OIG-99-01"
    return _csv([{**row, "report_issued_on": issued} for row in _new_rows()])


def _run_import(data: bytes) -> None:
    from app.imports.reader import read_sheet
    from app.imports.services import run_import

    result = run_import(
        db.session,
        audit.AuditActor.system("tests: imports"),
        read_sheet(data),
        filename="due.csv",
        data=data,
        commit=True,
        today=clock.today(),
    )
    assert result.problems == []


def _imported() -> list[tuple[int, date | None, date | None, date | None]]:
    rows = db.session.execute(
        sa.select(Recommendation.number, Recommendation.resolution_due, Recommendation.gao_ig_act_from)
        .join(Report)
        .where(Report.number == "OIG-99-01")
        .order_by(Recommendation.number)
    ).all()
    return [tuple(r) for r in rows]


def _imported_responses() -> list[date | None]:
    return list(
        db.session.scalars(
            sa.select(Addressee.response_due)
            .join(Recommendation)
            .join(Report)
            .where(Report.number == "OIG-99-01")
            .order_by(Addressee.id)
        )
    )


def test_imported_records_get_their_due_dates_and_a_new_issue_date_moves_them(app) -> None:
    # tracked since the import (November 16, 2026): issue dates whose clocks fall due after it
    _run_import(_import_rows("2026-09-01"))
    # September 1, 2026: response due November 30; six months on March 1, 2027; one year on
    # September 1, 2027
    assert _imported() == [
        (1, date(2027, 3, 1), date(2027, 9, 1)),
        (2, date(2027, 3, 1), date(2027, 9, 1)),
    ]
    assert _imported_responses() == [date(2026, 11, 30)] * 3
    _run_import(_import_rows("2026-10-01"))
    # October 1, 2026: response due December 30; six months on April 1, 2027; one year on
    # October 1, 2027
    assert _imported() == [
        (1, date(2027, 4, 1), date(2027, 10, 1)),
        (2, date(2027, 4, 1), date(2027, 10, 1)),
    ]
    assert _imported_responses() == [date(2026, 12, 30)] * 3
    _run_import(_import_rows("2024-05-01"))
    # May 1, 2024 (before tracking began): the response (July 30, 2024) and resolution
    # (November 1, 2024) fell due before November 16, 2026: not running; the GAO-IG Act
    # listing (May 1, 2025) is a fact about the issue date and stays
    assert _imported() == [(1, None, date(2025, 5, 1)), (2, None, date(2025, 5, 1))]
    assert _imported_responses() == [None] * 3
