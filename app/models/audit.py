"""The append-only audit trail: every change, every sign-in attempt, and reads of restricted
items, downloads, exports and refused requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.database import JSONType, UTCDateTime, utcnow
from app.extensions import Model


class AuditEvent(Model):
    """Never updated or deleted: the ORM refuses it (app.audit) and so do database
    triggers (the first migration; on PostgreSQL, TRUNCATE too since 0006). The app's
    runtime role cannot alter or drop them (app/db_roles.py)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    actor_label: Mapped[str] = mapped_column(sa.String(254))  # e-mail, or "cli: seed"
    actor_role: Mapped[str] = mapped_column(sa.String(20))
    action: Mapped[str] = mapped_column(sa.String(60), index=True)
    object_type: Mapped[str | None] = mapped_column(sa.String(60))
    object_id: Mapped[int | None] = mapped_column()
    # The record named in words when the event was written ("OIG-12-15 #3 / FEMA"); see app/audit_labels.py.
    object_label: Mapped[str | None] = mapped_column(sa.String(200))
    changes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    source_ip: Mapped[str | None] = mapped_column(sa.String(45))
    outcome: Mapped[str] = mapped_column(sa.String(20), default="success")

    __table_args__ = (
        sa.Index("ix_audit_events_object", "object_type", "object_id"),
        sa.CheckConstraint("outcome IN ('success', 'failure', 'denied')", name="outcome_known"),
    )

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action} {self.object_type}:{self.object_id}>"
