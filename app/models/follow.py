"""Followers: a user follows a report or a component and gets a weekly summary of its
status changes (app/follows)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime, utcnow
from app.extensions import Model


class Follow(Model):
    """One user following one report or one component (exactly one of the two)."""

    __tablename__ = "follows"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    report_id: Mapped[int | None] = mapped_column(sa.ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    component_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("components.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("(report_id IS NULL) <> (component_id IS NULL)", name="one_target"),
        sa.UniqueConstraint("user_id", "report_id", name="uq_follows_user_report"),
        sa.UniqueConstraint("user_id", "component_id", name="uq_follows_user_component"),
    )

    def __repr__(self) -> str:
        return f"<Follow user={self.user_id} report={self.report_id} component={self.component_id}>"
