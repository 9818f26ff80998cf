"""The recommendation lifecycle as an explicit state machine.

`TRANSITIONS` is the whole rulebook: who may take each step, from which recommendation
status, and from which state of the addressee's response or closure request. Each step
is one function taking the acting user and `today`; it checks the rule, applies the
change, and appends a history event. A broken rule raises WorkflowError carrying the
HTTP status the view should answer with (403 wrong person, 409 wrong moment), before
anything changes. Functions flush; the view commits.

The recommendation's status is the OIG's determination. Each addressee keeps its own
response, concurrence, plan, target date, updates and closure readiness.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from app import locking
from app.audit import AuditActor
from app.lifecycle import clocks, history
from app.lifecycle.attachments import Storage, Upload, attach, classify
from app.locking import UNCHECKED, Expected
from app.models import (
    Addressee,
    ClosureState,
    Concurrence,
    EventKind,
    Recommendation,
    RecommendationEvent,
    RecStatus,
    ResponseState,
    Role,
    User,
)
from app.service_errors import ServiceError

U, R = RecStatus.OPEN_UNRESOLVED, RecStatus.OPEN_RESOLVED
CI, CN = RecStatus.CLOSED_IMPLEMENTED, RecStatus.CLOSED_NOT_IMPLEMENTED
LIAISON_SIDE = frozenset({Role.LIAISON, Role.ADMIN})
OIG_SIDE = frozenset({Role.OIG, Role.ADMIN})


class WorkflowError(ServiceError):
    """A step that may not be taken now. `status` is 403 (not yours) or 409 (not now)."""

    def __init__(self, message: str, status: int = 409, field: str | None = None) -> None:
        super().__init__(message, field, status)


@dataclass(frozen=True)
class Rule:
    label: str
    roles: frozenset[Role]
    from_status: frozenset[RecStatus]
    from_response: frozenset[ResponseState] | None = None
    from_closure: frozenset[ClosureState] | None = None
    # Steps on one addressee's part; liaisons may take them for their own components only.
    on_addressee: bool = False


TRANSITIONS: dict[str, Rule] = {
    "submit_response": Rule(
        "Submit the response",
        LIAISON_SIDE,
        frozenset({U, R}),
        from_response=frozenset({ResponseState.NONE, ResponseState.SUBMITTED, ResponseState.RETURNED}),
        on_addressee=True,
    ),
    "accept_response": Rule(
        "Accept the response",
        OIG_SIDE,
        frozenset({U, R}),
        from_response=frozenset({ResponseState.SUBMITTED}),
        on_addressee=True,
    ),
    "return_response": Rule(
        "Keep unresolved and return the response",
        OIG_SIDE,
        frozenset({U, R}),
        from_response=frozenset({ResponseState.SUBMITTED}),
        on_addressee=True,
    ),
    "resolve": Rule("Resolve", OIG_SIDE, frozenset({U})),
    "post_update": Rule("Post a progress update", LIAISON_SIDE, frozenset({R}), on_addressee=True),
    "request_closure": Rule(
        "Request closure",
        LIAISON_SIDE,
        frozenset({R}),
        from_closure=frozenset({ClosureState.NONE, ClosureState.RETURNED}),
        on_addressee=True,
    ),
    "return_closure": Rule(
        "Return the closure request",
        OIG_SIDE,
        frozenset({R}),
        from_closure=frozenset({ClosureState.REQUESTED}),
        on_addressee=True,
    ),
    "close": Rule("Close", OIG_SIDE, frozenset({U, R})),
    "reopen": Rule("Reopen", OIG_SIDE, frozenset({CI, CN})),
}


def check(name: str, user: Any, rec: Recommendation, addressee: Addressee | None = None) -> Rule:
    """Raise WorkflowError unless `user` may take step `name` now."""
    rule = TRANSITIONS[name]
    role = getattr(user, "role", None)
    if role not in rule.roles:
        who = "OIG staff" if rule.roles == OIG_SIDE else "the component's liaison"
        raise WorkflowError(f"Only {who} can {rule.label.lower()}.", 403)
    if rule.on_addressee:
        if addressee is None or addressee.recommendation_id != rec.id:
            raise WorkflowError("That component is not addressed by this recommendation.", 404)
        if role == Role.LIAISON and addressee.component_id not in user.component_ids:
            raise WorkflowError(
                f"You act for {', '.join(c.abbreviation for c in user.components)}, "
                f"not {addressee.component.abbreviation}.",
                403,
            )
    if rec.status not in rule.from_status:
        raise WorkflowError(f"{rule.label} is not possible while the recommendation is {rec.status.label}.")
    if addressee is not None and rule.from_response and addressee.response_state not in rule.from_response:
        raise WorkflowError(
            f"{rule.label} is not possible: {addressee.component.abbreviation}'s response is "
            f"“{addressee.response_state.label}”."
        )
    if addressee is not None and rule.from_closure and addressee.closure_state not in rule.from_closure:
        raise WorkflowError(
            f"{rule.label} is not possible: {addressee.component.abbreviation}'s closure request is "
            f"“{addressee.closure_state.label}”."
        )
    return rule


def allowed(name: str, user: Any, rec: Recommendation, addressee: Addressee | None = None) -> bool:
    """For templates: would `check` pass? (The server checks again on submit.)"""
    try:
        check(name, user, rec, addressee)
    except WorkflowError:
        return False
    return True


def check_version(obj: Recommendation | Addressee, expected: Expected) -> None:
    """Refuse to save over a change made after the form was loaded, or without knowing
    which version the form was loaded with."""
    locking.check_version(obj, expected, summary)


def summary(obj: Recommendation | Addressee) -> dict[str, str]:
    """What a conflict page shows of the record as it is now."""
    if isinstance(obj, Recommendation):
        return {
            "Status": obj.status.label,
            "Text": obj.text,
            "OIG decision note": obj.decision_note or "—",
        }
    return {
        "Concurrence": obj.concurrence.label,
        "Response": obj.response or "—",
        "Corrective action plan": obj.corrective_action_plan or "—",
        "Target completion date": obj.target_date.isoformat() if obj.target_date else "—",
        "Responsible official": obj.responsible_official or "—",
        "Response state": obj.response_state.label,
        "Closure": obj.closure_state.label,
    }


@dataclass(frozen=True)
class Context:
    """What every step needs besides its own data."""

    user: User
    today: date
    storage: Storage | None = None
    max_attachment_bytes: int = 0
    uploads: list[Upload] = field(default_factory=list)
    # Days the component has to revise a response the OIG returns (REVISED_RESPONSE_DAYS).
    revised_response_days: int = clocks.REVISED_RESPONSE_DAYS

    @property
    def actor(self) -> AuditActor:
        return AuditActor.for_user(self.user)


def _check_uploads(ctx: Context) -> None:
    """Refuse bad files before anything changes."""
    for upload in ctx.uploads:
        classify(upload, ctx.max_attachment_bytes)


def _attach(
    session: Session,
    ctx: Context,
    rec: Recommendation,
    addressee: Addressee | None,
    event: RecommendationEvent,
) -> None:
    if ctx.uploads:
        assert ctx.storage is not None
        attach(
            session,
            ctx.storage,
            ctx.uploads,
            rec=rec,
            addressee=addressee,
            event=event,
            user=ctx.user,
            max_bytes=ctx.max_attachment_bytes,
        )


def _require(text: str, message: str, field_name: str) -> str:
    text = (text or "").strip()
    if not text:
        raise WorkflowError(message, 409, field=field_name)
    return text


# --- the liaison's part -------------------------------------------------------------


@dataclass(frozen=True)
class ResponseData:
    concurrence: Concurrence
    response: str
    corrective_action_plan: str = ""
    target_date: date | None = None
    responsible_official: str = ""


def submit_response(
    session: Session,
    ctx: Context,
    rec: Recommendation,
    addressee: Addressee,
    data: ResponseData,
    *,
    version: Expected = UNCHECKED,
) -> RecommendationEvent:
    """A liaison's written response for their component: concurrence, corrective action
    plan, target date, responsible official and documents. Revisable until evaluated."""
    check("submit_response", ctx.user, rec, addressee)
    check_version(addressee, version)
    _check_uploads(ctx)
    if data.concurrence == Concurrence.PENDING:
        raise WorkflowError("Say whether the component concurs.", field="concurrence")
    response = _require(data.response, "Enter the component's response.", "response")
    needs_plan = data.concurrence != Concurrence.NON_CONCUR
    plan, official = data.corrective_action_plan.strip(), data.responsible_official.strip()
    if needs_plan:
        _require(plan, "Describe the corrective action plan.", "corrective_action_plan")
        _require(official, "Name the official responsible for the plan.", "responsible_official")
        if data.target_date is None:
            raise WorkflowError("Give a target completion date for the plan.", field="target_date")
    if data.target_date is not None and data.target_date < ctx.today:
        raise WorkflowError("The target completion date cannot be in the past.", field="target_date")

    revised = addressee.response_state == ResponseState.SUBMITTED
    old_target = addressee.target_date
    addressee.concurrence = data.concurrence
    addressee.response = response
    addressee.response_date = ctx.today
    addressee.corrective_action_plan = plan
    addressee.target_date = data.target_date
    addressee.responsible_official = official
    addressee.response_state = ResponseState.SUBMITTED
    addressee.evaluation_note = ""
    event = history.record(
        session,
        rec,
        EventKind.RESPONSE_REVISED if revised else EventKind.RESPONSE_SUBMITTED,
        ctx.actor,
        effective_on=ctx.today,
        addressee=addressee,
        concurrence_after=data.concurrence,
        target_date_after=data.target_date if data.target_date != old_target else None,
        note=response,
        details={
            "corrective_action_plan": plan,
            "responsible_official": official,
            "target_date": data.target_date,
            "previous_target_date": old_target,
        },
    )
    session.flush()
    _attach(session, ctx, rec, addressee, event)
    session.flush()
    return event


@dataclass(frozen=True)
class UpdateData:
    text: str
    new_target_date: date | None = None
    target_change_reason: str = ""


def post_update(
    session: Session,
    ctx: Context,
    rec: Recommendation,
    addressee: Addressee,
    data: UpdateData,
    *,
    version: Expected = UNCHECKED,
) -> RecommendationEvent:
    """A progress update (append-only). Moving the target date needs a reason; the old
    date stays in the history."""
    check("post_update", ctx.user, rec, addressee)
    check_version(addressee, version)
    _check_uploads(ctx)
    text = _require(data.text, "Describe the progress made.", "text")
    old = addressee.target_date
    moved = data.new_target_date is not None and data.new_target_date != old
    reason = data.target_change_reason.strip()
    if moved:
        assert data.new_target_date is not None
        if data.new_target_date < ctx.today:
            raise WorkflowError("The new target date cannot be in the past.", field="new_target_date")
        if not reason:
            raise WorkflowError("Explain why the target date moves.", field="target_change_reason")
        addressee.target_date = data.new_target_date
    addressee.last_update_on = ctx.today
    event = history.record(
        session,
        rec,
        EventKind.UPDATE_POSTED,
        ctx.actor,
        effective_on=ctx.today,
        addressee=addressee,
        target_date_after=data.new_target_date if moved else None,
        note=text,
        details={"previous_target_date": old, "target_change_reason": reason} if moved else {},
    )
    session.flush()
    _attach(session, ctx, rec, addressee, event)
    session.flush()
    return event


def request_closure(
    session: Session,
    ctx: Context,
    rec: Recommendation,
    addressee: Addressee,
    justification: str,
    *,
    version: Expected = UNCHECKED,
) -> RecommendationEvent:
    """The liaison says their part is done, with a justification and evidence."""
    check("request_closure", ctx.user, rec, addressee)
    check_version(addressee, version)
    _check_uploads(ctx)
    text = _require(justification, "Explain why the recommendation can be closed.", "justification")
    addressee.closure_state = ClosureState.REQUESTED
    addressee.closure_state_on = ctx.today
    addressee.closure_justification = text
    addressee.closure_note = ""
    event = history.record(
        session,
        rec,
        EventKind.CLOSURE_REQUESTED,
        ctx.actor,
        effective_on=ctx.today,
        addressee=addressee,
        note=text,
    )
    session.flush()
    _attach(session, ctx, rec, addressee, event)
    session.flush()
    return event


# --- the OIG's part -----------------------------------------------------------------


def accept_response(
    session: Session,
    ctx: Context,
    rec: Recommendation,
    addressee: Addressee,
    note: str = "",
    *,
    version: Expected = UNCHECKED,
) -> RecommendationEvent:
    """The OIG finds one component's response responsive."""
    check("accept_response", ctx.user, rec, addressee)
    check_version(addressee, version)
    addressee.response_state = ResponseState.ACCEPTED
    addressee.evaluation_note = note.strip()
    event = history.record(
        session,
        rec,
        EventKind.RESPONSE_ACCEPTED,
        ctx.actor,
        effective_on=ctx.today,
        addressee=addressee,
        note=note.strip(),
    )
    session.flush()
    return event


def return_response(
    session: Session,
    ctx: Context,
    rec: Recommendation,
    addressee: Addressee,
    reason: str,
    *,
    version: Expected = UNCHECKED,
) -> RecommendationEvent:
    """The OIG keeps the recommendation unresolved for this component and says why
    (a non-concurrence, an alternative plan requested...). The liaison sees the reason."""
    check("return_response", ctx.user, rec, addressee)
    check_version(addressee, version)
    text = _require(reason, "Say why the response is not yet acceptable; the liaison will see it.", "reason")
    addressee.response_state = ResponseState.RETURNED
    addressee.evaluation_note = text
    addressee.response_due_on = clocks.revised_response_due(ctx.today, ctx.revised_response_days)
    event = history.record(
        session,
        rec,
        EventKind.RESPONSE_RETURNED,
        ctx.actor,
        effective_on=ctx.today,
        addressee=addressee,
        note=text,
        details={"revised_response_due": addressee.response_due_on},
    )
    session.flush()
    return event


def resolve(
    session: Session, ctx: Context, rec: Recommendation, note: str = "", *, version: Expected = UNCHECKED
) -> RecommendationEvent:
    """Open–Unresolved to Open–Resolved: the corrective action plan is responsive.
    Responses awaiting evaluation are accepted with it."""
    check("resolve", ctx.user, rec)
    check_version(rec, version)
    responsive = [
        a
        for a in rec.addressees
        if a.has_response or a.concurrence in (Concurrence.CONCUR, Concurrence.PARTIAL)
    ]
    if not responsive:
        raise WorkflowError("No component has responded or concurred yet, so there is no plan to accept.")
    accepted = []
    for addressee in rec.addressees:
        if addressee.response_state == ResponseState.SUBMITTED:
            addressee.response_state = ResponseState.ACCEPTED
            accepted.append(addressee.component.abbreviation)
    rec.status = R
    rec.resolved_on = ctx.today
    rec.decision_note = note.strip()
    event = history.record(
        session,
        rec,
        EventKind.RESOLVED,
        ctx.actor,
        effective_on=ctx.today,
        status_after=R,
        note=note.strip(),
        details={"responses_accepted": accepted},
    )
    session.flush()
    return event


def return_closure(
    session: Session,
    ctx: Context,
    rec: Recommendation,
    addressee: Addressee,
    reason: str,
    *,
    version: Expected = UNCHECKED,
) -> RecommendationEvent:
    """The OIG turns down a closure request; the recommendation stays open and the
    liaison sees why."""
    check("return_closure", ctx.user, rec, addressee)
    check_version(addressee, version)
    text = _require(
        reason, "Say why the recommendation cannot be closed yet; the liaison will see it.", "reason"
    )
    addressee.closure_state = ClosureState.RETURNED
    addressee.closure_state_on = ctx.today
    addressee.closure_note = text
    event = history.record(
        session,
        rec,
        EventKind.CLOSURE_RETURNED,
        ctx.actor,
        effective_on=ctx.today,
        addressee=addressee,
        note=text,
    )
    session.flush()
    return event


def close(
    session: Session,
    ctx: Context,
    rec: Recommendation,
    *,
    implemented: bool,
    note: str = "",
    version: Expected = UNCHECKED,
) -> RecommendationEvent:
    """Close the recommendation as a whole: implemented (on a closure request, from
    Open–Resolved) or not implemented (with a reason, from either open status)."""
    check("close", ctx.user, rec)
    check_version(rec, version)
    note = note.strip()
    requested = [a for a in rec.addressees if a.closure_state == ClosureState.REQUESTED]
    if implemented:
        if rec.status != R:
            raise WorkflowError("Only a resolved recommendation can be closed as implemented.")
        if not requested:
            raise WorkflowError("No component has requested closure yet.")
        for addressee in requested:
            addressee.closure_state = ClosureState.ACCEPTED
    else:
        _require(note, "Say why the recommendation is closed without being implemented.", "note")
        for addressee in requested:
            addressee.closure_state = ClosureState.NONE
    status = CI if implemented else CN
    rec.status = status
    rec.closed_on = ctx.today
    rec.decision_note = note
    event = history.record(
        session,
        rec,
        EventKind.CLOSED,
        ctx.actor,
        effective_on=ctx.today,
        status_after=status,
        note=note,
        details={"closure_requested_by": [a.component.abbreviation for a in requested]},
    )
    session.flush()
    return event


def reopen(
    session: Session, ctx: Context, rec: Recommendation, reason: str, *, version: Expected = UNCHECKED
) -> RecommendationEvent:
    """Back to Open–Unresolved, with a reason. Components respond again, each within 90
    days of the reopening; their earlier responses stay in the history."""
    check("reopen", ctx.user, rec)
    check_version(rec, version)
    text = _require(reason, "Say why the recommendation is reopened.", "reason")
    rec.status = U
    rec.resolved_on = None
    rec.closed_on = None
    rec.decision_note = text
    due = clocks.reopened_response_due(ctx.today)
    for addressee in rec.addressees:
        addressee.response_state = ResponseState.NONE
        addressee.closure_state = ClosureState.NONE
        addressee.response_due_on = due
    event = history.record(
        session,
        rec,
        EventKind.REOPENED,
        ctx.actor,
        effective_on=ctx.today,
        status_after=U,
        note=text,
        details={"revised_response_due": due},
    )
    session.flush()
    return event
