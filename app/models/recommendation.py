"""Recommendations and the components they are addressed to."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, MappedColumn, joinedload, mapped_column, relationship, selectinload

from app import clock
from app.database import UTCDateTime, enum_type, utcnow
from app.extensions import Model
from app.models.component import Component
from app.models.enums import (
    ClosureState,
    Concurrence,
    ListedStatus,
    RecStatus,
    ResponseState,
    Sensitivity,
    TextSource,
)
from app.models.report import Report

if TYPE_CHECKING:
    from app.models.history import Attachment, RecommendationEvent

Money = sa.Numeric(14, 2)


def _state_column(start: enum.Enum, name: str) -> MappedColumn[Any]:
    """An indexed state column of `start`'s enum, at `start` until a step moves it (in the
    database's default too)."""
    return mapped_column(enum_type(type(start), name), default=start, server_default=start.value, index=True)


def _today() -> date:
    return clock.today()


NUMBER_NOT_KNOWN = "number not known"

RecKey = tuple[int, int, str]


def rec_key(number: int | None, text: str) -> RecKey:
    """How a file (seed, import) names a recommendation within its report: by its number,
    or by its exact text when the number is not known. Sorts numbered ones first."""
    return (0, number, "") if number is not None else (1, 0, text.strip())


class Recommendation(Model):
    __tablename__ = "recommendations"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("reports.id", ondelete="CASCADE"))
    # The number printed in the report; NULL when no source read gives it (the page then
    # says "number not known"; files identify such a recommendation by its text).
    number: Mapped[int | None] = mapped_column()
    text: Mapped[str] = mapped_column(sa.Text)
    text_source: Mapped[TextSource] = mapped_column(
        enum_type(TextSource, "text_source"), default=TextSource.VERBATIM
    )
    # NULL: not listed (a source that does not say); the add form asks. No default: a
    # default would turn an explicit None into false on INSERT.
    significant: Mapped[bool | None] = mapped_column()
    # NULL means "not recorded"; zero is a recorded zero.
    questioned_costs: Mapped[Decimal | None] = mapped_column(Money)
    funds_put_to_better_use: Mapped[Decimal | None] = mapped_column(Money)
    sensitivity: Mapped[Sensitivity] = mapped_column(
        enum_type(Sensitivity, "sensitivity"), default=Sensitivity.PUBLIC
    )
    status: Mapped[RecStatus] = mapped_column(
        enum_type(RecStatus, "rec_status"), default=RecStatus.OPEN_UNRESOLVED, index=True
    )
    # Current-state shortcuts for clocks and lists; the history events are the record.
    resolved_on: Mapped[date | None] = mapped_column()
    closed_on: Mapped[date | None] = mapped_column(index=True)
    decision_note: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # Due dates computed from the state (app.lifecycle.deadlines.rec_due_dates) and kept
    # fresh by app.lifecycle.due_dates; NULL while the clock does not run.
    resolution_due: Mapped[date | None] = mapped_column(index=True, info={"audit": False})
    gao_ig_act_from: Mapped[date | None] = mapped_column(index=True, info={"audit": False})
    # The day RecTrack began tracking it: the day it was entered or imported (the seed:
    # the day the seed was loaded). The services set it; the default is app.clock's today.
    tracked_since: Mapped[date] = mapped_column(default=_today)
    # Where the text was read, when not on the report's own page (a recommendation page).
    source_url: Mapped[str | None] = mapped_column(sa.String(500))
    # What an outside source (oversight.gov) listed as its status, and when that page was
    # read (NULL: not recorded). A fact about that page, never a RecTrack status or decision.
    listed_status: Mapped[ListedStatus | None] = mapped_column(enum_type(ListedStatus, "listed_status"))
    listed_in: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    listed_read_on: Mapped[date | None] = mapped_column()
    # Priority recommendation (CIGIE), flagged by OIG staff; the reason of the last change.
    priority: Mapped[bool] = mapped_column(default=False, server_default=sa.false(), index=True)
    priority_reason: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # The earlier recommendation this one repeats or rolls forward (app/recommendations/repeats.py).
    repeats_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("recommendations.id", ondelete="SET NULL"), index=True
    )
    repeat_note: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    version: Mapped[int] = mapped_column(default=1, server_default="1", info={"audit": False})
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, info={"audit": False})
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, info={"audit": False}
    )

    report: Mapped[Report] = relationship(back_populates="recommendations")
    addressees: Mapped[list[Addressee]] = relationship(
        back_populates="recommendation",
        cascade="all, delete-orphan",
        order_by="(Addressee.is_lead.desc(), Addressee.id)",
    )
    events: Mapped[list[RecommendationEvent]] = relationship(
        back_populates="recommendation",
        passive_deletes="all",  # the database's ON DELETE CASCADE; the ORM never touches them
        order_by="(RecommendationEvent.effective_on, RecommendationEvent.id)",
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="recommendation", passive_deletes="all", order_by="Attachment.id"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    __table_args__ = (
        sa.UniqueConstraint("report_id", "number"),
        sa.CheckConstraint("number IS NULL OR number > 0", name="number_positive"),
        sa.CheckConstraint(
            "questioned_costs IS NULL OR questioned_costs >= 0", name="questioned_costs_not_negative"
        ),
        sa.CheckConstraint(
            "funds_put_to_better_use IS NULL OR funds_put_to_better_use >= 0",
            name="funds_put_to_better_use_not_negative",
        ),
        sa.CheckConstraint("repeats_id IS NULL OR repeats_id <> id", name="not_repeating_itself"),
        sa.CheckConstraint("NOT priority OR priority_reason <> ''", name="priority_has_reason"),
        # The dashboard's counts read these from the index alone (migration 0032): the
        # closings of the last two periods, and the open recommendations' ages, money,
        # flags and resolution clock.
        sa.Index("ix_recommendations_status_closed_on", "status", "closed_on"),
        sa.Index(
            "ix_recommendations_status_counts",
            "status",
            "report_id",
            "sensitivity",
            "priority",
            "tracked_since",
            "resolution_due",
            "questioned_costs",
            "funds_put_to_better_use",
        ),
    )

    @property
    def lead(self) -> Addressee | None:
        return next((a for a in self.addressees if a.is_lead), None)

    @property
    def heading(self) -> str:
        """ "Recommendation 3", or "Recommendation, number not known"."""
        return (
            f"Recommendation {self.number}"
            if self.number is not None
            else f"Recommendation, {NUMBER_NOT_KNOWN}"
        )

    @property
    def tag(self) -> str:
        """ "#3" after a report's number, or "(number not known)"."""
        return f"#{self.number}" if self.number is not None else f"({NUMBER_NOT_KNOWN})"

    @property
    def anchor(self) -> str:
        """The id of its section on the report page: "rec-3", or "rec-id-17"."""
        return f"rec-{self.number}" if self.number is not None else f"rec-id-{self.id}"

    def __str__(self) -> str:
        return self.heading

    def __repr__(self) -> str:
        return f"<Recommendation {self.report_id}#{self.number if self.number is not None else '?'}>"


class Addressee(Model):
    """One component's part of a recommendation, with its own concurrence."""

    __tablename__ = "addressees"

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(sa.ForeignKey("recommendations.id", ondelete="CASCADE"))
    component_id: Mapped[int] = mapped_column(sa.ForeignKey("components.id", ondelete="RESTRICT"), index=True)
    is_lead: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    concurrence: Mapped[Concurrence] = mapped_column(
        enum_type(Concurrence, "concurrence"), default=Concurrence.PENDING
    )
    response: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    response_date: Mapped[date | None] = mapped_column()
    # The component's written response (DHS Directive 077-01) and where it stands.
    response_state: Mapped[ResponseState] = _state_column(ResponseState.NONE, "response_state")
    corrective_action_plan: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    target_date: Mapped[date | None] = mapped_column(index=True)
    responsible_official: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    evaluation_note: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    last_update_on: Mapped[date | None] = mapped_column()
    # When the OIG returned the response or reopened the recommendation: the day the new
    # response is due (NULL: due 90 days after the issue date). Set by those steps.
    response_due_on: Mapped[date | None] = mapped_column()
    closure_state: Mapped[ClosureState] = _state_column(ClosureState.NONE, "closure_state")
    # The day closure was last requested or the request returned (the update clock pauses
    # while requested and restarts on a return).
    closure_state_on: Mapped[date | None] = mapped_column()
    closure_justification: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    closure_note: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # Due dates computed from the state (app.lifecycle.deadlines.addressee_due_dates) and
    # kept fresh by app.lifecycle.due_dates; NULL while the clock does not run.
    # `response_due` is the effective one: response_due_on when set, else 90 days after issue.
    response_due: Mapped[date | None] = mapped_column(index=True, info={"audit": False})
    update_due: Mapped[date | None] = mapped_column(index=True, info={"audit": False})
    target_due: Mapped[date | None] = mapped_column(index=True, info={"audit": False})
    version: Mapped[int] = mapped_column(default=1, server_default="1", info={"audit": False})

    recommendation: Mapped[Recommendation] = relationship(back_populates="addressees")
    component: Mapped[Component] = relationship()

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    __table_args__ = (
        sa.UniqueConstraint("recommendation_id", "component_id"),
        # At most one lead per recommendation.
        sa.Index(
            "uq_addressees_one_lead",
            "recommendation_id",
            unique=True,
            sqlite_where=sa.text("is_lead"),
            postgresql_where=sa.text("is_lead"),
        ),
        # A late clock's recommendations, read from the index alone (migration 0032).
        sa.Index("ix_addressees_response_due_rec", "response_due", "recommendation_id"),
        sa.Index("ix_addressees_update_due_rec", "update_due", "recommendation_id"),
        sa.Index("ix_addressees_target_due_rec", "target_due", "recommendation_id"),
    )

    def __str__(self) -> str:
        return f"{self.component.abbreviation if self.component else self.component_id}"

    @property
    def has_response(self) -> bool:
        return self.response_state in (ResponseState.SUBMITTED, ResponseState.ACCEPTED)

    def __repr__(self) -> str:
        return f"<Addressee rec={self.recommendation_id} component={self.component_id}>"


def recommendation_detail(rec_id: int) -> sa.Select[Recommendation]:
    """One recommendation with its report and addressees."""
    return (
        sa.select(Recommendation)
        .where(Recommendation.id == rec_id)
        .options(
            joinedload(Recommendation.report).selectinload(Report.components),
            selectinload(Recommendation.addressees).joinedload(Addressee.component),
        )
    )
