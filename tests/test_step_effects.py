"""What each lifecycle step writes: the recommendation's and each addressee's state after
the step, and the history event it appends, written out by hand. (Who may take a step
and when: tests/test_transition_table.py.)

The recommendation is the test's own (tests/factories.py), addressed like CPG-502 (OIG-12-15
#3) to I&A (which did not concur) and FEMA (which did); FEMA's liaison and OIG staff act.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask_login import AnonymousUserMixin

from app.auth.policy import Reader
from app.extensions import db
from app.lifecycle import workflow
from app.lifecycle.attachments import Upload
from app.lifecycle.steps import CloseData
from app.lifecycle.workflow import Context, ResponseData, UpdateData, WorkflowError
from app.locking import ConflictError, MissingVersionError
from app.models import ClosureState, Concurrence, EventKind, Recommendation, RecStatus, ResponseState, Role
from app.storage import FileBlobStore
from tests.conftest import EMAILS, user_by_email
from tests.factories import make_recommendation, make_report
from tests.states import component, row

DAY = date(2026, 3, 10)


def _ctx(role: str, day: date = DAY) -> Context:
    return Context(user=user_by_email(EMAILS[role]), today=day)


_MADE: dict[str, Recommendation] = {}


@pytest.fixture(autouse=True)
def made_cpg() -> Recommendation:
    """Each test's recommendation, on a report of its own."""
    _MADE["cpg"] = make_recommendation(
        make_report(issued_on=date(2011, 12, 6)),
        addressees=[
            (component("I&A"), {"concurrence": Concurrence.NON_CONCUR, "response": "Not ours."}),
            (component("FEMA"), {"concurrence": Concurrence.CONCUR}),
        ],
        lead=False,
    )
    return _MADE["cpg"]


def _cpg() -> Recommendation:
    return _MADE["cpg"]


def _part(cpg, abbreviation: str) -> dict:
    a = row(cpg, abbreviation)
    return {
        "concurrence": a.concurrence,
        "response": a.response,
        "response_date": a.response_date,
        "plan": a.corrective_action_plan,
        "target": a.target_date,
        "official": a.responsible_official,
        "response_state": a.response_state,
        "evaluation_note": a.evaluation_note,
        "last_update_on": a.last_update_on,
        "closure_state": a.closure_state,
        "closure_justification": a.closure_justification,
        "closure_note": a.closure_note,
    }


def _put(status: RecStatus, fema: dict, ia: dict | None = None) -> None:
    cpg = _cpg()
    cpg.status = status
    cpg.resolved_on = date(2012, 5, 1) if status != RecStatus.OPEN_UNRESOLVED else None
    cpg.closed_on = date(2014, 6, 1) if not status.is_open else None
    cpg.decision_note = "earlier note"
    for abbreviation, values in (("FEMA", fema), ("I&A", ia or {})):
        part = row(cpg, abbreviation)
        for name, value in values.items():
            setattr(part, name, value)
    db.session.flush()


def _by(event, role: str, part: str | None, day: date = DAY) -> None:
    """The event names who took the step, on which day, on whose part."""
    user = user_by_email(EMAILS[role])
    assert (event.actor_id, event.actor_label, event.effective_on) == (user.id, user.email, day)
    assert event.addressee_id == (row(_cpg(), part).id if part else None)
    assert event.details.get("component") == part


def _response(concurrence=Concurrence.CONCUR, target=date(2027, 1, 31)) -> ResponseData:
    return ResponseData(concurrence, "  FEMA concurs.  ", " Train staff. ", target, " Director ")


def test_submit_response_writes_the_response_and_marks_it_submitted() -> None:
    _put(RecStatus.OPEN_UNRESOLVED, {"response_state": ResponseState.RETURNED, "evaluation_note": "Why?"})
    cpg = _cpg()
    event = workflow.submit_response(db.session, _ctx("fema"), cpg, row(cpg, "FEMA"), _response())
    _by(event, "fema", "FEMA")
    assert _part(cpg, "FEMA") | {"closure_state": None} == {
        "concurrence": Concurrence.CONCUR,
        "response": "FEMA concurs.",
        "response_date": DAY,
        "plan": "Train staff.",
        "target": date(2027, 1, 31),
        "official": "Director",
        "response_state": ResponseState.SUBMITTED,
        "evaluation_note": "",
        "last_update_on": None,
        "closure_state": None,
        "closure_justification": "",
        "closure_note": "",
    }
    assert cpg.status == RecStatus.OPEN_UNRESOLVED
    assert row(cpg, "I&A").response_state == ResponseState.NONE
    assert (event.kind, event.effective_on, event.concurrence_after) == (
        EventKind.RESPONSE_SUBMITTED,
        DAY,
        Concurrence.CONCUR,
    )
    assert event.target_date_after == date(2027, 1, 31)
    assert event.note == "FEMA concurs."
    assert event.addressee is row(cpg, "FEMA")
    assert event.details["previous_target_date"] is None
    assert event.details["corrective_action_plan"] == "Train staff."
    assert event.details["responsible_official"] == "Director"
    assert event.details["target_date"] == "2027-01-31"


def test_a_second_response_is_a_revision_and_keeps_an_unchanged_target_out_of_the_event() -> None:
    _put(RecStatus.OPEN_UNRESOLVED, {})
    cpg = _cpg()
    first = workflow.submit_response(db.session, _ctx("fema"), cpg, row(cpg, "FEMA"), _response())
    second = workflow.submit_response(
        db.session, _ctx("fema", DAY + timedelta(days=1)), cpg, row(cpg, "FEMA"), _response()
    )
    assert (first.kind, second.kind) == (EventKind.RESPONSE_SUBMITTED, EventKind.RESPONSE_REVISED)
    assert second.target_date_after is None
    assert second.details["previous_target_date"] == "2027-01-31"
    assert row(cpg, "FEMA").response_date == DAY + timedelta(days=1)


def test_a_non_concurrence_needs_no_plan_and_the_target_date_may_be_today_not_yesterday() -> None:
    _put(RecStatus.OPEN_UNRESOLVED, {})
    cpg = _cpg()
    fema = row(cpg, "FEMA")
    workflow.submit_response(
        db.session, _ctx("fema"), cpg, fema, ResponseData(Concurrence.NON_CONCUR, "We disagree.")
    )
    assert (fema.concurrence, fema.target_date, fema.corrective_action_plan) == (
        Concurrence.NON_CONCUR,
        None,
        "",
    )
    workflow.submit_response(db.session, _ctx("fema"), cpg, fema, _response(target=DAY))
    assert fema.target_date == DAY
    with pytest.raises(WorkflowError) as caught:
        workflow.submit_response(
            db.session, _ctx("fema"), cpg, fema, _response(target=DAY - timedelta(days=1))
        )
    assert (caught.value.field, caught.value.message) == (
        "target_date",
        "The target completion date cannot be in the past.",
    )


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (ResponseData(Concurrence.PENDING, "x", "p", date(2027, 1, 1), "o"), "concurrence",
         "Say whether the component concurs."),
        (ResponseData(Concurrence.CONCUR, "  ", "p", date(2027, 1, 1), "o"), "response",
         "Enter the component's response."),
        (ResponseData(Concurrence.PARTIAL, "x", " ", date(2027, 1, 1), "o"), "corrective_action_plan",
         "Describe the corrective action plan."),
        (ResponseData(Concurrence.CONCUR, "x", "p", date(2027, 1, 1), " "), "responsible_official",
         "Name the official responsible for the plan."),
        (ResponseData(Concurrence.CONCUR, "x", "p", None, "o"), "target_date",
         "Give a target completion date for the plan."),
    ],
)  # fmt: skip
def test_an_incomplete_response_changes_nothing(data, field, message) -> None:
    _put(RecStatus.OPEN_UNRESOLVED, {})
    cpg = _cpg()
    before = _part(cpg, "FEMA")
    with pytest.raises(WorkflowError) as caught:
        workflow.submit_response(db.session, _ctx("fema"), cpg, row(cpg, "FEMA"), data)
    assert (caught.value.status, caught.value.field, caught.value.message) == (409, field, message)
    assert _part(cpg, "FEMA") == before


def test_accept_response_marks_only_that_response_accepted() -> None:
    _put(
        RecStatus.OPEN_UNRESOLVED,
        {"response_state": ResponseState.SUBMITTED},
        {"response_state": ResponseState.SUBMITTED},
    )
    cpg = _cpg()
    event = workflow.accept_response(db.session, _ctx("oig"), cpg, row(cpg, "FEMA"), "  Responsive. ")
    _by(event, "oig", "FEMA")
    assert row(cpg, "FEMA").response_state == ResponseState.ACCEPTED
    assert row(cpg, "FEMA").evaluation_note == "Responsive."
    assert row(cpg, "I&A").response_state == ResponseState.SUBMITTED
    assert cpg.status == RecStatus.OPEN_UNRESOLVED
    assert (event.kind, event.note, event.effective_on, event.addressee) == (
        EventKind.RESPONSE_ACCEPTED,
        "Responsive.",
        DAY,
        row(cpg, "FEMA"),
    )


def test_return_response_marks_it_returned_with_the_reason() -> None:
    _put(RecStatus.OPEN_UNRESOLVED, {"response_state": ResponseState.SUBMITTED})
    cpg = _cpg()
    event = workflow.return_response(db.session, _ctx("oig"), cpg, row(cpg, "FEMA"), " No plan. ")
    _by(event, "oig", "FEMA")
    assert (row(cpg, "FEMA").response_state, row(cpg, "FEMA").evaluation_note) == (
        ResponseState.RETURNED,
        "No plan.",
    )
    assert (event.kind, event.note, event.effective_on) == (EventKind.RESPONSE_RETURNED, "No plan.", DAY)
    with pytest.raises(WorkflowError) as caught:
        workflow.return_response(db.session, _ctx("oig"), cpg, row(cpg, "FEMA"), " ")
    assert caught.value.status == 409


def test_resolve_makes_it_open_resolved_and_accepts_the_waiting_responses() -> None:
    _put(
        RecStatus.OPEN_UNRESOLVED,
        {"response_state": ResponseState.SUBMITTED},
        {"response_state": ResponseState.NONE},
    )
    cpg = _cpg()
    event = workflow.resolve(db.session, _ctx("oig"), cpg, " Plan is responsive. ")
    _by(event, "oig", None)
    assert (cpg.status, cpg.resolved_on, cpg.decision_note, cpg.closed_on) == (
        RecStatus.OPEN_RESOLVED,
        DAY,
        "Plan is responsive.",
        None,
    )
    assert row(cpg, "FEMA").response_state == ResponseState.ACCEPTED
    assert row(cpg, "I&A").response_state == ResponseState.NONE
    assert (event.kind, event.status_after, event.note, event.effective_on) == (
        EventKind.RESOLVED,
        RecStatus.OPEN_RESOLVED,
        "Plan is responsive.",
        DAY,
    )
    assert event.details["responses_accepted"] == ["FEMA"]


@pytest.mark.parametrize(
    ("concurrence", "response_state", "resolvable"),
    [
        (Concurrence.CONCUR, ResponseState.NONE, True),
        (Concurrence.PARTIAL, ResponseState.NONE, True),
        (Concurrence.NON_CONCUR, ResponseState.SUBMITTED, True),
        (Concurrence.NON_CONCUR, ResponseState.ACCEPTED, True),
        (Concurrence.NON_CONCUR, ResponseState.RETURNED, False),
        (Concurrence.PENDING, ResponseState.NONE, False),
    ],
)
def test_resolve_needs_a_response_or_a_concurrence(concurrence, response_state, resolvable) -> None:
    both = {"concurrence": concurrence, "response_state": response_state}
    _put(RecStatus.OPEN_UNRESOLVED, both, both)
    cpg = _cpg()
    if resolvable:
        workflow.resolve(db.session, _ctx("oig"), cpg)
        assert cpg.status == RecStatus.OPEN_RESOLVED
    else:
        with pytest.raises(WorkflowError) as caught:
            workflow.resolve(db.session, _ctx("oig"), cpg)
        assert (caught.value.status, caught.value.message) == (
            409,
            "No component has responded or concurred yet, so there is no plan to accept.",
        )
        assert cpg.status == RecStatus.OPEN_UNRESOLVED


def test_post_update_stamps_the_day_and_moves_the_target_only_with_a_reason() -> None:
    _put(RecStatus.OPEN_RESOLVED, {"target_date": date(2026, 6, 30), "last_update_on": None})
    cpg = _cpg()
    fema = row(cpg, "FEMA")
    plain = workflow.post_update(db.session, _ctx("fema"), cpg, fema, UpdateData(" Half done. "))
    _by(plain, "fema", "FEMA")
    assert (fema.last_update_on, fema.target_date) == (DAY, date(2026, 6, 30))
    assert (plain.kind, plain.note, plain.target_date_after, plain.details) == (
        EventKind.UPDATE_POSTED,
        "Half done.",
        None,
        {"component": "FEMA"},
    )
    same = workflow.post_update(
        db.session, _ctx("fema"), cpg, fema, UpdateData("Same date.", date(2026, 6, 30))
    )
    assert same.target_date_after is None
    with pytest.raises(WorkflowError) as caught:
        workflow.post_update(db.session, _ctx("fema"), cpg, fema, UpdateData("Later.", date(2026, 9, 30)))
    assert (caught.value.field, caught.value.message) == (
        "target_change_reason",
        "Explain why the target date moves.",
    )
    with pytest.raises(WorkflowError) as caught:
        workflow.post_update(
            db.session, _ctx("fema"), cpg, fema, UpdateData("Later.", DAY - timedelta(days=1), "Budget")
        )
    assert (caught.value.field, caught.value.message) == (
        "new_target_date",
        "The new target date cannot be in the past.",
    )
    assert fema.target_date == date(2026, 6, 30)
    later = _ctx("fema", DAY + timedelta(days=3))
    moved = workflow.post_update(
        db.session, later, cpg, fema, UpdateData("Today.", DAY + timedelta(days=3), " Budget ")
    )
    assert (fema.last_update_on, fema.target_date) == (DAY + timedelta(days=3), DAY + timedelta(days=3))
    assert moved.target_date_after == DAY + timedelta(days=3)
    assert moved.details == {
        "component": "FEMA",
        "previous_target_date": "2026-06-30",
        "target_change_reason": "Budget",
    }


def test_request_closure_records_the_justification() -> None:
    _put(
        RecStatus.OPEN_RESOLVED,
        {
            "response_state": ResponseState.ACCEPTED,
            "closure_state": ClosureState.RETURNED,
            "closure_note": "No.",
        },
    )
    cpg = _cpg()
    event = workflow.request_closure(db.session, _ctx("fema"), cpg, row(cpg, "FEMA"), " All done. ")
    _by(event, "fema", "FEMA")
    fema = row(cpg, "FEMA")
    assert (fema.closure_state, fema.closure_justification, fema.closure_note) == (
        ClosureState.REQUESTED,
        "All done.",
        "",
    )
    assert row(cpg, "I&A").closure_state == ClosureState.NONE
    assert (event.kind, event.note, event.effective_on) == (EventKind.CLOSURE_REQUESTED, "All done.", DAY)


def test_return_closure_records_the_reason() -> None:
    _put(RecStatus.OPEN_RESOLVED, {"closure_state": ClosureState.REQUESTED, "closure_justification": "Done."})
    cpg = _cpg()
    event = workflow.return_closure(db.session, _ctx("oig"), cpg, row(cpg, "FEMA"), " Evidence? ")
    _by(event, "oig", "FEMA")
    fema = row(cpg, "FEMA")
    assert (fema.closure_state, fema.closure_note, fema.closure_justification) == (
        ClosureState.RETURNED,
        "Evidence?",
        "Done.",
    )
    assert cpg.status == RecStatus.OPEN_RESOLVED
    assert (event.kind, event.note) == (EventKind.CLOSURE_RETURNED, "Evidence?")


def test_close_as_implemented_accepts_the_closure_requests() -> None:
    _put(
        RecStatus.OPEN_RESOLVED,
        {"closure_state": ClosureState.REQUESTED},
        {"closure_state": ClosureState.RETURNED},
    )
    cpg = _cpg()
    event = workflow.close(db.session, _ctx("oig"), cpg, implemented=True, note=" Verified. ")
    _by(event, "oig", None)
    assert (cpg.status, cpg.closed_on, cpg.decision_note) == (RecStatus.CLOSED_IMPLEMENTED, DAY, "Verified.")
    assert row(cpg, "FEMA").closure_state == ClosureState.ACCEPTED
    assert row(cpg, "I&A").closure_state == ClosureState.RETURNED
    assert (event.kind, event.status_after, event.note) == (
        EventKind.CLOSED,
        RecStatus.CLOSED_IMPLEMENTED,
        "Verified.",
    )
    assert event.details["closure_requested_by"] == ["FEMA"]


def test_close_as_not_implemented_needs_a_reason_and_clears_the_requests() -> None:
    _put(RecStatus.OPEN_RESOLVED, {"closure_state": ClosureState.REQUESTED})
    cpg = _cpg()
    with pytest.raises(WorkflowError) as caught:
        workflow.close(db.session, _ctx("oig"), cpg, implemented=False, note="  ")
    assert (caught.value.field, cpg.status) == ("note", RecStatus.OPEN_RESOLVED)
    event = workflow.close(db.session, _ctx("oig"), cpg, implemented=False, note="Overtaken.")
    _by(event, "oig", None)
    assert (cpg.status, cpg.closed_on, cpg.decision_note) == (
        RecStatus.CLOSED_NOT_IMPLEMENTED,
        DAY,
        "Overtaken.",
    )
    assert row(cpg, "FEMA").closure_state == ClosureState.NONE
    assert event.status_after == RecStatus.CLOSED_NOT_IMPLEMENTED
    assert event.details["closure_requested_by"] == ["FEMA"]


@pytest.mark.parametrize(
    ("status", "closure", "message"),
    [
        (RecStatus.OPEN_UNRESOLVED, ClosureState.REQUESTED,
         "Only a resolved recommendation can be closed as implemented."),
        (RecStatus.OPEN_RESOLVED, ClosureState.RETURNED, "No component has requested closure yet."),
        (RecStatus.OPEN_RESOLVED, ClosureState.NONE, "No component has requested closure yet."),
    ],
)  # fmt: skip
def test_close_as_implemented_needs_resolution_and_a_request(status, closure, message) -> None:
    _put(status, {"closure_state": closure})
    cpg = _cpg()
    with pytest.raises(WorkflowError) as caught:
        workflow.close(db.session, _ctx("oig"), cpg, implemented=True, note="x")
    assert (caught.value.status, caught.value.message) == (409, message)
    assert cpg.status == status


def test_reopen_starts_over_for_every_component() -> None:
    accepted = {"response_state": ResponseState.ACCEPTED, "closure_state": ClosureState.ACCEPTED}
    _put(RecStatus.CLOSED_IMPLEMENTED, accepted, accepted)
    cpg = _cpg()
    event = workflow.reopen(db.session, _ctx("oig"), cpg, " Guidance withdrawn. ")
    _by(event, "oig", None)
    assert (cpg.status, cpg.resolved_on, cpg.closed_on, cpg.decision_note) == (
        RecStatus.OPEN_UNRESOLVED,
        None,
        None,
        "Guidance withdrawn.",
    )
    for abbreviation in ("FEMA", "I&A"):
        assert (row(cpg, abbreviation).response_state, row(cpg, abbreviation).closure_state) == (
            ResponseState.NONE,
            ClosureState.NONE,
        )
    assert (event.kind, event.status_after, event.note, event.effective_on) == (
        EventKind.REOPENED,
        RecStatus.OPEN_UNRESOLVED,
        "Guidance withdrawn.",
        DAY,
    )
    # Each component owes a new response 90 days after the reopening; the event keeps the date.
    assert event.details["revised_response_due"] == "2026-06-08"
    assert [row(cpg, a).response_due_on for a in ("FEMA", "I&A")] == [date(2026, 6, 8)] * 2
    with pytest.raises(WorkflowError):
        workflow.reopen(db.session, _ctx("oig"), cpg, "again")  # open now


def test_a_revision_without_a_target_date_clears_the_earlier_one() -> None:
    _put(RecStatus.OPEN_UNRESOLVED, {})
    cpg = _cpg()
    fema = row(cpg, "FEMA")
    workflow.submit_response(db.session, _ctx("fema"), cpg, fema, _response(target=date(2027, 1, 31)))
    assert fema.target_date == date(2027, 1, 31)
    event = workflow.submit_response(
        db.session, _ctx("fema"), cpg, fema, ResponseData(Concurrence.NON_CONCUR, "We disagree now.")
    )
    assert (fema.target_date, event.target_date_after, event.details["target_date"]) == (None, None, None)
    assert event.details["previous_target_date"] == "2027-01-31"


def test_a_step_taken_on_a_stale_version_changes_nothing() -> None:
    """The entry points pass the version the form was loaded with on to the check."""
    _put(RecStatus.OPEN_RESOLVED, {"closure_state": ClosureState.REQUESTED})
    cpg = _cpg()
    fema = row(cpg, "FEMA")
    stale_rec, stale_part = cpg.version - 1, fema.version - 1
    with pytest.raises(ConflictError):
        workflow.close(db.session, _ctx("oig"), cpg, implemented=False, note="x", version=stale_rec)
    with pytest.raises(ConflictError):
        workflow.return_closure(db.session, _ctx("oig"), cpg, fema, "Not yet.", version=stale_part)
    with pytest.raises(MissingVersionError):
        workflow.return_closure(db.session, _ctx("oig"), cpg, fema, "Not yet.", version=None)
    assert (cpg.status, fema.closure_state) == (RecStatus.OPEN_RESOLVED, ClosureState.REQUESTED)
    workflow.return_closure(db.session, _ctx("oig"), cpg, fema, "Not yet.", version=fema.version)
    assert fema.closure_state == ClosureState.RETURNED


def test_close_knows_only_two_outcomes() -> None:
    _put(RecStatus.OPEN_RESOLVED, {"closure_state": ClosureState.REQUESTED})
    cpg = _cpg()
    with pytest.raises(WorkflowError) as caught:
        workflow.take(db.session, _ctx("oig"), "close", cpg, None, CloseData("maybe", "A reason."))
    assert (caught.value.field, caught.value.message) == ("outcome", "Choose whether it was implemented.")
    assert cpg.status == RecStatus.OPEN_RESOLVED


# --- what check() says, and to whom ---------------------------------------------------


@pytest.mark.parametrize(
    ("step", "role", "part", "state", "status", "message"),
    [
        ("resolve", "fema", None, {}, 403, "Only OIG staff can resolve."),
        ("submit_response", "oig", "FEMA", {}, 403, "Only the component's liaison can submit the response."),
        ("submit_response", "liaison", "FEMA", {}, 403, "You act for I&A, not FEMA."),
        ("accept_response", "oig", "FEMA", {}, 409,
         "Accept the response is not possible: FEMA's response is “No response yet”."),
        ("request_closure", "fema", "FEMA", {"status": RecStatus.OPEN_RESOLVED,
                                              "closure_state": ClosureState.REQUESTED}, 409,
         "Request closure is not possible: FEMA's closure request is "
         "“Closure requested, awaiting OIG decision”."),
        ("post_update", "fema", "FEMA", {}, 409,
         "Post a progress update is not possible while the recommendation is Open–Unresolved."),
    ],
)  # fmt: skip
def test_check_says_who_may_and_why_not(step, role, part, state, status, message) -> None:
    state = dict(state)
    _put(state.pop("status", RecStatus.OPEN_UNRESOLVED), state)
    cpg = _cpg()
    with pytest.raises(WorkflowError) as caught:
        workflow.check(step, user_by_email(EMAILS[role]), cpg, row(cpg, part) if part else None)
    assert (caught.value.status, caught.value.message) == (status, message)


def test_a_step_on_a_part_of_another_recommendation_is_not_found() -> None:
    cpg = _cpg()
    elsewhere = row(make_recommendation(cpg.report, addressees=[component("I&A")]), "I&A")
    with pytest.raises(WorkflowError) as caught:
        workflow.check("submit_response", user_by_email(EMAILS["admin"]), cpg, elsewhere)
    assert (caught.value.status, caught.value.message) == (
        404,
        "That component is not addressed by this recommendation.",
    )
    with pytest.raises(WorkflowError) as caught:
        workflow.check("submit_response", user_by_email(EMAILS["admin"]), cpg, None)
    assert caught.value.status == 404


def test_a_liaison_of_several_other_components_is_told_which() -> None:
    cpg = _cpg()
    two = Reader(Role.LIAISON, (component("CBP"), component("OIA")))
    with pytest.raises(WorkflowError) as caught:
        workflow.check("submit_response", two, cpg, row(cpg, "FEMA"))
    assert (caught.value.status, caught.value.message) == (403, "You act for CBP, OIA, not FEMA.")


def test_no_step_for_someone_signed_out() -> None:
    cpg = _cpg()
    assert workflow.allowed("resolve", AnonymousUserMixin(), cpg) is False
    assert workflow.allowed("submit_response", AnonymousUserMixin(), cpg, row(cpg, "FEMA")) is False


def test_a_workflow_error_reads_as_its_message() -> None:
    """The step views show str(error) next to the field."""
    error = WorkflowError("Give a reason.", field="reason")
    assert (str(error), error.status, error.field) == ("Give a reason.", 409, "reason")


def test_allowed_answers_like_check() -> None:
    _put(RecStatus.OPEN_RESOLVED, {"closure_state": ClosureState.NONE})
    cpg = _cpg()
    fema_user, oig_user = user_by_email(EMAILS["fema"]), user_by_email(EMAILS["oig"])
    assert workflow.allowed("request_closure", fema_user, cpg, row(cpg, "FEMA")) is True
    assert workflow.allowed("request_closure", oig_user, cpg, row(cpg, "FEMA")) is False
    assert workflow.allowed("resolve", oig_user, cpg) is False  # already resolved
    assert workflow.allowed("close", oig_user, cpg) is True


def _blank(step: str, cpg):
    fema = row(cpg, "FEMA")
    return {
        "return_response": lambda: workflow.return_response(db.session, _ctx("oig"), cpg, fema, "  "),
        "post_update": lambda: workflow.post_update(db.session, _ctx("fema"), cpg, fema, UpdateData(" ")),
        "request_closure": lambda: workflow.request_closure(db.session, _ctx("fema"), cpg, fema, " "),
        "return_closure": lambda: workflow.return_closure(db.session, _ctx("oig"), cpg, fema, " "),
        "close": lambda: workflow.close(db.session, _ctx("oig"), cpg, implemented=False, note=" "),
        "reopen": lambda: workflow.reopen(db.session, _ctx("oig"), cpg, " "),
    }[step]


@pytest.mark.parametrize(
    ("step", "status", "field", "message"),
    [
        ("return_response", RecStatus.OPEN_UNRESOLVED, "reason",
         "Say why the response is not yet acceptable; the liaison will see it."),
        ("post_update", RecStatus.OPEN_RESOLVED, "text", "Describe the progress made."),
        ("request_closure", RecStatus.OPEN_RESOLVED, "justification",
         "Explain why the recommendation can be closed."),
        ("return_closure", RecStatus.OPEN_RESOLVED, "reason",
         "Say why the recommendation cannot be closed yet; the liaison will see it."),
        ("close", RecStatus.OPEN_RESOLVED, "note",
         "Say why the recommendation is closed without being implemented."),
        ("reopen", RecStatus.CLOSED_IMPLEMENTED, "reason", "Say why the recommendation is reopened."),
    ],
)  # fmt: skip
def test_a_step_without_its_text_says_which_field_and_changes_nothing(step, status, field, message) -> None:
    _put(
        status,
        {
            "response_state": ResponseState.SUBMITTED,
            "closure_state": ClosureState.NONE if step == "request_closure" else ClosureState.REQUESTED,
        },
    )
    cpg = _cpg()
    before = (cpg.status, _part(cpg, "FEMA"))
    with pytest.raises(WorkflowError) as caught:
        _blank(step, cpg)()
    assert (caught.value.status, caught.value.field, caught.value.message) == (409, field, message)
    assert (cpg.status, _part(cpg, "FEMA")) == before


def test_summary_shows_the_record_as_it_is_now() -> None:
    """What a conflict page shows of the record someone else changed."""
    _put(RecStatus.OPEN_UNRESOLVED, {"response": "", "target_date": None, "responsible_official": ""})
    cpg = _cpg()
    cpg.decision_note = ""
    fema = row(cpg, "FEMA")
    fema.corrective_action_plan = ""
    assert workflow.summary(cpg) == {
        "Status": "Open–Unresolved",
        "Text": cpg.text,
        "OIG decision note": "—",
    }
    cpg.decision_note = "Kept open."
    assert workflow.summary(cpg)["OIG decision note"] == "Kept open."
    assert workflow.summary(fema) == {
        "Concurrence": fema.concurrence.label,
        "Response": "—",
        "Corrective action plan": "—",
        "Target completion date": "—",
        "Responsible official": "—",
        "Response state": "No response yet",
        "Closure": "Not requested",
    }
    workflow.submit_response(db.session, _ctx("fema"), cpg, fema, _response())
    assert workflow.summary(fema) == {
        "Concurrence": "Concur",
        "Response": "FEMA concurs.",
        "Corrective action plan": "Train staff.",
        "Target completion date": "2027-01-31",
        "Responsible official": "Director",
        "Response state": "Submitted, awaiting OIG evaluation",
        "Closure": "Not requested",
    }


def test_notes_are_optional_where_the_form_says_so() -> None:
    _put(
        RecStatus.OPEN_UNRESOLVED,
        {"response_state": ResponseState.SUBMITTED, "evaluation_note": "old"},
        {"response_state": ResponseState.SUBMITTED},
    )
    cpg = _cpg()
    accepted = workflow.accept_response(db.session, _ctx("oig"), cpg, row(cpg, "FEMA"))
    assert (row(cpg, "FEMA").evaluation_note, accepted.note) == ("", "")
    resolved = workflow.resolve(db.session, _ctx("oig"), cpg)
    assert (cpg.decision_note, resolved.note) == ("", "")
    row(cpg, "FEMA").closure_state = ClosureState.REQUESTED
    closed = workflow.close(db.session, _ctx("oig"), cpg, implemented=True)
    assert (cpg.decision_note, closed.note, cpg.status) == ("", "", RecStatus.CLOSED_IMPLEMENTED)


def test_a_progress_update_keeps_its_documents_with_the_update_and_the_component(tmp_path) -> None:
    _put(RecStatus.OPEN_RESOLVED, {})
    cpg = _cpg()
    fema = row(cpg, "FEMA")
    ctx = Context(
        user=user_by_email(EMAILS["fema"]),
        today=DAY,
        storage=FileBlobStore(tmp_path),
        max_attachment_bytes=1024 * 1024,
        uploads=[Upload("progress.txt", b"Half of the staff trained.\n")],
    )
    event = workflow.post_update(db.session, ctx, cpg, fema, UpdateData("Half done."))
    [document] = event.attachments
    assert (document.original_name, document.addressee_id, document.component_id) == (
        "progress.txt",
        fema.id,
        fema.component_id,
    )
    assert document.event_id == event.id
