"""Second factors (issue 17, app/mfa): WebAuthn security keys and passkeys, TOTP
authenticator apps, and single-use recovery codes. Secrets are never audited: a key's
public key and a TOTP secret are redacted in the audit trail, recovery codes are kept
only as SHA-256 digests (each is 80 random bits: a slow hash would add nothing)."""

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


class FactorKind(LabeledEnum):
    WEBAUTHN = "webauthn", "Security key or passkey"
    TOTP = "totp", "Authenticator app (TOTP)"


class MfaFactor(Model):
    """One second factor of an account, named by its owner."""

    __tablename__ = "mfa_factors"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[FactorKind] = mapped_column(enum_type(FactorKind, "factor_kind"))
    name: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Bookkeeping written on each use: not an audited change (the sign-in event says it).
    last_used_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, info={"audit": False, "derived": False}
    )
    # WebAuthn: the credential's id (unique across accounts), its COSE public key and the
    # authenticator's signature counter (a count that goes back means a cloned key).
    credential_id: Mapped[bytes | None] = mapped_column(sa.LargeBinary(1024), unique=True)
    public_key: Mapped[bytes | None] = mapped_column(sa.LargeBinary(2048), info={"audit": "redact"})
    sign_count: Mapped[int] = mapped_column(
        default=0, server_default="0", info={"audit": False, "derived": False}
    )
    # Whether the authenticator keeps the credential itself (a passkey: sign-in without a password).
    discoverable: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # TOTP: the shared secret (base32) and the last time step a code was accepted for;
    # a code of that step or an earlier one is never accepted again.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64), info={"audit": "redact"})
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger, info={"audit": False, "derived": False})

    user: Mapped[User] = relationship()

    __table_args__ = (
        sa.CheckConstraint("name <> ''", name="name_not_empty"),
        sa.CheckConstraint(
            "(kind = 'webauthn' AND credential_id IS NOT NULL AND public_key IS NOT NULL"
            " AND totp_secret IS NULL) OR (kind = 'totp' AND totp_secret IS NOT NULL"
            " AND credential_id IS NULL)",
            name="kind_fields",
        ),
    )

    def __repr__(self) -> str:
        return f"<MfaFactor {self.kind} {self.name!r} user={self.user_id}>"


class RecoveryCode(Model):
    """One single-use recovery code, as its SHA-256 (the code is shown once)."""

    __tablename__ = "mfa_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True, info={"audit": "redact"})
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<RecoveryCode user={self.user_id} used={self.used_at is not None}>"
