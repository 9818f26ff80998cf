"""Component listings with their recommendation counts."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app.auth import policy
from app.models import Addressee, Component, Recommendation, RecStatus, Report


def components_with_counts(user: Any) -> sa.Select[*tuple[Any, ...]]:
    """Each component with the recommendations addressed to it that the user may read,
    in total and still open (the same rows the list filtered by component shows)."""
    parent = aliased(Component)
    counts = (
        sa.select(
            Addressee.component_id.label("component_id"),
            sa.func.count().label("total"),
            sa.func.count().filter(Recommendation.status.in_(RecStatus.open_values())).label("open"),
        )
        .join(Recommendation, Recommendation.id == Addressee.recommendation_id)
        .join(Report, Report.id == Recommendation.report_id)
        .where(policy.report_visibility(user), policy.recommendation_visibility(user))
        .group_by(Addressee.component_id)
        .subquery()
    )
    return (
        sa.select(
            Component,
            parent.abbreviation.label("parent_abbreviation"),
            sa.func.coalesce(counts.c.total, 0).label("total"),
            sa.func.coalesce(counts.c.open, 0).label("open"),
        )
        .outerjoin(parent, parent.id == Component.parent_id)
        .outerjoin(counts, counts.c.component_id == Component.id)
        .order_by(Component.parent_id.is_not(None), Component.abbreviation)
    )
