"""The recommendation lifecycle as an explicit state machine.

The steps themselves (who may take each, from which status and which state of the
addressee's response or closure request, what each records and changes) are defined
once each in `app.lifecycle.steps`. This module takes them: `take` checks the rule and
the version the form was loaded with, lets the step validate its data, records the
history event and applies it to the live record with the step's `apply` (the same one
`history.replay` uses). A broken rule raises WorkflowError carrying the HTTP status the
view should answer with (403 wrong person, 404 wrong component, 409 wrong moment),
before anything changes. Functions flush; the view commits.

The recommendation's status is the OIG's determination. Each addressee keeps its own
response, concurrence, plan, target date, updates and closure readiness.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app import locking
from app.lifecycle import history
from app.lifecycle.attachments import attach, classify
from app.lifecycle.steps import OIG_SIDE, STEPS, CloseData, Context, State, Step, WorkflowError
from app.lifecycle.steps import ResponseData as ResponseData  # re-exported for callers
from app.lifecycle.steps import UpdateData as UpdateData  # re-exported for callers
from app.locking import UNCHECKED, Expected
from app.models import Addressee, Recommendation, RecommendationEvent, Role


def _step(step: str | Step) -> Step:
    return STEPS[step] if isinstance(step, str) else step


def check(step: str | Step, user: Any, rec: Recommendation, addressee: Addressee | None = None) -> Step:
    """Raise WorkflowError unless `user` may take `step` now."""
    rule = _step(step)
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


def allowed(step: str | Step, user: Any, rec: Recommendation, addressee: Addressee | None = None) -> bool:
    """For templates: would `check` pass? (The server checks again on submit.)"""
    try:
        check(step, user, rec, addressee)
    except WorkflowError:
        return False
    return True


def steps_for(user: Any, rec: Recommendation, addressee: Addressee | None = None) -> list[Step]:
    """The steps `user` may take now on `addressee`'s part, or (None) on the
    recommendation as a whole, in the order the page offers them."""
    on_part = addressee is not None
    return [s for s in STEPS.values() if s.on_addressee == on_part and allowed(s, user, rec, addressee)]


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


def take(
    session: Session,
    ctx: Context,
    step: str | Step,
    rec: Recommendation,
    addressee: Addressee | None,
    data: Any,
    *,
    version: Expected = UNCHECKED,
) -> RecommendationEvent:
    """Take one step: check who and when, the version and any uploads, validate the
    data, record the event, apply it to the live record, attach the documents."""
    found = check(step, ctx.user, rec, addressee)
    check_version(addressee or rec, version)  # `check` saw to it: an addressee step has one
    for upload in ctx.uploads:  # bad files are refused before anything changes
        classify(upload, ctx.max_attachment_bytes)
    draft = found.prepare(ctx, rec, addressee, data)
    event = history.record(
        session,
        rec,
        draft.kind,
        ctx.actor,
        effective_on=ctx.today,
        addressee=addressee,
        status_after=draft.status_after,
        concurrence_after=draft.concurrence_after,
        target_date_after=draft.target_date_after,
        note=draft.note,
        details=draft.details,
    )
    found.apply(State(rec, addressee), event)
    session.flush()
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
        session.flush()
    return event


# --- entry points for callers that are not the step page (scripts, seeding, tests) ---


@dataclass(frozen=True)
class _Entry:
    """`step(session, ctx, rec, [addressee,] data, version=...)`: take the step, given its
    data or the data's fields (`resolve(session, ctx, rec, "A note.")`)."""

    name: str

    def __call__(
        self, session: Session, ctx: Context, rec: Recommendation, *args: Any, version: Expected = UNCHECKED
    ) -> RecommendationEvent:
        step = STEPS[self.name]
        addressee, rest = (args[0], args[1:]) if step.on_addressee else (None, args)
        data = rest[0] if len(rest) == 1 and isinstance(rest[0], step.data) else step.data(*rest)
        return take(session, ctx, step, rec, addressee, data, version=version)


submit_response = _Entry("submit_response")
post_update = _Entry("post_update")
request_closure = _Entry("request_closure")
accept_response = _Entry("accept_response")
return_response = _Entry("return_response")
return_closure = _Entry("return_closure")
resolve = _Entry("resolve")
reopen = _Entry("reopen")


def close(
    session: Session,
    ctx: Context,
    rec: Recommendation,
    *,
    implemented: bool,
    note: str = "",
    version: Expected = UNCHECKED,
) -> RecommendationEvent:
    """Close as implemented (on a closure request) or not implemented (with a reason)."""
    data = CloseData("implemented" if implemented else "not_implemented", note)
    return take(session, ctx, "close", rec, None, data, version=version)
