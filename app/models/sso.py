"""Single sign-on links (app/auth/sso_services.py): which identity at which OpenID
provider signs in to which account. The first sign-in through a provider matches the
account by verified e-mail and records the link; later ones match by the link alone."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, utcnow
from app.extensions import Model

if TYPE_CHECKING:
    from app.models.user import User


class SsoIdentity(Model):
    """One (issuer, subject) pair, the OpenID Connect identity of one account. An account
    has at most one identity per issuer, and an identity belongs to one account."""

    __tablename__ = "sso_identities"
    # Linking is audited by an explicit event ("sso_link", with provider, issuer and
    # subject), named by its account, rather than as a bare row insert.
    __audited__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(sa.String(255))
    subject: Mapped[str] = mapped_column(sa.String(255))
    # The configured provider's name when the link was made (providers may be renamed;
    # the issuer is what matches).
    provider: Mapped[str] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("issuer", "subject"),
        sa.UniqueConstraint("user_id", "issuer"),
        sa.CheckConstraint("issuer <> '' AND subject <> ''", name="not_empty"),
    )

    def __repr__(self) -> str:
        return f"<SsoIdentity {self.provider} {self.subject} user={self.user_id}>"
