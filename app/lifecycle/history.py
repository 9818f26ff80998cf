"""Recording history events, and rebuilding a recommendation's state as of a past date.

Events are append-only. The state of any date is the latest event, by effective date
then by id, that carries a value: `status_after` for the recommendation,
`concurrence_after` and `target_date_after` for each addressee.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.audit import AuditActor, to_json
from app.models import (
    Addressee,
    Component,
    Concurrence,
    EventKind,
    Recommendation,
    RecommendationEvent,
    RecStatus,
)


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
    report's issue date, and any concurrence already known."""
    issued = rec.report.issued_on
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
class StateAsOf:
    """A recommendation as it stood at the end of a date."""

    status: RecStatus | None  # None: not yet issued on that date
    concurrence: dict[int, Concurrence] = field(default_factory=dict)  # by addressee id
    target_date: dict[int, date] = field(default_factory=dict)  # by addressee id


def _latest(
    column: sa.ColumnElement[Any],
    partition: sa.ColumnElement[Any],
    as_of: date,
    rec_ids: Iterable[int] | None,
) -> sa.Select[Any]:
    ranked = sa.select(
        RecommendationEvent.recommendation_id.label("rec_id"),
        partition.label("key"),
        column.label("value"),
        sa.func.row_number()
        .over(
            partition_by=partition,
            order_by=(RecommendationEvent.effective_on.desc(), RecommendationEvent.id.desc()),
        )
        .label("rn"),
    ).where(column.is_not(None), RecommendationEvent.effective_on <= as_of)
    if rec_ids is not None:
        ranked = ranked.where(RecommendationEvent.recommendation_id.in_(list(rec_ids)))
    sub = ranked.subquery()
    return sa.select(sub.c.rec_id, sub.c.key, sub.c.value).where(sub.c.rn == 1)


def states_as_of(session: Session, as_of: date, rec_ids: Iterable[int] | None = None) -> dict[int, StateAsOf]:
    """Rebuild status, concurrence and target dates as of `as_of` for the given
    recommendations (all when None), from history alone. Three queries in total."""
    ids = list(rec_ids) if rec_ids is not None else None
    states: dict[int, StateAsOf] = {}
    for rec_id, _key, value in session.execute(
        _latest(RecommendationEvent.status_after, RecommendationEvent.recommendation_id, as_of, ids)
    ):
        states[rec_id] = StateAsOf(status=RecStatus(value))
    for rec_id, key, value in session.execute(
        _latest(RecommendationEvent.concurrence_after, RecommendationEvent.addressee_id, as_of, ids)
    ):
        if key is not None and rec_id in states:
            states[rec_id].concurrence[key] = Concurrence(value)
    for rec_id, key, value in session.execute(
        _latest(RecommendationEvent.target_date_after, RecommendationEvent.addressee_id, as_of, ids)
    ):
        if key is not None and rec_id in states:
            states[rec_id].target_date[key] = value
    if ids is not None:
        for rec_id in ids:
            states.setdefault(rec_id, StateAsOf(status=None))
    return states


def state_as_of(session: Session, rec_id: int, as_of: date) -> StateAsOf:
    return states_as_of(session, as_of, [rec_id])[rec_id]
