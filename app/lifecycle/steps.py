"""Every workflow step, each defined once.

A `Step` is one transition of the lifecycle: who may take it (roles), from which
recommendation status and which state of the addressee's response or closure request,
the form and page it is taken on, the history event(s) it records and ONE `apply` that
changes state from that event. `workflow.take` uses it live (check the rule, `prepare`
the event from the form's data, record it, `apply` it to the Recommendation and
Addressee); `history.replay` applies the same `apply` to the snapshots it rebuilds for
"as of". A step that works live therefore replays the same way.

`prepare` validates the data (raising WorkflowError with the field) and says what the
event records; `apply` reads only the event, so that replay needs nothing else.
Adding a step: see "Adding a workflow step" in the README.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any, NamedTuple

import sqlalchemy as sa

from app.audit import AuditActor
from app.lifecycle import clocks
from app.lifecycle.attachments import Upload
from app.models import (
    Addressee,
    ClosureState,
    Concurrence,
    EventKind,
    Recommendation,
    RecStatus,
    ResponseState,
    Role,
    User,
)
from app.models import RecommendationEvent as Event
from app.service_errors import ServiceError
from app.storage import BlobStore

U, R = RecStatus.OPEN_UNRESOLVED, RecStatus.OPEN_RESOLVED
CI, CN = RecStatus.CLOSED_IMPLEMENTED, RecStatus.CLOSED_NOT_IMPLEMENTED
LIAISON_SIDE = frozenset({Role.LIAISON, Role.ADMIN})
OIG_SIDE = frozenset({Role.OIG, Role.ADMIN})


class WorkflowError(ServiceError):
    """A step that may not be taken now. `status` is 403 (not yours), 404 (not this
    recommendation's component) or 409 (not now)."""

    def __init__(self, message: str, status: int = 409, field: str | None = None) -> None:
        super().__init__(message, field, status)


@dataclass(frozen=True)
class Context:
    """What every step needs besides its own data."""

    user: User
    today: date
    storage: BlobStore | None = None
    max_attachment_bytes: int = 0
    uploads: list[Upload] = field(default_factory=list)
    # Days the component has to revise a response the OIG returns (REVISED_RESPONSE_DAYS).
    revised_response_days: int = clocks.REVISED_RESPONSE_DAYS

    @property
    def actor(self) -> AuditActor:
        return AuditActor.for_user(self.user)


class State(NamedTuple):
    """What an event changes: the recommendation (a Recommendation or a RecSnapshot) and
    the addressee's part it concerns (an Addressee or an AddresseeSnapshot; None for a
    step on the recommendation as a whole or a component no longer addressed)."""

    rec: Any
    part: Any


@dataclass
class Draft:
    """The event a step records, before it is recorded."""

    kind: EventKind
    note: str = ""
    status_after: RecStatus | None = None
    concurrence_after: Concurrence | None = None
    target_date_after: date | None = None
    details: dict[str, Any] = field(default_factory=dict)


def from_form(data_type: type[Any], values: Mapping[str, Any]) -> Any:
    """A step's data from its form's values: each step's data class (ResponseData...) has
    the field names of its form; None (an empty field) keeps the default."""
    return data_type(**{f.name: values[f.name] for f in fields(data_type) if values.get(f.name) is not None})


def _require(text: str, message: str, field_name: str) -> str:
    text = (text or "").strip()
    if not text:
        raise WorkflowError(message, field=field_name)  # 409, the default
    return text


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def revised_response_due(event: Event) -> date:
    """The revised response's due date a return or a reopening set: kept in the event
    (the setting may change later); for events recorded before it was, the default."""
    kept = (event.details or {}).get("revised_response_due")
    if kept:
        return date.fromisoformat(kept)
    if event.kind == EventKind.REOPENED:
        return clocks.reopened_response_due(event.effective_on)
    return clocks.revised_response_due(event.effective_on)


def apply_common(state: State, event: Event) -> None:
    """What any event says in its own columns: the status, concurrence and target date
    after it (also the events of data entry, which are no step)."""
    if event.status_after is not None:
        state.rec.status = event.status_after
    if state.part is not None:
        if event.concurrence_after is not None:
            state.part.concurrence = event.concurrence_after
        if event.target_date_after is not None:
            state.part.target_date = event.target_date_after


# --- submit_response ----------------------------------------------------------------


@dataclass(frozen=True)
class ResponseData:
    concurrence: Concurrence | str = Concurrence.PENDING
    response: str = ""
    corrective_action_plan: str = ""
    target_date: date | None = None
    responsible_official: str = ""


def _prepare_response(ctx: Context, rec: Recommendation, part: Addressee, data: ResponseData) -> Draft:
    concurrence = Concurrence(data.concurrence)
    if concurrence == Concurrence.PENDING:
        raise WorkflowError("Say whether the component concurs.", field="concurrence")
    response = _require(data.response, "Enter the component's response.", "response")
    plan, official = data.corrective_action_plan.strip(), data.responsible_official.strip()
    if concurrence != Concurrence.NON_CONCUR:
        _require(plan, "Describe the corrective action plan.", "corrective_action_plan")
        _require(official, "Name the official responsible for the plan.", "responsible_official")
        if data.target_date is None:
            raise WorkflowError("Give a target completion date for the plan.", field="target_date")
    if data.target_date is not None and data.target_date < ctx.today:
        raise WorkflowError("The target completion date cannot be in the past.", field="target_date")
    revised = part.response_state == ResponseState.SUBMITTED
    return Draft(
        EventKind.RESPONSE_REVISED if revised else EventKind.RESPONSE_SUBMITTED,
        note=response,
        concurrence_after=concurrence,
        target_date_after=data.target_date if data.target_date != part.target_date else None,
        details={
            "corrective_action_plan": plan,
            "responsible_official": official,
            "target_date": data.target_date,
            "previous_target_date": part.target_date,
        },
    )


def _apply_response(state: State, event: Event) -> None:
    part, details = state.part, event.details or {}
    part.response = event.note
    part.response_date = event.effective_on
    part.corrective_action_plan = details.get("corrective_action_plan", "")
    part.responsible_official = details.get("responsible_official", "")
    part.response_state = ResponseState.SUBMITTED
    part.evaluation_note = ""
    if "target_date" in details:
        # The response sets the plan's date, or none (a non-concurrence may give none),
        # which target_date_after cannot say.
        part.target_date = _day(details["target_date"])


def _prefill_response(part: Addressee) -> dict[str, Any]:
    """A revision starts from what was submitted before ("pending" is no choice of the form,
    so a component that has not answered yet sees none chosen)."""
    return {
        "concurrence": part.concurrence.value,
        "response": part.response,
        "corrective_action_plan": part.corrective_action_plan,
        "target_date": part.target_date,
        "responsible_official": part.responsible_official,
    }


# --- accept_response, return_response --------------------------------------------------


@dataclass(frozen=True)
class NoteData:
    note: str = ""


def _prepare_accept(ctx: Context, rec: Recommendation, part: Addressee, data: NoteData) -> Draft:
    return Draft(EventKind.RESPONSE_ACCEPTED, note=data.note.strip())


def _apply_accept(state: State, event: Event) -> None:
    state.part.response_state = ResponseState.ACCEPTED
    state.part.evaluation_note = event.note


@dataclass(frozen=True)
class ReasonData:
    reason: str = ""


def _prepare_return(ctx: Context, rec: Recommendation, part: Addressee, data: ReasonData) -> Draft:
    message = "Say why the response is not yet acceptable; the liaison will see it."
    due = clocks.revised_response_due(ctx.today, ctx.revised_response_days)
    text = _require(data.reason, message, "reason")
    return Draft(EventKind.RESPONSE_RETURNED, note=text, details={"revised_response_due": due})


def _apply_return(state: State, event: Event) -> None:
    state.part.response_state = ResponseState.RETURNED
    state.part.evaluation_note = event.note
    state.part.response_due_on = revised_response_due(event)


# --- post_update --------------------------------------------------------------------


NO_CHANGE_NOTE_MAX = 500  # "no change since the last update" asks for one short note


@dataclass(frozen=True)
class UpdateData:
    text: str = ""
    new_target_date: date | None = None
    target_change_reason: str = ""
    # "No change since the last update": the plan and target date stay; one short note.
    no_change: bool = False
    no_change_note: str = ""


def _prepare_no_change(data: UpdateData) -> Draft:
    note = _require(data.no_change_note, "Say in a few words why nothing changed.", "no_change_note")
    if len(note) > NO_CHANGE_NOTE_MAX:
        raise WorkflowError(f"Keep the note to {NO_CHANGE_NOTE_MAX} characters.", field="no_change_note")
    return Draft(EventKind.UPDATE_POSTED, note=note, details={"no_change": True})


def _prepare_update(ctx: Context, rec: Recommendation, part: Addressee, data: UpdateData) -> Draft:
    if data.no_change:
        return _prepare_no_change(data)
    text = _require(data.text, "Describe the progress made.", "text")
    old, new = part.target_date, data.new_target_date
    reason = data.target_change_reason.strip()
    if new is None or new == old:
        return Draft(EventKind.UPDATE_POSTED, note=text)
    if new < ctx.today:
        raise WorkflowError("The new target date cannot be in the past.", field="new_target_date")
    if not reason:
        raise WorkflowError("Explain why the target date moves.", field="target_change_reason")
    details = {"previous_target_date": old, "target_change_reason": reason}
    return Draft(EventKind.UPDATE_POSTED, note=text, target_date_after=new, details=details)


def _apply_update(state: State, event: Event) -> None:
    state.part.last_update_on = event.effective_on


# --- request_closure, return_closure --------------------------------------------------


@dataclass(frozen=True)
class ClosureRequestData:
    justification: str = ""


def _prepare_request(ctx: Context, rec: Recommendation, part: Addressee, data: ClosureRequestData) -> Draft:
    text = _require(data.justification, "Explain why the recommendation can be closed.", "justification")
    return Draft(EventKind.CLOSURE_REQUESTED, note=text)


def _apply_request(state: State, event: Event) -> None:
    part = state.part
    part.closure_state, part.closure_state_on = ClosureState.REQUESTED, event.effective_on
    part.closure_justification, part.closure_note = event.note, ""


def _prepare_return_closure(ctx: Context, rec: Recommendation, part: Addressee, data: ReasonData) -> Draft:
    message = "Say why the recommendation cannot be closed yet; the liaison will see it."
    return Draft(EventKind.CLOSURE_RETURNED, note=_require(data.reason, message, "reason"))


def _apply_return_closure(state: State, event: Event) -> None:
    part = state.part
    part.closure_state, part.closure_state_on = ClosureState.RETURNED, event.effective_on
    part.closure_note = event.note


# --- resolve, close, reopen (the recommendation as a whole) -------------------------


def _prepare_resolve(ctx: Context, rec: Recommendation, part: None, data: NoteData) -> Draft:
    """The corrective action plan is responsive; responses awaiting evaluation are
    accepted with it."""
    parts = rec.addressees
    if not any(a.has_response or a.concurrence in (Concurrence.CONCUR, Concurrence.PARTIAL) for a in parts):
        raise WorkflowError("No component has responded or concurred yet, so there is no plan to accept.")
    accepted = [a.component.abbreviation for a in parts if a.response_state == ResponseState.SUBMITTED]
    return Draft(
        EventKind.RESOLVED, note=data.note.strip(), status_after=R, details={"responses_accepted": accepted}
    )


def _apply_resolve(state: State, event: Event) -> None:
    state.rec.resolved_on, state.rec.decision_note = event.effective_on, event.note
    for part in state.rec.addressees:
        if part.response_state == ResponseState.SUBMITTED:
            part.response_state = ResponseState.ACCEPTED


@dataclass(frozen=True)
class CloseData:
    outcome: str = "not_implemented"  # or "implemented"
    note: str = ""


def _prepare_close(ctx: Context, rec: Recommendation, part: None, data: CloseData) -> Draft:
    """Implemented (on a closure request, from Open–Resolved) or not implemented (with a
    reason, from either open status)."""
    if data.outcome not in ("implemented", "not_implemented"):
        raise WorkflowError("Choose whether it was implemented.", field="outcome")
    implemented, note = data.outcome == "implemented", data.note.strip()
    requested = [
        a.component.abbreviation for a in rec.addressees if a.closure_state == ClosureState.REQUESTED
    ]
    if implemented and rec.status != R:
        raise WorkflowError("Only a resolved recommendation can be closed as implemented.")
    if implemented and not requested:
        raise WorkflowError("No component has requested closure yet.")
    if not implemented:
        _require(note, "Say why the recommendation is closed without being implemented.", "note")
    status = CI if implemented else CN
    return Draft(
        EventKind.CLOSED, note=note, status_after=status, details={"closure_requested_by": requested}
    )


def _apply_close(state: State, event: Event) -> None:
    state.rec.closed_on, state.rec.decision_note = event.effective_on, event.note
    after = ClosureState.ACCEPTED if event.status_after == CI else ClosureState.NONE
    for part in state.rec.addressees:
        if part.closure_state == ClosureState.REQUESTED:
            part.closure_state = after


def _prepare_reopen(ctx: Context, rec: Recommendation, part: None, data: ReasonData) -> Draft:
    """Components respond again, each within 90 days of the reopening; their earlier
    responses stay in the history."""
    text = _require(data.reason, "Say why the recommendation is reopened.", "reason")
    due = clocks.reopened_response_due(ctx.today)
    return Draft(EventKind.REOPENED, note=text, status_after=U, details={"revised_response_due": due})


def _apply_reopen(state: State, event: Event) -> None:
    rec = state.rec
    rec.resolved_on = rec.closed_on = None
    rec.decision_note = event.note
    for part in rec.addressees:
        part.response_state, part.closure_state = ResponseState.NONE, ClosureState.NONE
        part.response_due_on = revised_response_due(event)


# --- what a closure decision is made on (shown on the step's page) -------------------


def events_of(rec: Recommendation, addressee_id: int, kind: EventKind) -> list[Event]:
    """One addressee's events of a kind, newest first (needs rec.events loaded)."""
    found = [e for e in rec.events if e.addressee_id == addressee_id and e.kind == kind]
    return sorted(found, key=lambda e: (e.effective_on, e.id), reverse=True)


@dataclass(frozen=True)
class ClosureRequest:
    """A component's pending closure request, as the OIG decides on it: the latest
    request (its justification and evidence), and the evidence sent with earlier ones."""

    addressee: Addressee
    latest: Event | None
    earlier: list[Event]


def closure_requests(rec: Recommendation, part: Addressee | None) -> dict[str, Any]:
    """The pending requests and their evidence (to close, or return one)."""
    requests = []
    for a in [part] if part is not None else rec.addressees:
        if a.closure_state == ClosureState.REQUESTED:
            found = events_of(rec, a.id, EventKind.CLOSURE_REQUESTED)
            requests.append(ClosureRequest(a, found[0] if found else None, found[1:]))
    return {"closure_requests": requests}


def closure_returned(rec: Recommendation, part: Addressee | None) -> dict[str, Any]:
    """The OIG's reason for returning the last request (to ask again; the page shows it
    while the request stands returned)."""
    if part is None:
        return {}
    returned = events_of(rec, part.id, EventKind.CLOSURE_RETURNED)
    return {"closure_returned": returned[0] if returned else None}


# --- the table ----------------------------------------------------------------------


def _nothing(rec: Recommendation, part: Addressee | None) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Step:
    """One transition: its rule, page, data, event and effect."""

    name: str
    slug: str  # the URL's last segment
    label: str  # the page's heading and submit button
    roles: frozenset[Role]
    from_status: frozenset[RecStatus]
    prepare: Callable[[Context, Recommendation, Any, Any], Draft]
    effect: Callable[[State, Event], None]
    kinds: tuple[EventKind, ...]
    form: str  # a form class in app/lifecycle/forms.py
    data: type[Any]
    done: str  # the message after the step is taken
    button: str = ""  # on the recommendation's page (default: the label)
    from_response: frozenset[ResponseState] | None = None
    from_closure: frozenset[ClosureState] | None = None
    # Steps on one addressee's part; liaisons may take them for their own components only.
    on_addressee: bool = False
    revise_button: str = ""  # the button once a response is submitted, if it differs
    prefill: Callable[[Addressee], dict[str, Any]] | None = None  # the form's values on opening it
    shows: Callable[[Recommendation, Addressee | None], dict[str, Any]] = _nothing  # more for the page
    # A shorter form of the same step (opened with ?no_change=1), its data marked no_change.
    no_change_form: str = ""

    def apply(self, state: State, event: Event) -> None:
        """Change `state` as `event` says: live, and again in every replay."""
        apply_common(state, event)
        if state.part is not None or not self.on_addressee:
            self.effect(state, event)

    def button_for(self, part: Any) -> str:
        if self.revise_button and part is not None and part.response_state == ResponseState.SUBMITTED:
            return self.revise_button
        return self.button or self.label

    @property
    def templates(self) -> list[Any]:
        """The step's own page if it has one, else the shared step page."""
        return [f"lifecycle/steps/{self.name}.html", "lifecycle/step.html"]

    def criterion(self) -> sa.ColumnElement[bool]:
        """SQL: the recommendation and addressee rows this step may be taken on now."""
        found = [Recommendation.status.in_(self.from_status)]
        if self.from_response is not None:
            found.append(Addressee.response_state.in_(self.from_response))
        if self.from_closure is not None:
            found.append(Addressee.closure_state.in_(self.from_closure))
        return sa.and_(*found)


# The rulebook: who may take each step, from which status and which state of the
# addressee's response (from_response) or closure request (from_closure), in the order
# the recommendation's page offers them.
# fmt: off
STEPS: dict[str, Step] = {s.name: s for s in (
    Step("submit_response", "respond", "Submit the response",
         LIAISON_SIDE, frozenset({U, R}), _prepare_response, _apply_response,
         (EventKind.RESPONSE_SUBMITTED, EventKind.RESPONSE_REVISED), "ResponseForm", ResponseData,
         "The response was submitted. The OIG will evaluate it.",
         from_response=frozenset({ResponseState.NONE, ResponseState.SUBMITTED, ResponseState.RETURNED}),
         on_addressee=True, button="Respond", revise_button="Revise the response",
         prefill=_prefill_response),
    Step("post_update", "update", "Post a progress update",
         LIAISON_SIDE, frozenset({R}), _prepare_update, _apply_update,
         (EventKind.UPDATE_POSTED,), "UpdateForm", UpdateData,
         "The progress update was posted.", on_addressee=True, no_change_form="NoChangeForm"),
    Step("request_closure", "request-closure", "Request closure",
         LIAISON_SIDE, frozenset({R}), _prepare_request, _apply_request,
         (EventKind.CLOSURE_REQUESTED,), "ClosureRequestForm", ClosureRequestData,
         "Closure was requested. The OIG will decide.",
         from_closure=frozenset({ClosureState.NONE, ClosureState.RETURNED}),
         on_addressee=True, shows=closure_returned),
    Step("accept_response", "accept", "Accept the response",
         OIG_SIDE, frozenset({U, R}), _prepare_accept, _apply_accept,
         (EventKind.RESPONSE_ACCEPTED,), "NoteForm", NoteData, "The response was accepted.",
         from_response=frozenset({ResponseState.SUBMITTED}), on_addressee=True),
    Step("return_response", "return", "Keep unresolved and return the response",
         OIG_SIDE, frozenset({U, R}), _prepare_return, _apply_return,
         (EventKind.RESPONSE_RETURNED,), "ReasonForm", ReasonData,
         "The response was returned with your reason.",
         from_response=frozenset({ResponseState.SUBMITTED}), on_addressee=True, button="Return the response"),
    Step("return_closure", "return-closure", "Return the closure request",
         OIG_SIDE, frozenset({R}), _prepare_return_closure, _apply_return_closure,
         (EventKind.CLOSURE_RETURNED,), "ReasonForm", ReasonData,
         "The closure request was returned with your reason.",
         from_closure=frozenset({ClosureState.REQUESTED}), on_addressee=True, shows=closure_requests),
    Step("resolve", "resolve", "Resolve",
         OIG_SIDE, frozenset({U}), _prepare_resolve, _apply_resolve,
         (EventKind.RESOLVED,), "NoteForm", NoteData, "The recommendation is now Open–Resolved."),
    Step("close", "close", "Close",
         OIG_SIDE, frozenset({U, R}), _prepare_close, _apply_close,
         (EventKind.CLOSED,), "CloseForm", CloseData, "The recommendation was closed.",
         shows=closure_requests),
    Step("reopen", "reopen", "Reopen",
         OIG_SIDE, frozenset({CI, CN}), _prepare_reopen, _apply_reopen,
         (EventKind.REOPENED,), "ReasonForm", ReasonData, "The recommendation was reopened."),
)}
# fmt: on
BY_KIND: dict[EventKind, Step] = {kind: s for s in STEPS.values() for kind in s.kinds}
assert len(BY_KIND) == sum(len(s.kinds) for s in STEPS.values()), "an event kind belongs to one step"


def by_slug(slug: str, *, on_addressee: bool) -> Step:
    """The step a URL names (on an addressee's part, or on the recommendation); the
    routes accept only the slugs of the table."""
    return next(s for s in STEPS.values() if s.slug == slug and s.on_addressee == on_addressee)


def apply_event(state: State, event: Event) -> None:
    """Any history event, as replay applies it: its step's `apply`, or only what its
    columns say (the events of data entry)."""
    step = BY_KIND.get(event.kind)
    if step is not None:
        step.apply(state, event)
    else:
        apply_common(state, event)
