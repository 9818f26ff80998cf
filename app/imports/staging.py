"""Where an upload waits, per user, between its dry run and its commit: a row of
`staged_uploads` and its bytes in the blob store, so any app server can commit it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.database import utcnow
from app.models import StagedUpload
from app.storage import STAGED_UPLOAD_LIFETIME, BlobStore, staged_expired

TOKEN_RE = re.compile(r"^[0-9a-f]{64}$")


class StagedExpired(LookupError):
    """The file waited its time out (STAGED_IMPORT_TTL_HOURS): its dry run expired."""


@dataclass(frozen=True)
class Staged:
    data: bytes
    filename: str


class Staging:
    """The uploads one user has waiting. Flushes, never commits."""

    def __init__(
        self, session: Session, store: BlobStore, user_id: int, ttl: timedelta = STAGED_UPLOAD_LIFETIME
    ) -> None:
        self.session = session
        self.store = store
        self.user_id = user_id
        self.ttl = ttl

    def _row(self, token: str) -> StagedUpload | None:
        if not TOKEN_RE.match(token):
            raise ValueError("not a staging token")
        return self.session.scalar(
            sa.select(StagedUpload).where(StagedUpload.user_id == self.user_id, StagedUpload.token == token)
        )

    def put(self, data: bytes, filename: str) -> str:
        """Keep the file; its token (the content hash) names it in the commit form."""
        token = self.store.put(self.session, data)
        row = self._row(token)
        if row is None:
            row = StagedUpload(user_id=self.user_id, token=token, sha256=token)
            self.session.add(row)
        row.filename = filename[:255]
        row.created_at = utcnow()
        self.session.flush()
        return token

    def get(self, token: str) -> Staged | None:
        """The waiting file, or None when nothing waits under this token (ValueError
        for a token this code did not make, StagedExpired when it waited `ttl` or longer
        and the sweep has not removed it yet)."""
        row = self._row(token)
        if row is None:
            return None
        if staged_expired(row.created_at, utcnow(), self.ttl):
            raise StagedExpired(token)
        data = self.store.get(self.session, row.sha256)
        return None if data is None else Staged(data, row.filename)

    def discard(self, token: str) -> bool:
        """Stop keeping the file; False when it was no longer waiting (another request
        took it first)."""
        if not TOKEN_RE.match(token):
            raise ValueError("not a staging token")
        result = self.session.execute(
            sa.delete(StagedUpload)
            .where(StagedUpload.user_id == self.user_id, StagedUpload.token == token)
            .execution_options(synchronize_session="fetch")
        )
        return bool(getattr(result, "rowcount", 0))
