"""Rendered PDFs, shared by every app server and worker through the database.

Keys are hashes of everything a PDF depends on (app.pdf.services.etag_for), so a stale
entry is never served: a write anywhere changes the data version and with it every key,
and what a reader may see is part of the key, so no reader is served another's PDF."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app import clock, storage
from app.models import PdfCacheEntry
from app.storage import BlobStore

log = logging.getLogger(__name__)

storage.register_reference(PdfCacheEntry.sha256)


def cache_key(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


class PdfCache:
    """key → PDF bytes (a blob), for `ttl` after it was made. A cache that fails (its
    table or its store refusing) is a miss with a warning in the log, never a failed
    request: the PDF is made again, and served."""

    def __init__(self, session: Session, store: BlobStore, ttl: timedelta) -> None:
        self.session, self.store, self.ttl = session, store, ttl

    def get(self, key: str) -> bytes | None:
        try:
            with storage.apart(self.session):
                return self._get(key)
        except storage.STORE_ERRORS as exc:
            log.warning("PDF cache read failed (%s), treated as a miss: key %s", type(exc).__name__, key[:16])
            return None

    def put(self, key: str, pdf: bytes) -> None:
        """Keep the PDF (in the caller's transaction, in a savepoint of its own: a cache
        that cannot keep it logs a warning and the caller goes on)."""
        try:
            with storage.apart(self.session):
                self._put(key, pdf)
        except storage.STORE_ERRORS as exc:
            log.warning("PDF cache write failed (%s), not cached: key %s", type(exc).__name__, key[:16])

    def _get(self, key: str) -> bytes | None:
        entry = self.session.get(PdfCacheEntry, key)
        if entry is None or entry.expires_at <= clock.now():
            return None
        return self.store.get(self.session, entry.sha256)

    def _put(self, key: str, pdf: bytes) -> None:
        """Two workers making the same PDF at once keep the first: the bytes are the same."""
        now = clock.now()
        values = {"key": key, "sha256": self.store.put(self.session, pdf), "created_at": now}
        values["expires_at"] = now + self.ttl
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        self.session.execute(
            insert(PdfCacheEntry).values(values).on_conflict_do_nothing(index_elements=["key"])
        )


def remove_expired(session: Session, now: datetime) -> int:
    """Forget entries past their time (the storage's garbage collection frees the bytes)."""
    result = session.execute(
        sa.delete(PdfCacheEntry)
        .where(PdfCacheEntry.expires_at <= now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
