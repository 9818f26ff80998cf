"""Stored bytes (content-addressed blobs) and import uploads waiting for their commit.

Both live in the database so that every app server sees them (app/storage.py)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime, utcnow
from app.extensions import Model


class Blob(Model):
    """The bytes of a document or an upload, named by their SHA-256. Referenced by hash
    (app.storage.REFERENCES), never by a foreign key: `storage gc` removes a blob nothing
    refers to. `created_at` is when the bytes were last stored (a repeated put renews it,
    so the garbage collector leaves alone a blob a transaction is about to refer to)."""

    __tablename__ = "blobs"
    __audited__ = False  # bytes, not records; the rows that refer to them are audited

    sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    size_bytes: Mapped[int] = mapped_column()
    data: Mapped[bytes] = mapped_column(sa.LargeBinary())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("size_bytes >= 0", name="size_not_negative"),
        sa.CheckConstraint("length(sha256) = 64", name="sha256_length"),
    )


class StagedUpload(Model):
    """An import file that passed its dry run, waiting for the same user to commit it.
    `token` is the SHA-256 of the file (the commit form names it); the bytes are the
    blob `sha256`."""

    __tablename__ = "staged_uploads"
    __audited__ = False  # a file waiting, not a record; the import itself is audited

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(64))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(sa.String(255))
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    __table_args__ = (
        sa.UniqueConstraint("user_id", "token"),
        sa.CheckConstraint("length(token) = 64", name="token_length"),
    )
