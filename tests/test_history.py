"""History: every step is an event, and any past date's state can be rebuilt from them.
(The transition table itself is written out in tests/test_transition_table.py.)

The recommendation is the test's own (tests/factories.py), issued like CPG-502 (OIG-12-15
#3) on December 6, 2011 to I&A (which did not concur) and FEMA (which did)."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.lifecycle import workflow
from app.lifecycle.history import state_as_of, states_as_of
from app.lifecycle.workflow import Context, ResponseData, UpdateData
from app.models import (
    ClosureState,
    Concurrence,
    EventKind,
    Recommendation,
    RecommendationEvent,
    RecStatus,
    ResponseState,
)
from tests.conftest import EMAILS, rec, user_by_email
from tests.factories import load_recommendation, make_recommendation, make_report
from tests.states import component

ISSUED = date(2011, 12, 6)
_MADE: dict[str, int] = {}


@pytest.fixture(autouse=True)
def made_cpg() -> None:
    """Each test's recommendation, with the history of its issuance."""
    made = make_recommendation(
        make_report(issued_on=ISSUED),
        addressees=[
            (component("I&A"), {"concurrence": Concurrence.NON_CONCUR}),
            (component("FEMA"), {"concurrence": Concurrence.CONCUR}),
        ],
        lead=False,
        with_history=True,
    )
    _MADE["cpg"] = made.id


def _cpg() -> Recommendation:
    return load_recommendation(_MADE["cpg"])


def _ctx(role: str, day: date) -> Context:
    return Context(user=user_by_email(EMAILS[role]), today=day)


def _rows(r):
    return {a.component.abbreviation: a for a in r.addressees}


def _walk_cpg_502() -> int:
    """Take the recommendation through a realistic history on chosen dates; return its id."""
    cpg = _cpg()
    fema = _rows(cpg)["FEMA"]
    workflow.submit_response(
        db.session,
        _ctx("fema", date(2012, 2, 20)),
        cpg,
        fema,
        ResponseData(Concurrence.PARTIAL, "FEMA partly concurs.", "Plan A", date(2012, 12, 31), "Director"),
    )
    workflow.submit_response(  # revised a week later: full concurrence, later date
        db.session,
        _ctx("fema", date(2012, 2, 27)),
        cpg,
        fema,
        ResponseData(Concurrence.CONCUR, "FEMA concurs.", "Plan B", date(2013, 6, 30), "Director"),
    )
    workflow.resolve(db.session, _ctx("oig", date(2012, 5, 1)), cpg, "Plan B is responsive.")
    workflow.post_update(
        db.session,
        _ctx("fema", date(2013, 5, 15)),
        cpg,
        fema,
        UpdateData("Delayed by the budget.", date(2014, 3, 31), "FY13 sequestration"),
    )
    workflow.request_closure(db.session, _ctx("fema", date(2014, 4, 2)), cpg, fema, "Done.")
    workflow.close(db.session, _ctx("oig", date(2014, 6, 1)), cpg, implemented=True, note="Verified.")
    workflow.reopen(db.session, _ctx("oig", date(2016, 1, 4)), cpg, "Guidance withdrawn.")
    db.session.commit()
    return cpg.id


@pytest.mark.parametrize(
    ("as_of", "status", "fema_concurrence", "fema_target"),
    [
        (date(2011, 12, 5), None, None, None),  # before issuance
        (
            date(2011, 12, 6),
            RecStatus.OPEN_UNRESOLVED,
            Concurrence.CONCUR,
            None,
        ),  # as issued: report's concurrence
        (date(2012, 2, 20), RecStatus.OPEN_UNRESOLVED, Concurrence.PARTIAL, date(2012, 12, 31)),
        (date(2012, 2, 26), RecStatus.OPEN_UNRESOLVED, Concurrence.PARTIAL, date(2012, 12, 31)),
        (date(2012, 2, 27), RecStatus.OPEN_UNRESOLVED, Concurrence.CONCUR, date(2013, 6, 30)),
        (date(2012, 4, 30), RecStatus.OPEN_UNRESOLVED, Concurrence.CONCUR, date(2013, 6, 30)),
        (date(2012, 5, 1), RecStatus.OPEN_RESOLVED, Concurrence.CONCUR, date(2013, 6, 30)),
        (date(2013, 5, 15), RecStatus.OPEN_RESOLVED, Concurrence.CONCUR, date(2014, 3, 31)),
        (date(2014, 5, 31), RecStatus.OPEN_RESOLVED, Concurrence.CONCUR, date(2014, 3, 31)),
        (date(2014, 6, 1), RecStatus.CLOSED_IMPLEMENTED, Concurrence.CONCUR, date(2014, 3, 31)),
        (date(2016, 1, 3), RecStatus.CLOSED_IMPLEMENTED, Concurrence.CONCUR, date(2014, 3, 31)),
        (date(2016, 1, 4), RecStatus.OPEN_UNRESOLVED, Concurrence.CONCUR, date(2014, 3, 31)),
    ],
)
def test_state_as_of_a_past_date(as_of, status, fema_concurrence, fema_target) -> None:
    rec_id = _walk_cpg_502()
    fema_id = _rows(_cpg())["FEMA"].id
    ia_id = _rows(_cpg())["I&A"].id
    state = state_as_of(db.session, rec_id, as_of)
    assert state.status == status
    assert state.concurrence[fema_id] == (fema_concurrence or Concurrence.PENDING)
    assert state.target_date.get(fema_id) == fema_target
    if status is not None:
        assert state.concurrence[ia_id] == Concurrence.NON_CONCUR  # I&A never changed its answer


def test_states_for_many_recommendations_in_a_fixed_number_of_queries() -> None:
    cpg_id = _walk_cpg_502()
    report = load_recommendation(cpg_id).report
    untouched = make_recommendation(report, addressees=[component("I&A")], with_history=True).id
    later = make_recommendation(
        make_report(issued_on=date(2023, 1, 10)), addressees=[component("FEMA")], with_history=True
    ).id
    statements = []
    engine_conn = db.session.connection()

    @sa.event.listens_for(engine_conn, "before_cursor_execute")
    def count(*_args: object) -> None:
        statements.append(1)

    try:
        states = states_as_of(db.session, date(2013, 1, 1))
    finally:
        sa.event.remove(engine_conn, "before_cursor_execute", count)
    assert len(statements) <= 4
    assert states[cpg_id].status == RecStatus.OPEN_RESOLVED
    assert states[untouched].status == RecStatus.OPEN_UNRESOLVED
    assert later not in states  # issued in 2023: not yet on 2013-01-01


def test_replay_up_to_today_matches_the_current_record() -> None:
    rec_id = _walk_cpg_502()
    current = _cpg()
    snapshot = state_as_of(db.session, rec_id, clock.today())
    assert snapshot.status == current.status
    assert snapshot.resolved_on == current.resolved_on
    assert snapshot.closed_on == current.closed_on
    assert snapshot.decision_note == current.decision_note
    fields = (
        "concurrence",
        "response",
        "response_state",
        "corrective_action_plan",
        "target_date",
        "responsible_official",
        "last_update_on",
        "closure_state",
        "closure_justification",
    )
    for part in snapshot.addressees:
        row = next(a for a in current.addressees if a.id == part.id)
        assert {f: getattr(part, f) for f in fields} == {f: getattr(row, f) for f in fields}


def test_replay_shows_the_plan_and_updates_of_the_date() -> None:
    rec_id = _walk_cpg_502()
    fema_id = _rows(_cpg())["FEMA"].id
    on = state_as_of(db.session, rec_id, date(2012, 2, 21))
    fema = next(a for a in on.addressees if a.id == fema_id)
    assert fema.corrective_action_plan == "Plan A"
    assert fema.response == "FEMA partly concurs."
    assert fema.response_state == ResponseState.SUBMITTED
    later = state_as_of(db.session, rec_id, date(2014, 4, 3))
    fema = next(a for a in later.addressees if a.id == fema_id)
    assert fema.corrective_action_plan == "Plan B"
    assert fema.response_state == ResponseState.ACCEPTED
    assert fema.closure_state == ClosureState.REQUESTED
    assert [u.note for u in later.updates] == ["Delayed by the budget."]
    before = state_as_of(db.session, rec_id, date(2012, 1, 1))
    assert next(a for a in before.addressees if a.id == fema_id).response == ""


def test_events_are_append_only() -> None:
    _walk_cpg_502()
    event = db.session.scalars(sa.select(RecommendationEvent).limit(1)).one()
    event.note = "rewritten"
    with pytest.raises(Exception, match="append-only"):
        db.session.flush()


# --- the transition table: tests/test_transition_table.py writes it out -----------------


def test_allowed_mirrors_check() -> None:
    cpg = _cpg()
    fema_user = user_by_email(EMAILS["fema"])
    fema = _rows(cpg)["FEMA"]
    assert workflow.allowed("submit_response", fema_user, cpg, fema)
    assert not workflow.allowed("submit_response", fema_user, cpg, _rows(cpg)["I&A"])
    assert not workflow.allowed("resolve", fema_user, cpg)


def test_history_entries_write_every_date_the_same_way(as_role) -> None:
    """ "2013-06-30 → March 31, 2014" mixed two formats; every date in an entry reads
    like "March 31, 2014", including when it was recorded."""
    rec_id = _walk_cpg_502()
    page = as_role("oig").get(f"/recommendations/{rec_id}").get_data(as_text=True)
    history = page[
        page.index('id="history-heading"') : page.index("</section>", page.index('id="history-heading"'))
    ]
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", history)))
    assert "Target completion date: December 31, 2012 → June 30, 2013" in text
    assert "Target completion date: June 30, 2013 → March 31, 2014 (FY13 sequestration)" in text
    assert re.findall(r"\d{4}-\d{2}-\d{2}", text) == []
    recorded = re.findall(r"\), recorded ([A-Z][a-z]+ \d{1,2}, \d{4}, \d{2}:\d{2} UTC)", text)
    assert len(recorded) == text.count("), recorded ") >= 8  # issuance, two responses, five steps


def test_replay_reads_events_recorded_without_details() -> None:
    """Events written before their details were kept (and the demo generator's) replay
    with defaults: no plan or official, the target date from `target_date_after` only, a
    revised response due 30 days after a return and 90 days after a reopening."""
    cpg = rec("OIG-12-15", 3)
    fema = _rows(cpg)["FEMA"]
    bare = [
        (EventKind.RESPONSE_SUBMITTED, date(2030, 1, 10), None, Concurrence.CONCUR, date(2031, 1, 1)),
        (EventKind.RESPONSE_RETURNED, date(2030, 2, 1), None, None, None),
        (EventKind.REOPENED, date(2030, 3, 1), RecStatus.OPEN_UNRESOLVED, None, None),
    ]
    for kind, day, status, concurrence, target in bare:
        db.session.add(
            RecommendationEvent(
                recommendation=cpg,
                addressee=None if kind == EventKind.REOPENED else fema,
                kind=kind,
                actor_label="tests",
                actor_role="system",
                effective_on=day,
                status_after=status,
                concurrence_after=concurrence,
                target_date_after=target,
                note=f"{kind.label}.",
                details={},
            )
        )
    db.session.flush()
    part = {
        a.component.abbreviation: a for a in state_as_of(db.session, cpg.id, date(2030, 1, 10)).addressees
    }
    fema_then = part["FEMA"]
    assert (
        fema_then.response,
        fema_then.response_date,
        fema_then.response_state,
        fema_then.concurrence,
        fema_then.corrective_action_plan,
        fema_then.responsible_official,
        fema_then.target_date,
    ) == (
        "Response submitted.",
        date(2030, 1, 10),
        ResponseState.SUBMITTED,
        Concurrence.CONCUR,
        "",
        "",
        date(2031, 1, 1),
    )
    returned = next(
        a for a in state_as_of(db.session, cpg.id, date(2030, 2, 1)).addressees if a.id == fema.id
    )
    assert (returned.response_state, returned.response_due_on) == (ResponseState.RETURNED, date(2030, 3, 3))
    reopened = state_as_of(db.session, cpg.id, date(2030, 3, 1))
    assert reopened.status == RecStatus.OPEN_UNRESOLVED
    assert {a.response_due_on for a in reopened.addressees} == {date(2030, 5, 30)}
