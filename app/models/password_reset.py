"""Password-reset links (app/auth/reset.py): only a hash of each link's token is kept."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, utcnow
from app.extensions import Model
from app.models.user import User


class PasswordResetToken(Model):
    """One e-mailed reset link: works once, until `expires_at`."""

    __tablename__ = "password_reset_tokens"
    # A secret's hash, not a record: requests, uses and refusals are audited explicitly
    # (app/auth/reset.py), and the hash never goes into the audit trail.
    __audited__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # SHA-256 of the token (32 random bytes): the link's token itself is never stored.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<PasswordResetToken {self.id} user {self.user_id}>"
