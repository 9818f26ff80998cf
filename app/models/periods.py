"""State periods: how each recommendation and each addressee's part stood, day by day,
rebuilt from the history (app.lifecycle.periods keeps them in step).

A period holds the state at the end of every day from `valid_from` up to, not
including, `valid_until` (NULL: still the state). The columns carry the names of the
Recommendation and Addressee columns they copy, so a list criterion written on those
columns reads a past date's state by swapping the columns (app.lifecycle.periods.AsOf).
Derived data, like the search documents: the events are the record.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.database import enum_type
from app.extensions import Model
from app.models.enums import ClosureState, Concurrence, RecStatus, ResponseState


class RecommendationPeriod(Model):
    """A recommendation's status and decision dates over a run of days."""

    __tablename__ = "recommendation_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(sa.ForeignKey("recommendations.id", ondelete="CASCADE"))
    valid_from: Mapped[date] = mapped_column()
    valid_until: Mapped[date | None] = mapped_column()
    status: Mapped[RecStatus] = mapped_column(enum_type(RecStatus, "rec_status"))
    resolved_on: Mapped[date | None] = mapped_column()
    closed_on: Mapped[date | None] = mapped_column()
    # The due dates of that state (app.lifecycle.deadlines.rec_due_dates).
    resolution_due: Mapped[date | None] = mapped_column()
    gao_ig_act_from: Mapped[date | None] = mapped_column()

    # Lists as of a day probe each recommendation's periods by (recommendation_id,
    # valid_from <= day): an index covering the status answers the status filters alone.
    __table_args__ = (
        sa.Index(
            "ix_recommendation_periods_timeline", "recommendation_id", "valid_from", "valid_until", "status"
        ),
    )


class AddresseePeriod(Model):
    """One component's part of a recommendation over a run of days."""

    __tablename__ = "addressee_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(sa.ForeignKey("recommendations.id", ondelete="CASCADE"))
    addressee_id: Mapped[int] = mapped_column(sa.ForeignKey("addressees.id", ondelete="CASCADE"))
    component_id: Mapped[int] = mapped_column(sa.ForeignKey("components.id", ondelete="RESTRICT"))
    valid_from: Mapped[date] = mapped_column()
    valid_until: Mapped[date | None] = mapped_column()
    concurrence: Mapped[Concurrence] = mapped_column(enum_type(Concurrence, "concurrence"))
    response: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    response_date: Mapped[date | None] = mapped_column()
    response_state: Mapped[ResponseState] = mapped_column(enum_type(ResponseState, "response_state"))
    corrective_action_plan: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    target_date: Mapped[date | None] = mapped_column()
    responsible_official: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    last_update_on: Mapped[date | None] = mapped_column()
    response_due_on: Mapped[date | None] = mapped_column()
    closure_state: Mapped[ClosureState] = mapped_column(enum_type(ClosureState, "closure_state"))
    closure_state_on: Mapped[date | None] = mapped_column()
    # The due dates of that state (app.lifecycle.deadlines.addressee_due_dates).
    response_due: Mapped[date | None] = mapped_column()
    update_due: Mapped[date | None] = mapped_column()
    target_due: Mapped[date | None] = mapped_column()

    # The clock filters as of a day probe each recommendation's parts: the index covers
    # the due dates they compare (and the component, for a liaison's own parts).
    __table_args__ = (
        sa.Index(
            "ix_addressee_periods_timeline",
            "recommendation_id",
            "valid_from",
            "valid_until",
            "response_due",
            "update_due",
            "target_due",
            "component_id",
        ),
        sa.Index("ix_addressee_periods_addressee", "addressee_id"),
    )
