"""Replay agrees with the live record, whatever the order of steps.

Each step's effect is written once, as its `apply` in `app.lifecycle.steps`, which both
`workflow.take` (live) and `history.replay` (every "as of" page and PDF) call; what the
event records comes from the step's `prepare`, live only. Hypothesis drives random
sequences of the steps allowed at each moment, taken by the right people, on a
recommendation addressed to one or to two components, and after every step checks that
replaying the history gives exactly the record as it is now. At the end it also checks
every past day of the walk against the record as it stood at the end of that day.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import audit, clock
from app.extensions import db
from app.lifecycle import history, workflow
from app.lifecycle.steps import STEPS
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
    TextSource,
    User,
)
from tests.conftest import EMAILS, user_by_email

# Written out here, not read from the code under test: what the clocks and pages read.
REC_FIELDS = ("status", "resolved_on", "closed_on", "decision_note")
ADDRESSEE_FIELDS = (
    "concurrence",
    "response",
    "response_date",
    "response_state",
    "corrective_action_plan",
    "target_date",
    "responsible_official",
    "evaluation_note",
    "last_update_on",
    "closure_state",
    "closure_justification",
    "closure_note",
)
# The components the test accounts act for: "liaison" is I&A's, "fema" is FEMA's.
LIAISON_OF = {"I&A": "liaison", "FEMA": "fema"}
_numbers = itertools.count(1)


def _state(rec: Any) -> dict[str, Any]:
    """The fields compared, from a Recommendation or a RecSnapshot alike."""
    out = {f: getattr(rec, f) for f in REC_FIELDS}
    for a in rec.addressees:
        out.update({f"{a.component.abbreviation}.{f}": getattr(a, f) for f in ADDRESSEE_FIELDS})
    return out


def _load(rec_id: int) -> Recommendation:
    """The record as stored now, with its history (read back from the database, not
    from the objects the steps changed)."""
    return db.session.scalars(history.with_history([rec_id]).execution_options(populate_existing=True)).one()


def _new_recommendation(issued: date, components: list[str], concurrences: list[Concurrence]) -> int:
    comps = {c.abbreviation: c for c in db.session.scalars(sa.select(Component))}
    report = Report(
        number=f"TEST-PROP-{next(_numbers)}",
        title="Synthetic report for the replay property test",
        issued_on=issued,
        report_type=ReportType.AUDIT,
        components=[comps[c] for c in components],
    )
    recommendation = Recommendation(
        number=1,
        tracked_since=issued,
        text="Synthetic recommendation text.",
        text_source=TextSource.VERBATIM,
        addressees=[
            Addressee(component=comps[c], is_lead=i == 0, concurrence=concurrence)
            for i, (c, concurrence) in enumerate(zip(components, concurrences, strict=True))
        ],
    )
    report.recommendations.append(recommendation)
    db.session.add(report)
    db.session.flush()
    history.record_issuance(db.session, recommendation, audit.AuditActor.system("tests: replay property"))
    db.session.flush()
    return recommendation.id


def _people() -> dict[str, User]:
    """The test accounts by role name, loaded once per walk."""
    return {role: user_by_email(email) for role, email in EMAILS.items()}


def _candidates(rec: Recommendation, people: dict[str, User]) -> list[tuple[str, str | None]]:
    """(step, component) pairs that may be taken now, in a fixed order. Whether the
    table allows it is asked of the OIG or the component's liaison; the extra
    conditions of resolve and close are written out here."""
    oig = people["oig"]
    out: list[tuple[str, str | None]] = []
    for a in sorted(rec.addressees, key=lambda a: a.component.abbreviation):
        abbr = a.component.abbreviation
        liaison = people[LIAISON_OF[abbr]]
        for step in ("submit_response", "post_update", "request_closure"):
            if workflow.allowed(step, liaison, rec, a):
                out.append((step, abbr))
        for step in ("accept_response", "return_response", "return_closure"):
            if workflow.allowed(step, oig, rec, a):
                out.append((step, abbr))
    responsive = any(
        a.response_state in (ResponseState.SUBMITTED, ResponseState.ACCEPTED)
        or a.concurrence in (Concurrence.CONCUR, Concurrence.PARTIAL)
        for a in rec.addressees
    )
    if workflow.allowed("resolve", oig, rec) and responsive:
        out.append(("resolve", None))
    if workflow.allowed("close", oig, rec):
        out.append(("close_not_implemented", None))
        if rec.status == RecStatus.OPEN_RESOLVED and any(
            a.closure_state == ClosureState.REQUESTED for a in rec.addressees
        ):
            out.append(("close_implemented", None))
    if workflow.allowed("reopen", oig, rec):
        out.append(("reopen", None))
    return out


def _take(
    data: st.DataObject,
    people: dict[str, User],
    rec: Recommendation,
    step: str,
    abbr: str | None,
    day: date,
) -> None:
    """Take one step as the right person: the component's liaison or the OIG, or an
    administrator (who may act on either side)."""
    addressee = next((a for a in rec.addressees if a.component.abbreviation == abbr), None)
    liaison_side = step in ("submit_response", "post_update", "request_closure")
    role = data.draw(st.sampled_from([LIAISON_OF[abbr] if liaison_side and abbr else "oig", "admin"]))
    ctx = Context(user=people[role], today=day)
    session = db.session
    future = st.integers(0, 800).map(lambda n: day + timedelta(days=n))
    text = st.sampled_from(["First text.", "Second text.", "  Padded text.  "])
    note = st.sampled_from(["", "A note."])
    if step == "submit_response":
        assert addressee is not None
        concurrence = data.draw(st.sampled_from([c for c in Concurrence if c != Concurrence.PENDING]))
        # A non-concurrence needs no plan; it may still give one, or give none at all.
        with_plan = concurrence != Concurrence.NON_CONCUR or data.draw(st.booleans())
        target = data.draw(future) if with_plan else None
        if with_plan and addressee.target_date and addressee.target_date >= day and data.draw(st.booleans()):
            target = addressee.target_date  # the same date again
        workflow.submit_response(
            session,
            ctx,
            rec,
            addressee,
            ResponseData(
                concurrence,
                data.draw(text),
                "The plan." if with_plan else "",
                target,
                "The Director" if with_plan else "",
            ),
        )
    elif step == "post_update":
        assert addressee is not None
        new_target = data.draw(st.one_of(st.none(), future))
        workflow.post_update(
            session, ctx, rec, addressee, UpdateData(data.draw(text), new_target, "Reason for the move.")
        )
    elif step == "request_closure":
        assert addressee is not None
        workflow.request_closure(session, ctx, rec, addressee, data.draw(text))
    elif step == "accept_response":
        assert addressee is not None
        workflow.accept_response(session, ctx, rec, addressee, data.draw(note))
    elif step == "return_response":
        assert addressee is not None
        workflow.return_response(session, ctx, rec, addressee, data.draw(text))
    elif step == "return_closure":
        assert addressee is not None
        workflow.return_closure(session, ctx, rec, addressee, data.draw(text))
    elif step == "resolve":
        workflow.resolve(session, ctx, rec, data.draw(note))
    elif step == "close_implemented":
        workflow.close(session, ctx, rec, implemented=True, note=data.draw(note))
    elif step == "close_not_implemented":
        workflow.close(session, ctx, rec, implemented=False, note=data.draw(text))
    elif step == "reopen":
        workflow.reopen(session, ctx, rec, data.draw(text))
    else:  # pragma: no cover - the candidates list names only the steps above
        raise AssertionError(step)
    session.flush()


STEPS_PER_WALK = 25
# The steps the walk takes (close counts once, taken both ways).
WALKED = (
    "submit_response",
    "post_update",
    "request_closure",
    "accept_response",
    "return_response",
    "return_closure",
    "resolve",
    "close",
    "reopen",
)


def test_the_walk_takes_every_step_of_the_table() -> None:
    """A step added to the table without a place in the walk fails here."""
    assert sorted(STEPS) == sorted(WALKED)


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), components=st.sampled_from([["FEMA"], ["I&A", "FEMA"]]))
def test_replay_equals_the_live_record_after_every_step(data: st.DataObject, components: list[str]) -> None:
    today = clock.today()
    # Far enough back that every step's day (at most 30 days apart) is before today.
    issued = today - timedelta(days=31 * (STEPS_PER_WALK + 1))
    concurrences = [
        data.draw(st.sampled_from([Concurrence.PENDING, Concurrence.CONCUR, Concurrence.NON_CONCUR]))
        for _ in components
    ]
    savepoint = db.session.begin_nested()
    try:
        rec_id = _new_recommendation(issued, components, concurrences)
        people = _people()
        rec = _load(rec_id)
        assert _state(history.replay(rec, issued)) == _state(rec)
        day = issued
        end_of_day = {issued: _state(rec)}
        for _ in range(data.draw(st.integers(1, STEPS_PER_WALK), label="steps")):
            day += timedelta(days=data.draw(st.integers(0, 30), label="days later"))
            candidates = _candidates(rec, people)
            if not candidates:
                break
            step, abbr = data.draw(st.sampled_from(candidates), label="step")
            _take(data, people, rec, step, abbr, day)
            rec = _load(rec_id)
            live = _state(rec)
            assert _state(history.replay(rec, day)) == live, f"replay differs after {step} on {abbr} ({day})"
            assert _state(history.replay(rec, today)) == live
            end_of_day[day] = live
        # Every day of the walk, and the day before each, reads as it stood then.
        days = sorted(end_of_day)
        for before, on in itertools.pairwise(days):
            assert _state(history.replay(rec, on)) == end_of_day[on], on
            if on - before > timedelta(days=1):
                assert _state(history.replay(rec, on - timedelta(days=1))) == end_of_day[before], on
        assert history.replay(rec, issued - timedelta(days=1)).status is None
    finally:
        savepoint.rollback()
        db.session.expunge_all()


def test_a_response_without_a_target_date_clears_the_earlier_one_in_replay(today: date) -> None:
    """Found by the property test: a liaison revises a concurring response (target date
    set) into a non-concurrence without a plan. Live, the target date is gone; replay
    kept the old one, since the event's target_date_after cannot say "no date"."""
    first_day, second_day = today - timedelta(days=20), today - timedelta(days=10)
    rec_id = _new_recommendation(today - timedelta(days=30), ["FEMA"], [Concurrence.PENDING])
    recommendation = _load(rec_id)
    fema = recommendation.addressees[0]
    workflow.submit_response(
        db.session,
        Context(user=user_by_email(EMAILS["fema"]), today=first_day),
        recommendation,
        fema,
        ResponseData(Concurrence.CONCUR, "FEMA concurs.", "The plan.", date(2030, 6, 30), "The Director"),
    )
    workflow.submit_response(
        db.session,
        Context(user=user_by_email(EMAILS["fema"]), today=second_day),
        recommendation,
        fema,
        ResponseData(Concurrence.NON_CONCUR, "FEMA does not concur."),
    )
    db.session.flush()
    assert _load(rec_id).addressees[0].target_date is None
    assert history.state_as_of(db.session, rec_id, second_day - timedelta(days=1)).target_date == {
        fema.id: date(2030, 6, 30)
    }
    assert history.state_as_of(db.session, rec_id, second_day).target_date == {}
    assert history.state_as_of(db.session, rec_id, today).addressees[0].target_date is None
