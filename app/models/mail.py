"""E-mail: each user's notification preferences, and the outbox every message goes
through (app/mail)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import JSONType, UTCDateTime, enum_type, utcnow
from app.extensions import Model
from app.models.enums import LabeledEnum

if TYPE_CHECKING:
    from app.models.user import User


class DigestFrequency(LabeledEnum):
    DAILY = "daily", "Every day something is due"
    WEEKLY = "weekly", "Weekly, on Mondays"
    OFF = "off", "Never"


class NoticeKind(LabeledEnum):
    """Event notices a user may choose to get (issue 15, "What is sent" 3)."""

    RESPONSE_RETURNED = "response_returned", "A response or closure request is returned"
    DECISION_MADE = "decision_made", "The OIG decides (resolves or closes) a recommendation"
    REOPENED = "reopened", "A recommendation is reopened"
    NEW_RECOMMENDATION = "new_recommendation", "A new recommendation is addressed to my component"
    TARGET_MOVED = "target_moved", "A target date is moved (OIG staff)"


class OutboxState(LabeledEnum):
    PENDING = "pending", "Waiting to be sent"
    SENT = "sent", "Sent"
    FAILED_PERMANENT = "failed_permanent", "Failed: will not be retried"


class MailPreference(Model):
    """What one user wants by e-mail. No row: the defaults (`defaults_for`)."""

    __tablename__ = "mail_preferences"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    digest: Mapped[DigestFrequency] = mapped_column(
        enum_type(DigestFrequency, "digest_frequency"), info={"derived": False}
    )
    notices: Mapped[list[str]] = mapped_column(JSONType, default=list, info={"derived": False})
    # The weekly summary of status changes in what the user follows (app/follows).
    follow_summary: Mapped[bool] = mapped_column(
        default=True, server_default=sa.true(), info={"derived": False}
    )
    version: Mapped[int] = mapped_column(default=1, server_default="1", info={"audit": False})

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class OutboxMessage(Model):
    """One message to one person, written once and sent by a background job.

    `key` names the message (recipient, kind, subject, period: "digest:17:2026-11-16"):
    unique, so a second scheduler run, a retried job or a second scheduler inserts
    nothing new. Bodies hold identifiers, statuses, dates and links only."""

    __tablename__ = "mail_outbox"
    # Bookkeeping, not data: sends and permanent failures are audited explicitly
    # (app/mail/delivery.py), and queueing mail must not move the data version.
    __audited__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    recipient: Mapped[str] = mapped_column(sa.String(254))
    kind: Mapped[str] = mapped_column(sa.String(40))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body_text: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text)
    state: Mapped[OutboxState] = mapped_column(
        enum_type(OutboxState, "outbox_state"), default=OutboxState.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A worker sending the message holds it until then (a dead worker's claim runs out).
    claimed_by: Mapped[str | None] = mapped_column(sa.String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    __table_args__ = (
        sa.Index("ix_mail_outbox_due", "state", "next_attempt_at"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.key} {self.state}>"


def preference_defaults(role: Any) -> DigestFrequency:
    """The digest frequency of a user who never chose: daily for those who owe or decide
    something (liaisons, OIG staff, admins), off for read-only accounts."""
    from app.models.enums import Role

    return DigestFrequency.OFF if role == Role.VIEWER else DigestFrequency.DAILY


def default_notices(role: Any) -> list[str]:
    """The notices of a user who never chose: none. Each person turns on the ones they
    want (a first import or seed would otherwise mail a notice per recommendation)."""
    return []
