"""The lifecycle's transition table, written out by hand and checked through the HTTP
routes: step × recommendation status (× the addressee's response or closure state) ×
role → 302 (taken), 403 (not this person) or 409 (not now).

The expected answers below are the rulebook as the README and the OIG describe it, not
read from `workflow.TRANSITIONS`, so a wrong table in the code fails here.

The recommendation is the test's own (tests/factories.py), public and addressed like
CPG-502 (OIG-12-15 #3) to I&A and FEMA. The addressee steps act on FEMA's part. Roles:
admin, oig, "own" = FEMA's liaison, "other" = I&A's liaison (a liaison of another
addressed component), viewer.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import ClosureState, Concurrence, RecommendationEvent, RecStatus, ResponseState
from tests.conftest import login, submit
from tests.factories import load_recommendation, make_recommendation, make_report
from tests.states import component, row

STATUS = {
    "U": RecStatus.OPEN_UNRESOLVED,
    "R": RecStatus.OPEN_RESOLVED,
    "CI": RecStatus.CLOSED_IMPLEMENTED,
    "CN": RecStatus.CLOSED_NOT_IMPLEMENTED,
}
RESPONSE = {
    "none": ResponseState.NONE,
    "submitted": ResponseState.SUBMITTED,
    "accepted": ResponseState.ACCEPTED,
    "returned": ResponseState.RETURNED,
}
CLOSURE = {
    "none": ClosureState.NONE,
    "requested": ClosureState.REQUESTED,
    "returned": ClosureState.RETURNED,
    "accepted": ClosureState.ACCEPTED,
}
ROLE_ACCOUNTS = {"admin": "admin", "oig": "oig", "own": "fema", "other": "liaison", "viewer": "viewer"}

# step -> (URL ending, on FEMA's part?, form data)
STEPS = {
    "submit_response": ("respond", True, None),  # data depends on today
    "accept_response": ("accept", True, {"note": "Responsive."}),
    "return_response": ("return", True, {"reason": "Needs a plan."}),
    "resolve": ("resolve", False, {"note": "The plan is responsive."}),
    "post_update": ("update", True, {"text": "Half done."}),
    "request_closure": ("request-closure", True, {"justification": "All done."}),
    "return_closure": ("return-closure", True, {"reason": "Evidence missing."}),
    "close": ("close", False, {"outcome": "not_implemented", "note": "Overtaken by events."}),
    "reopen": ("reopen", False, {"reason": "Guidance withdrawn."}),
}

# The addressee state each step is tried in for the role table: one the step accepts.
# (kind, state): kind "response" or "closure" names the state of FEMA's part that is set.
USUAL_STATE = {
    "submit_response": ("response", "none"),
    "accept_response": ("response", "submitted"),
    "return_response": ("response", "submitted"),
    "resolve": ("response", "submitted"),
    "post_update": ("closure", "none"),
    "request_closure": ("closure", "none"),
    "return_closure": ("closure", "requested"),
    "close": ("closure", "none"),
    "reopen": ("closure", "none"),
}

ROLE_TABLE = """
step             status  admin  oig  own  other  viewer
submit_response  U       302    403  302  403    403
submit_response  R       302    403  302  403    403
submit_response  CI      409    403  409  403    403
submit_response  CN      409    403  409  403    403
accept_response  U       302    302  403  403    403
accept_response  R       302    302  403  403    403
accept_response  CI      409    409  403  403    403
accept_response  CN      409    409  403  403    403
return_response  U       302    302  403  403    403
return_response  R       302    302  403  403    403
return_response  CI      409    409  403  403    403
return_response  CN      409    409  403  403    403
resolve          U       302    302  403  403    403
resolve          R       409    409  403  403    403
resolve          CI      409    409  403  403    403
resolve          CN      409    409  403  403    403
post_update      U       409    403  409  403    403
post_update      R       302    403  302  403    403
post_update      CI      409    403  409  403    403
post_update      CN      409    403  409  403    403
request_closure  U       409    403  409  403    403
request_closure  R       302    403  302  403    403
request_closure  CI      409    403  409  403    403
request_closure  CN      409    403  409  403    403
return_closure   U       409    409  403  403    403
return_closure   R       302    302  403  403    403
return_closure   CI      409    409  403  403    403
return_closure   CN      409    409  403  403    403
close            U       302    302  403  403    403
close            R       302    302  403  403    403
close            CI      409    409  403  403    403
close            CN      409    409  403  403    403
reopen           U       409    409  403  403    403
reopen           R       409    409  403  403    403
reopen           CI      302    302  403  403    403
reopen           CN      302    302  403  403    403
"""

# The addressee steps by the state of FEMA's part, taken by the usual person
# (FEMA's liaison for its steps, OIG staff for theirs).
STATE_TABLE = """
step             state      U    R    CI   CN
submit_response  none       302  302  409  409
submit_response  submitted  302  302  409  409
submit_response  accepted   409  409  409  409
submit_response  returned   302  302  409  409
accept_response  none       409  409  409  409
accept_response  submitted  302  302  409  409
accept_response  accepted   409  409  409  409
accept_response  returned   409  409  409  409
return_response  none       409  409  409  409
return_response  submitted  302  302  409  409
return_response  accepted   409  409  409  409
return_response  returned   409  409  409  409
post_update      none       409  302  409  409
post_update      requested  409  302  409  409
post_update      returned   409  302  409  409
post_update      accepted   409  302  409  409
request_closure  none       409  302  409  409
request_closure  requested  409  409  409  409
request_closure  returned   409  302  409  409
request_closure  accepted   409  409  409  409
return_closure   none       409  409  409  409
return_closure   requested  409  302  409  409
return_closure   returned   409  409  409  409
return_closure   accepted   409  409  409  409
"""
USUAL_ACTOR = {
    "submit_response": "own",
    "accept_response": "oig",
    "return_response": "oig",
    "post_update": "own",
    "request_closure": "own",
    "return_closure": "oig",
}


def _rows(table: str) -> list[list[str]]:
    lines = [line.split() for line in table.strip().splitlines()]
    return lines[1:]


def _role_cases() -> list[tuple[str, str, str, int]]:
    header = ROLE_TABLE.strip().splitlines()[0].split()[2:]
    return [
        (step, status, role, int(code))
        for step, status, *codes in _rows(ROLE_TABLE)
        for role, code in zip(header, codes, strict=True)
    ]


def _state_cases() -> list[tuple[str, str, str, int]]:
    header = STATE_TABLE.strip().splitlines()[0].split()[2:]
    return [
        (step, state, status, int(code))
        for step, state, *codes in _rows(STATE_TABLE)
        for status, code in zip(header, codes, strict=True)
    ]


_MADE: dict[str, int] = {}


@pytest.fixture(autouse=True)
def made_cpg() -> None:
    """Each test's recommendation, on a report of its own."""
    made = make_recommendation(
        make_report(issued_on=date(2011, 12, 6)),
        addressees=[
            (component("I&A"), {"concurrence": Concurrence.NON_CONCUR}),
            (component("FEMA"), {"concurrence": Concurrence.CONCUR}),
        ],
        lead=False,
    )
    _MADE["cpg"] = made.id


def _put(status: str, kind: str, state: str) -> None:
    """The recommendation in `status`, FEMA's response or closure request in `state`."""
    cpg = load_recommendation(_MADE["cpg"])
    cpg.status = STATUS[status]
    cpg.resolved_on = date(2012, 5, 1) if status != "U" else None
    cpg.closed_on = date(2014, 6, 1) if status in ("CI", "CN") else None
    fema = row(cpg, "FEMA")
    if kind == "response":
        fema.response_state = RESPONSE[state]
        fema.closure_state = ClosureState.NONE
    else:
        fema.response_state = ResponseState.ACCEPTED
        fema.closure_state = CLOSURE[state]
    db.session.commit()


def _url(step: str) -> str:
    cpg = load_recommendation(_MADE["cpg"])
    ending, on_part, _data = STEPS[step]
    if on_part:
        return f"/recommendations/{cpg.id}/components/{row(cpg, 'FEMA').id}/{ending}"
    return f"/recommendations/{cpg.id}/{ending}"


def _data(step: str) -> dict[str, str]:
    if step == "submit_response":
        return {
            "concurrence": "concur",
            "response": "FEMA concurs.",
            "corrective_action_plan": "Train the staff.",
            "target_date": (clock.today() + timedelta(days=200)).isoformat(),
            "responsible_official": "Director of Grants",
        }
    data = STEPS[step][2]
    assert data is not None
    return data


def _events() -> int:
    return db.session.scalar(sa.select(sa.func.count(RecommendationEvent.id))) or 0


def _try(client, step: str, role: str, expected: int) -> None:
    login(client, ROLE_ACCOUNTS[role])
    before = _events()
    response = submit(client, _url(step), _data(step))
    assert response.status_code == expected, response.get_data(as_text=True)[:2000]
    assert _events() == before + (1 if expected == 302 else 0)


def test_the_tables_cover_every_step_status_role_and_state() -> None:
    assert sorted({c[0] for c in _role_cases()}) == sorted(STEPS)
    assert len(_role_cases()) == len(STEPS) * 4 * 5
    assert len(_state_cases()) == 6 * 4 * 4


@pytest.mark.parametrize(("step", "status", "role", "expected"), _role_cases())
def test_who_may_take_each_step_in_each_status(client, step, status, role, expected) -> None:
    _put(status, *USUAL_STATE[step])
    _try(client, step, role, expected)


@pytest.mark.parametrize(("step", "state", "status", "expected"), _state_cases())
def test_when_each_addressee_step_may_be_taken(client, step, state, status, expected) -> None:
    kind = "closure" if step in ("post_update", "request_closure", "return_closure") else "response"
    _put(status, kind, state)
    _try(client, step, USUAL_ACTOR[step], expected)
