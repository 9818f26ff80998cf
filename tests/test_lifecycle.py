"""The recommendation lifecycle through the web, as liaisons and OIG staff use it."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import (
    Addressee,
    AuditEvent,
    ClosureState,
    Concurrence,
    EventKind,
    RecommendationEvent,
    RecStatus,
    ResponseState,
)
from tests.conftest import login, rec, submit, visible_text

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _cpg():
    return rec("OIG-12-15", 3)


def _row(recommendation, abbr: str) -> Addressee:
    return next(a for a in recommendation.addressees if a.component.abbreviation == abbr)


def _url(recommendation, abbr: str | None, step: str) -> str:
    if abbr is None:
        return f"/recommendations/{recommendation.id}/{step}"
    return f"/recommendations/{recommendation.id}/components/{_row(recommendation, abbr).id}/{step}"


def _response(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "concurrence": "concur",
        "response": "FEMA concurs and will distribute CPG-502 to every EOC.",
        "corrective_action_plan": "Update the distribution list; send the guidance; survey EOCs.",
        "target_date": (clock.today() + timedelta(days=200)).isoformat(),
        "responsible_official": "Director, National Preparedness Directorate",
    }
    data.update(overrides)
    return data


def _snapshot() -> tuple[object, ...]:
    """Everything a step could change, to prove a refused step changed nothing."""
    cpg = _cpg()
    rows = tuple(
        (a.concurrence, a.response_state, a.closure_state, a.target_date, a.corrective_action_plan, a.version)
        for a in cpg.addressees
    )
    events = db.session.scalar(sa.select(sa.func.count(RecommendationEvent.id)))
    return (cpg.status, cpg.version, rows, events)


def test_cpg_502_from_response_to_closure(client, app) -> None:
    """A FEMA liaison takes the CPG-502 recommendation from response to a closure
    request while I&A's non-concurrence stays visible; OIG staff resolve it, return one
    closure request with a reason, then close it; the timeline shows every step."""
    cpg = _cpg()
    fema, oig = app.test_client(), app.test_client()
    login(fema, "fema")
    login(oig, "oig")

    work = fema.get("/work").get_data(as_text=True)
    assert "OIG-12-15 #3" in work
    assert "Response overdue by" in work  # issued in 2011

    response = submit(
        fema,
        _url(cpg, "FEMA", "respond"),
        data={**_response(), "documents": (io.BytesIO(PDF), "fema-cap.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert _row(_cpg(), "FEMA").response_state == ResponseState.SUBMITTED
    assert "Responses awaiting evaluation (1)" in visible_text(oig.get("/work"))

    assert (
        submit(oig, _url(cpg, None, "resolve"), data={"note": "FEMA's plan is responsive."}).status_code
        == 302
    )
    assert _cpg().status == RecStatus.OPEN_RESOLVED
    assert _row(_cpg(), "FEMA").response_state == ResponseState.ACCEPTED

    assert (
        submit(fema, _url(cpg, "FEMA", "update"), data={"text": "Guidance sent to 54 EOCs."}).status_code
        == 302
    )
    assert (
        submit(fema, _url(cpg, "FEMA", "request-closure"), data={"justification": "Done."}).status_code == 302
    )
    assert (
        submit(
            oig, _url(cpg, "FEMA", "return-closure"), data={"reason": "Send the survey results."}
        ).status_code
        == 302
    )
    assert _cpg().status == RecStatus.OPEN_RESOLVED
    page = fema.get(f"/recommendations/{cpg.id}").get_data(as_text=True)
    assert "Send the survey results." in page
    assert "Closure requests returned (1)" in visible_text(fema.get("/work"))

    assert (
        submit(
            fema,
            _url(cpg, "FEMA", "request-closure"),
            data={
                "justification": "Survey attached.",
                "documents": (io.BytesIO(b"eoc,applies\nA,yes\n"), "survey.csv"),
            },
            content_type="multipart/form-data",
        ).status_code
        == 302
    )
    assert (
        submit(
            oig, _url(cpg, None, "close"), data={"outcome": "implemented", "note": "Evidence is sufficient."}
        ).status_code
        == 302
    )
    closed = _cpg()
    assert closed.status == RecStatus.CLOSED_IMPLEMENTED
    assert _row(closed, "I&A").concurrence == Concurrence.NON_CONCUR
    assert _row(closed, "FEMA").closure_state == ClosureState.ACCEPTED

    kinds = [
        e.kind
        for e in db.session.scalars(
            sa.select(RecommendationEvent)
            .where(RecommendationEvent.recommendation_id == cpg.id)
            .order_by(RecommendationEvent.id)
        )
    ]
    assert kinds == [
        EventKind.CREATED,
        EventKind.CONCURRENCE_RECORDED,
        EventKind.CONCURRENCE_RECORDED,
        EventKind.RESPONSE_SUBMITTED,
        EventKind.RESOLVED,
        EventKind.UPDATE_POSTED,
        EventKind.CLOSURE_REQUESTED,
        EventKind.CLOSURE_RETURNED,
        EventKind.CLOSURE_REQUESTED,
        EventKind.CLOSED,
    ]
    timeline = oig.get(f"/recommendations/{cpg.id}").get_data(as_text=True)
    for label in (
        "Response submitted",
        "Resolved",
        "Progress update",
        "Closure requested",
        "Closure request returned",
        "Closed",
    ):
        assert label in timeline
    assert "fema@test.example (Component liaison)" in timeline
    assert "oig@test.example (OIG staff)" in timeline
    assert "Non-concur" in timeline
    assert "fema-cap.pdf" in timeline
    assert "survey.csv" in timeline
    # viewers read the history without the people's addresses
    viewer = app.test_client()
    login(viewer, "viewer")
    public = viewer.get(f"/recommendations/{cpg.id}").get_data(as_text=True)
    assert "fema@test.example" not in public
    assert "Component liaison" in public


STEPS = [
    ("respond", "FEMA", _response()),
    ("update", "FEMA", {"text": "progress"}),
    ("request-closure", "FEMA", {"justification": "done"}),
]


@pytest.mark.parametrize(("step", "abbr", "data"), STEPS)
def test_another_components_liaison_gets_403_and_nothing_changes(as_role, step, abbr, data) -> None:
    before = _snapshot()
    client = as_role("liaison")  # serves I&A, not FEMA
    assert client.get(_url(_cpg(), abbr, step)).status_code == 403
    assert submit(client, _url(_cpg(), abbr, step), data=data).status_code == 403
    assert _snapshot() == before


def test_liaison_of_another_component_is_refused_at_every_step_of_the_flow(app) -> None:
    """Walk the whole flow; before each step the I&A liaison tries FEMA's step."""
    cpg = _cpg()
    fema, oig, other = app.test_client(), app.test_client(), app.test_client()
    login(fema, "fema")
    login(oig, "oig")
    login(other, "liaison")

    def refused(step: str, data: dict[str, object], abbr: str | None = "FEMA") -> None:
        before = _snapshot()
        response = submit(other, _url(cpg, abbr, step), data=data)
        assert response.status_code == 403, step
        assert _snapshot() == before, step

    refused("respond", _response())
    submit(fema, _url(cpg, "FEMA", "respond"), data=_response())
    refused("accept", {}, "FEMA")
    refused("resolve", {}, None)
    submit(oig, _url(cpg, None, "resolve"), data={})
    refused("update", {"text": "x"})
    submit(fema, _url(cpg, "FEMA", "update"), data={"text": "x"})
    refused("request-closure", {"justification": "x"})
    submit(fema, _url(cpg, "FEMA", "request-closure"), data={"justification": "x"})
    refused("return-closure", {"reason": "x"})
    refused("close", {"outcome": "implemented"}, None)
    submit(oig, _url(cpg, None, "close"), data={"outcome": "implemented"})
    refused("reopen", {"reason": "x"}, None)
    assert _cpg().status == RecStatus.CLOSED_IMPLEMENTED


@pytest.mark.parametrize(
    ("role", "step", "abbr", "data"),
    [
        ("oig", "respond", "FEMA", _response()),  # OIG staff do not write components' responses
        ("viewer", "respond", "FEMA", _response()),
        ("fema", "resolve", None, {}),  # liaisons do not decide
        ("fema", "close", None, {"outcome": "implemented"}),
        ("fema", "accept", "FEMA", {}),
        ("viewer", "resolve", None, {}),
    ],
)
def test_wrong_role_gets_403_with_a_message(as_role, role, step, abbr, data) -> None:
    before = _snapshot()
    response = as_role(role).post(_url(_cpg(), abbr, step), data=data)
    assert response.status_code == 403
    assert "Only" in response.get_data(as_text=True)
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("role", "step", "abbr", "data", "message"),
    [
        ("fema", "update", "FEMA", {"text": "x"}, "not possible while the recommendation is Open–Unresolved"),
        ("fema", "request-closure", "FEMA", {"justification": "x"}, "not possible while"),
        ("oig", "accept", "FEMA", {}, "response is “No response yet”"),
        ("oig", "return-closure", "FEMA", {"reason": "x"}, "not possible while"),
        ("oig", "reopen", None, {"reason": "x"}, "not possible while the recommendation is Open–Unresolved"),
        ("oig", "close", None, {"outcome": "implemented"}, "Only a resolved recommendation"),
    ],
)
def test_step_not_allowed_now_gets_409_and_nothing_changes(as_role, role, step, abbr, data, message) -> None:
    before = _snapshot()
    response = submit(as_role(role), _url(_cpg(), abbr, step), data=data)
    assert response.status_code == 409
    assert message in response.get_data(as_text=True)
    assert _snapshot() == before


def test_resolving_needs_a_plan(as_role) -> None:
    hsin = rec("OIG-12-15", 1)
    # every addressee of this one concurred in the report, so it can be resolved
    assert submit(as_role("oig"), f"/recommendations/{hsin.id}/resolve", data={}).status_code == 302
    pending = db.session.scalar(
        sa.select(Addressee).where(Addressee.concurrence == Concurrence.PENDING).limit(1)
    )
    response = submit(as_role("oig"), f"/recommendations/{pending.recommendation_id}/resolve", data={})
    assert response.status_code == 409
    assert "No component has responded or concurred yet" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"corrective_action_plan": ""}, "Describe the corrective action plan."),
        ({"responsible_official": ""}, "Name the official responsible for the plan."),
        ({"target_date": ""}, "Give a target completion date for the plan."),
        ({"target_date": "2001-01-01"}, "The target completion date cannot be in the past."),
        ({"target_date": "2027-02-30"}, "Enter a real date as YYYY-MM-DD"),
        ({"response": ""}, "Enter the component&#39;s response."),
    ],
)
def test_response_needs_the_directive_s_parts(as_role, overrides, message) -> None:
    before = _snapshot()
    response = submit(as_role("fema"), _url(_cpg(), "FEMA", "respond"), data=_response(**overrides))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _snapshot() == before


def test_non_concurrence_needs_no_plan(as_role) -> None:
    data = _response(
        concurrence="non_concur", corrective_action_plan="", responsible_official="", target_date=""
    )
    assert submit(as_role("fema"), _url(_cpg(), "FEMA", "respond"), data=data).status_code == 302
    assert _row(_cpg(), "FEMA").concurrence == Concurrence.NON_CONCUR


def test_pending_is_not_an_answer(as_role) -> None:
    response = submit(as_role("fema"), _url(_cpg(), "FEMA", "respond"), data=_response(concurrence="pending"))
    assert response.status_code == 400  # not one of the form's choices


def test_liaison_revises_until_evaluated_then_sees_the_returned_reason(app) -> None:
    cpg = _cpg()
    fema, oig = app.test_client(), app.test_client()
    login(fema, "fema")
    login(oig, "oig")
    submit(fema, _url(cpg, "FEMA", "respond"), data=_response())
    assert "Revise the response" in fema.get(f"/recommendations/{cpg.id}").get_data(as_text=True)
    submit(fema, _url(cpg, "FEMA", "respond"), data=_response(response="Revised answer."))
    assert _row(_cpg(), "FEMA").response == "Revised answer."
    submit(oig, _url(cpg, "FEMA", "return"), data={"reason": "An alternative plan is requested."})
    assert _row(_cpg(), "FEMA").response_state == ResponseState.RETURNED
    assert _cpg().status == RecStatus.OPEN_UNRESOLVED
    page = fema.get(f"/recommendations/{cpg.id}").get_data(as_text=True)
    assert "An alternative plan is requested." in page
    assert "Returned by the OIG" in fema.get("/work").get_data(as_text=True)
    kinds = [e.kind for e in _cpg_events()]
    assert kinds[-3:] == [
        EventKind.RESPONSE_SUBMITTED,
        EventKind.RESPONSE_REVISED,
        EventKind.RESPONSE_RETURNED,
    ]


def _cpg_events() -> list[RecommendationEvent]:
    return list(
        db.session.scalars(
            sa.select(RecommendationEvent)
            .where(RecommendationEvent.recommendation_id == _cpg().id)
            .order_by(RecommendationEvent.id)
        )
    )


def test_moving_the_target_date_needs_a_reason_and_keeps_the_old_date(app) -> None:
    cpg = _cpg()
    fema, oig = app.test_client(), app.test_client()
    login(fema, "fema")
    login(oig, "oig")
    first = clock.today() + timedelta(days=100)
    submit(fema, _url(cpg, "FEMA", "respond"), data=_response(target_date=first.isoformat()))
    submit(oig, _url(cpg, None, "resolve"), data={})
    later = (clock.today() + timedelta(days=300)).isoformat()
    page = submit(fema, _url(cpg, "FEMA", "update"), data={"text": "Delayed.", "new_target_date": later})
    assert "Explain why the target date moves." in page.get_data(as_text=True)
    assert _row(_cpg(), "FEMA").target_date == first
    submit(
        fema,
        _url(cpg, "FEMA", "update"),
        data={
            "text": "Delayed.",
            "new_target_date": later,
            "target_change_reason": "Funding arrives in FY28.",
        },
    )
    assert _row(_cpg(), "FEMA").target_date.isoformat() == later
    last = _cpg_events()[-1]
    assert last.kind == EventKind.UPDATE_POSTED
    assert last.details["previous_target_date"] == first.isoformat()
    assert last.details["target_change_reason"] == "Funding arrives in FY28."
    timeline = fema.get(f"/recommendations/{cpg.id}").get_data(as_text=True)
    assert f"{first:%B} {first.day}, {first.year} →" in timeline  # as every date in the history


def test_closing_not_implemented_needs_a_reason_and_reopen_restarts(app) -> None:
    cpg = _cpg()
    oig = app.test_client()
    login(oig, "oig")
    page = submit(oig, _url(cpg, None, "close"), data={"outcome": "not_implemented", "note": ""})
    assert "Say why the recommendation is closed without being implemented." in page.get_data(as_text=True)
    submit(oig, _url(cpg, None, "close"), data={"outcome": "not_implemented", "note": "I&A did not concur."})
    assert _cpg().status == RecStatus.CLOSED_NOT_IMPLEMENTED
    submit(oig, _url(cpg, None, "reopen"), data={"reason": "New information from FEMA."})
    reopened = _cpg()
    assert reopened.status == RecStatus.OPEN_UNRESOLVED
    assert reopened.decision_note == "New information from FEMA."
    assert all(a.response_state == ResponseState.NONE for a in reopened.addressees)


def test_recommendation_with_history_cannot_be_deleted(app) -> None:
    cpg = _cpg()
    fema, oig = app.test_client(), app.test_client()
    login(fema, "fema")
    login(oig, "oig")
    submit(fema, _url(cpg, "FEMA", "respond"), data=_response())
    assert "Delete recommendation" not in oig.get(f"/recommendations/{cpg.id}").get_data(as_text=True)
    response = submit(oig, f"/recommendations/{cpg.id}/delete")
    assert response.status_code == 409
    assert "cannot be deleted" in response.get_data(as_text=True)
    assert submit(oig, f"/reports/{cpg.report_id}/delete").status_code == 409
    assert _cpg() is not None


def test_every_step_is_also_in_the_audit_trail(app) -> None:
    cpg = _cpg()
    fema = app.test_client()
    login(fema, "fema")
    submit(fema, _url(cpg, "FEMA", "respond"), data=_response(), environ_base={"REMOTE_ADDR": "192.0.2.9"})
    event = db.session.scalar(
        sa.select(AuditEvent)
        .where(AuditEvent.object_type == "addressees", AuditEvent.action == "update")
        .order_by(AuditEvent.id.desc())
    )
    assert event.actor_label == "fema@test.example"
    assert event.source_ip == "192.0.2.9"
    assert event.changes["response_state"] == ["none", "submitted"]


def _step_buttons(client, recommendation) -> list[tuple[str, str]]:
    """The step buttons on the recommendation's page: (text, URL after the record's id)."""
    page = client.get(f"/recommendations/{recommendation.id}").get_data(as_text=True)
    prefix = f"/recommendations/{recommendation.id}/"
    found = re.findall(r'<a class="usa-button[^"]*" href="([^"]+)">(.*?)</a>', page)
    ids = {str(a.id): a.component.abbreviation for a in recommendation.addressees}
    out = []
    for href, text in found:
        if href.startswith(prefix) and not href.endswith(("/edit", "/delete", "/priority", "/repeats")):
            rest = re.sub(r"components/(\d+)/", lambda m: f"{ids[m.group(1)]}/", href.removeprefix(prefix))
            out.append((re.sub(r"<[^>]+>", "", text), rest))
    return out


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("fema", [("Respond for FEMA", "FEMA/respond")]),
        ("liaison", [("Respond for I&amp;A", "I&A/respond")]),
        ("oig", [("Resolve", "resolve"), ("Close", "close")]),
        (
            "admin",
            [
                ("Respond for FEMA", "FEMA/respond"),
                ("Respond for I&amp;A", "I&A/respond"),
                ("Resolve", "resolve"),
                ("Close", "close"),
            ],
        ),
        ("viewer", []),
    ],
)
def test_the_page_offers_the_steps_each_person_may_take(client, role, expected) -> None:
    """CPG-502, Open–Unresolved, nobody has responded yet: each person sees the buttons of
    the steps they may take, on their own component's part."""
    login(client, role)
    assert sorted(_step_buttons(client, _cpg())) == sorted(expected)


def test_the_page_offers_the_evaluation_and_revision_once_a_response_is_in(client) -> None:
    login(client, "fema")
    assert submit(client, _url(_cpg(), "FEMA", "respond"), data=_response()).status_code == 302
    assert _step_buttons(client, _cpg()) == [("Revise the response for FEMA", "FEMA/respond")]
    login(client, "oig")
    assert _step_buttons(client, _cpg()) == [
        ("Accept the response for FEMA", "FEMA/accept"),
        ("Return the response for FEMA", "FEMA/return"),
        ("Resolve", "resolve"),
        ("Close", "close"),
    ]


@pytest.mark.parametrize(
    ("abbr", "ending"),
    [
        (None, "respond"),  # a step on a component's part, asked of the recommendation
        ("FEMA", "resolve"),  # a step on the recommendation, asked of a component's part
        (None, "frobnicate"),
        ("FEMA", "frobnicate"),
        (None, "Resolve"),
    ],
)
def test_a_url_naming_no_step_is_not_found(client, abbr, ending) -> None:
    login(client, "admin")
    before = _snapshot()
    assert client.get(_url(_cpg(), abbr, ending)).status_code == 404
    assert submit(client, _url(_cpg(), abbr, ending), data={"note": "x", "reason": "x"}).status_code == 404
    assert _snapshot() == before


def test_a_revision_starts_from_the_response_submitted(client) -> None:
    login(client, "fema")
    assert submit(client, _url(_cpg(), "FEMA", "respond"), data=_response()).status_code == 302
    html = client.get(_url(_cpg(), "FEMA", "respond")).get_data(as_text=True)
    chosen = re.findall(r"<option([^>]*)>", html)
    assert [o for o in chosen if "selected" in o] == [' selected value="concur"']
    assert "Director, National Preparedness Directorate" in html
