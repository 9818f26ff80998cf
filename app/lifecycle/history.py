"""Recording history events, and rebuilding a recommendation's state as of a past date.

Events are append-only. The state of any past date is the result of applying, in order of
effective date then id, every event up to that date (`replay`), each with the `apply` of
the step that recorded it (app.lifecycle.steps), the same one that changed the live record.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, selectinload

from app.audit import AuditActor, to_json
from app.lifecycle.steps import State, apply_event
from app.models import Addressee, Component, Recommendation, RecommendationEvent
from app.models.enums import ClosureState, Concurrence, EventKind, RecStatus, ResponseState


def record(
    session: Session,
    rec: Recommendation,
    kind: EventKind,
    actor: AuditActor,
    *,
    effective_on: date,
    addressee: Addressee | None = None,
    status_after: RecStatus | None = None,
    concurrence_after: Concurrence | None = None,
    target_date_after: date | None = None,
    note: str = "",
    details: dict[str, Any] | None = None,
) -> RecommendationEvent:
    """Append one event to a recommendation's history."""
    details = dict(details or {})
    if addressee is not None:
        # kept in the event itself, so the history reads right even if the row goes
        component = session.get(Component, addressee.component_id)
        details.setdefault("component", component.abbreviation if component else None)
    event = RecommendationEvent(
        recommendation=rec,
        addressee=addressee,
        kind=kind,
        actor_id=actor.user_id,
        actor_label=actor.label,
        actor_role=actor.role,
        effective_on=effective_on,
        status_after=status_after,
        concurrence_after=concurrence_after,
        target_date_after=target_date_after,
        note=note,
        details=to_json(details),
    )
    session.add(event)
    return event


def record_issuance(session: Session, rec: Recommendation, actor: AuditActor) -> None:
    """The events of a newly entered recommendation: issued Open–Unresolved on the
    report's issue date, and any concurrence already known. When the issue date is not
    known, its history starts on the day RecTrack began tracking it: as of any earlier
    day RecTrack does not know it existed."""
    issued = rec.report.issued_on or rec.tracked_since
    assert issued is not None, "a recommendation of a report of unknown date needs tracked_since"
    record(session, rec, EventKind.CREATED, actor, effective_on=issued, status_after=rec.status)
    for addressee in rec.addressees:
        if addressee.concurrence != Concurrence.PENDING:
            record(
                session,
                rec,
                EventKind.CONCURRENCE_RECORDED,
                actor,
                effective_on=addressee.response_date or issued,
                addressee=addressee,
                concurrence_after=addressee.concurrence,
            )


@dataclass
class AddresseeSnapshot:
    """One addressee's part as it stood at the end of a date."""

    id: int
    component: Component
    is_lead: bool
    concurrence: Concurrence = Concurrence.PENDING
    response: str = ""
    response_date: date | None = None
    response_state: ResponseState = ResponseState.NONE
    corrective_action_plan: str = ""
    target_date: date | None = None
    responsible_official: str = ""
    evaluation_note: str = ""
    last_update_on: date | None = None
    response_due_on: date | None = None
    closure_state: ClosureState = ClosureState.NONE
    closure_state_on: date | None = None
    closure_justification: str = ""
    closure_note: str = ""


@dataclass
class RecSnapshot:
    """A recommendation as it stood at the end of `as_of`, rebuilt from its history.

    It has the attribute names of Recommendation and Addressee, so the deadline clocks
    read it the same way."""

    rec: Recommendation
    as_of: date
    status: RecStatus | None  # None: not yet issued on that date
    resolved_on: date | None = None
    closed_on: date | None = None
    decision_note: str = ""
    addressees: list[AddresseeSnapshot] = field(default_factory=list)
    events: list[RecommendationEvent] = field(default_factory=list)

    @property
    def report(self) -> Any:
        return self.rec.report

    @property
    def tracked_since(self) -> date | None:
        """The day RecTrack began tracking the recommendation (deadlines before it are
        not recorded, as of any date)."""
        return self.rec.tracked_since

    @property
    def concurrence(self) -> dict[int, Concurrence]:
        return {a.id: a.concurrence for a in self.addressees}

    @property
    def target_date(self) -> dict[int, date]:
        return {a.id: a.target_date for a in self.addressees if a.target_date}

    @property
    def updates(self) -> list[RecommendationEvent]:
        """Progress updates up to the date, newest first."""
        return [e for e in reversed(self.events) if e.kind == EventKind.UPDATE_POSTED]


def replay(rec: Recommendation, as_of: date) -> RecSnapshot:
    """Rebuild `rec` as of the end of `as_of` from its events alone (no queries: needs
    rec.events and rec.addressees with their components loaded).

    Events apply in order of effective date, then id. What the report itself said (the
    response text and concurrence quoted in it, entered by the OIG) has no response event
    and is taken from the record."""
    events = sorted((e for e in rec.events if e.effective_on <= as_of), key=lambda e: (e.effective_on, e.id))
    snapshot = RecSnapshot(rec=rec, as_of=as_of, status=None, events=events)
    responded = {
        e.addressee_id
        for e in rec.events
        if e.kind in (EventKind.RESPONSE_SUBMITTED, EventKind.RESPONSE_REVISED)
    }
    parts = {}
    for a in rec.addressees:
        # The record's response is the report's own quote only if no liaison ever replaced it.
        quoted = a.id not in responded and (a.response_date is None or a.response_date <= as_of)
        parts[a.id] = AddresseeSnapshot(
            id=a.id,
            component=a.component,
            is_lead=a.is_lead,
            response=a.response if quoted else "",
            response_date=a.response_date if quoted else None,
        )
    snapshot.addressees = list(parts.values())
    for e in events:
        part = parts.get(e.addressee_id) if e.addressee_id is not None else None
        apply_event(State(snapshot, part), e)
    return snapshot


def with_history(rec_ids: Iterable[int] | None = None) -> sa.Select[Recommendation]:
    """Recommendations with what replay() needs, in a fixed number of queries."""
    stmt = sa.select(Recommendation).options(
        joinedload(Recommendation.report),
        selectinload(Recommendation.addressees).joinedload(Addressee.component),
        selectinload(Recommendation.events),
    )
    if rec_ids is not None:
        stmt = stmt.where(Recommendation.id.in_(list(rec_ids)))
    return stmt


def state_as_of(session: Session, rec_id: int, as_of: date) -> RecSnapshot:
    """One recommendation as it stood on `as_of`."""
    rec = session.scalars(with_history([rec_id])).one()
    return replay(rec, as_of)


def states_as_of(
    session: Session, as_of: date, rec_ids: Iterable[int] | None = None
) -> dict[int, RecSnapshot]:
    """Many recommendations as they stood on `as_of` (those issued by then)."""
    out = {}
    for rec in session.scalars(with_history(rec_ids)):
        snapshot = replay(rec, as_of)
        if snapshot.status is not None:
            out[rec.id] = snapshot
    return out


ENTRY_EVENTS = frozenset({EventKind.CREATED, EventKind.CONCURRENCE_RECORDED})


def has_lifecycle_history(session: Session, rec_ids: list[int]) -> bool:
    """True when any of these recommendations went beyond data entry (responses,
    decisions, updates): such a record is not a mistake to delete."""
    return (
        session.scalar(
            sa.select(
                sa.exists().where(
                    RecommendationEvent.recommendation_id.in_(rec_ids),
                    RecommendationEvent.kind.not_in(ENTRY_EVENTS),
                )
            )
        )
        or False
    )
