"""Personal access tokens for the JSON API (issue 16, app/tokens): a user's named,
scoped, expiring, revocable credential. Only the SHA-256 of the secret is stored: the
secret is 256 random bits, so a slow hash (argon2id, for passwords people choose) adds
nothing but a cost on every API request."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, enum_type, utcnow
from app.extensions import Model
from app.models.enums import LabeledEnum

if TYPE_CHECKING:
    from app.models.user import User


class TokenScope(LabeledEnum):
    READ = "read", "Read"
    WRITE = "write", "Read and write"


class ApiToken(Model):
    """One personal access token. `prefix` (the secret's first characters) names it on
    pages and in the audit trail; the secret itself is shown once, when it is made."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    prefix: Mapped[str] = mapped_column(sa.String(16))
    secret_hash: Mapped[str] = mapped_column(sa.String(64), unique=True, info={"audit": "redact"})
    scope: Mapped[TokenScope] = mapped_column(enum_type(TokenScope, "token_scope"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # Bookkeeping written on use: not an audited change, and no cached figure reads it.
    last_used_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, info={"audit": False, "derived": False}
    )
    last_used_address: Mapped[str | None] = mapped_column(
        sa.String(45), info={"audit": False, "derived": False}
    )

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    __table_args__ = (
        sa.CheckConstraint("name <> ''", name="name_not_empty"),
        sa.CheckConstraint("expires_at > created_at", name="expires_after_creation"),
    )

    def __repr__(self) -> str:
        return f"<ApiToken {self.prefix} user={self.user_id} {self.scope}>"
