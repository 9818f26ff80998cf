"""What the feeds read, as Select statements. Only public recommendations of public reports
ever match: a feed has no reader to ask the policy about, so it asks for public items."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa

from app.models import (
    Addressee,
    Component,
    EventKind,
    Recommendation,
    RecommendationEvent,
    RecStatus,
    Report,
    Sensitivity,
)


class StatusChange(NamedTuple):
    """One feed entry's facts: identifiers, statuses and dates, never text."""

    event_id: int
    kind: EventKind
    status_after: RecStatus
    occurred_at: datetime
    effective_on: date
    actor_role: str
    rec_id: int
    rec_number: int | None
    report_id: int
    report_number: str | None
    report_title: str


def public_items() -> sa.ColumnElement[bool]:
    """Public recommendations of public reports (a restricted report hides all of its own)."""
    return sa.and_(
        Recommendation.sensitivity == Sensitivity.PUBLIC,
        Report.sensitivity == Sensitivity.PUBLIC,
    )


def public_report(report_id: int) -> sa.Select[Report]:
    """The report, when it is public; no row for a restricted or missing one alike."""
    return sa.select(Report).where(Report.id == report_id, Report.sensitivity == Sensitivity.PUBLIC)


def component(component_id: int) -> sa.Select[Component]:
    return sa.select(Component).where(Component.id == component_id)


def _changes(visible: sa.ColumnElement[bool]) -> sa.Select[*tuple[Any, ...]]:
    """Status changes of the items `visible` admits, newest first (columns only: nothing
    to load lazily)."""
    return (
        sa.select(
            RecommendationEvent.id,
            RecommendationEvent.kind,
            RecommendationEvent.status_after,
            RecommendationEvent.occurred_at,
            RecommendationEvent.effective_on,
            RecommendationEvent.actor_role,
            Recommendation.id,
            Recommendation.number,
            Report.id,
            Report.number,
            Report.title,
        )
        .join(Recommendation, RecommendationEvent.recommendation_id == Recommendation.id)
        .join(Report, Recommendation.report_id == Report.id)
        .where(RecommendationEvent.status_after.is_not(None), visible)
        .order_by(RecommendationEvent.occurred_at.desc(), RecommendationEvent.id.desc())
    )


def status_changes(
    limit: int, *, report_id: int | None = None, component_id: int | None = None
) -> sa.Select[*tuple[Any, ...]]:
    """The newest `limit` status changes of public items, newest first (one query)."""
    stmt = _changes(public_items()).limit(limit)
    if report_id is not None:
        stmt = stmt.where(Report.id == report_id)
    if component_id is not None:
        stmt = stmt.where(Recommendation.addressees.any(Addressee.component_id == component_id))
    return stmt


def followed_status_changes(
    visible: sa.ColumnElement[bool],
    report_ids: list[int],
    component_ids: list[int],
    since: datetime,
    before: datetime,
) -> sa.Select[*tuple[Any, ...]]:
    """The followers' weekly summary (app/follows): the same status changes, of the items
    its reader may read (`visible`, from app.auth.policy, instead of public items only), in
    the followed reports or addressed to the followed components, in [since, before)."""
    return _changes(visible).where(
        sa.or_(
            Report.id.in_(report_ids),
            Recommendation.addressees.any(Addressee.component_id.in_(component_ids)),
        ),
        RecommendationEvent.occurred_at >= since,
        RecommendationEvent.occurred_at < before,
    )


def addressed_components(rec_ids: Iterable[int]) -> sa.Select[int, str]:
    """(recommendation id, component abbreviation) of each addressee, lead first."""
    return (
        sa.select(Addressee.recommendation_id, Component.abbreviation)
        .join(Component, Addressee.component_id == Component.id)
        .where(Addressee.recommendation_id.in_(list(rec_ids)))
        .order_by(Addressee.recommendation_id, Addressee.is_lead.desc(), Addressee.id)
    )
