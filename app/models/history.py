"""The recommendation's history (append-only events) and its supporting documents."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import JSONType, UTCDateTime, enum_type, utcnow
from app.extensions import Model
from app.models.enums import Concurrence, EventKind, RecStatus

if TYPE_CHECKING:
    from app.models.component import Component
    from app.models.recommendation import Addressee, Recommendation


class RecommendationEvent(Model):
    """One step in a recommendation's life. Never changed or deleted by the app.

    `effective_on` is the date the step took effect (the report's issue date for the
    issuance event); `occurred_at` is when it was recorded. The status, concurrence and
    target date of any past date are rebuilt from the `*_after` columns.
    """

    __tablename__ = "recommendation_events"
    __append_only__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(sa.ForeignKey("recommendations.id", ondelete="CASCADE"))
    addressee_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("addressees.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[EventKind] = mapped_column(enum_type(EventKind, "event_kind"))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(sa.String(254))
    actor_role: Mapped[str] = mapped_column(sa.String(20))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    effective_on: Mapped[date] = mapped_column()
    status_after: Mapped[RecStatus | None] = mapped_column(enum_type(RecStatus, "rec_status"))
    concurrence_after: Mapped[Concurrence | None] = mapped_column(enum_type(Concurrence, "concurrence"))
    target_date_after: Mapped[date | None] = mapped_column()
    note: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    recommendation: Mapped[Recommendation] = relationship(back_populates="events")
    addressee: Mapped[Addressee | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(back_populates="event", order_by="Attachment.id")

    __table_args__ = (
        sa.Index("ix_recommendation_events_timeline", "recommendation_id", "effective_on", "id"),
    )

    @property
    def previous_target_date(self) -> date | None:
        """The target date this step replaced (kept in `details` as YYYY-MM-DD)."""
        value = (self.details or {}).get("previous_target_date")
        return date.fromisoformat(value) if value else None

    def __repr__(self) -> str:
        return f"<RecommendationEvent {self.id} {self.kind} rec={self.recommendation_id}>"


class Attachment(Model):
    """A supporting document. The bytes live outside static/ under a content-hash name.

    `component_id` is the component the document belongs to (NULL: the OIG's own). It is
    set when the document is uploaded and never follows the addressee row: if OIG staff
    remove that component from the recommendation, `addressee_id` goes to NULL but the
    document stays that component's, never anyone else's or the OIG's."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("recommendations.id", ondelete="CASCADE"), index=True
    )
    addressee_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("addressees.id", ondelete="SET NULL"), index=True
    )
    event_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("recommendation_events.id", ondelete="SET NULL"), index=True
    )
    component_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("components.id", ondelete="RESTRICT"), index=True
    )
    sha256: Mapped[str] = mapped_column(sa.String(64))
    size_bytes: Mapped[int] = mapped_column()
    content_type: Mapped[str] = mapped_column(sa.String(120))
    original_name: Mapped[str] = mapped_column(sa.String(200))
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recommendation: Mapped[Recommendation] = relationship(back_populates="attachments")
    addressee: Mapped[Addressee | None] = relationship()
    component: Mapped[Component | None] = relationship()
    event: Mapped[RecommendationEvent | None] = relationship(back_populates="attachments")

    __table_args__ = (
        sa.CheckConstraint("size_bytes >= 0", name="size_not_negative"),
        sa.CheckConstraint("length(sha256) = 64", name="sha256_length"),
    )

    @property
    def size_label(self) -> str:
        size = float(self.size_bytes)
        for unit in ("bytes", "KB", "MB"):
            if size < 1024 or unit == "MB":
                return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
            size /= 1024
        return f"{size:.1f} MB"
