"""Where stored bytes live: content-addressed blobs that every app server can read.

`put(session, data)` keeps the bytes as part of the caller's transaction and returns their
SHA-256; `get(session, sha256)` gives them back. Two back ends (STORAGE_BACKEND):

- "database" (the default): the `blobs` table. A rolled-back transaction leaves no row;
  the same bytes twice are one row, also when two transactions store them at once.
- "filesystem": files under ATTACHMENT_DIR (`ab/abcdef...`), for a directory every server
  mounts. The bytes wait in a temporary file that is moved into place only once the
  transaction commits, and removed when it rolls back.

Rows refer to blobs by hash, not by foreign key. Every such column is registered in
REFERENCES (`register_reference`); `collect_garbage` (`flask --app app storage gc`, and the
scheduler's `rectrack.sweep_storage`) removes import uploads left waiting past
STAGED_IMPORT_TTL_HOURS, then the blobs none of them names.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import InstrumentedAttribute, Session, SessionTransaction

from app.database import utcnow
from app.models import Attachment, Blob, StagedUpload

log = logging.getLogger(__name__)

BACKENDS = ("database", "filesystem")
# A blob stored this recently is never collected: a transaction may be about to refer to it.
GRACE = timedelta(hours=1)
# An import upload waits this long for its commit (STAGED_IMPORT_TTL_HOURS's default).
STAGED_UPLOAD_LIFETIME = timedelta(days=1)

# What a failing store raises: a file system refusing (read-only, full, gone) or the
# database refusing the blobs table.
STORE_ERRORS: tuple[type[BaseException], ...] = (OSError, SQLAlchemyError)

# The columns that hold the SHA-256 of a blob they need.
REFERENCES: list[InstrumentedAttribute[str]] = [Attachment.sha256, StagedUpload.sha256]


def register_reference(column: InstrumentedAttribute[str]) -> None:
    """Name another column whose values are blob hashes, so `collect_garbage` keeps them."""
    if not any(column is known for known in REFERENCES):
        REFERENCES.append(column)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore(Protocol):
    def put(self, session: Session, data: bytes) -> str:
        """Store the bytes with the session's transaction; their SHA-256."""

    def get(self, session: Session, sha256: str) -> bytes | None:
        """The bytes stored under this hash, or None."""

    def remove_unreferenced(self, session: Session, referenced: sa.Select[Any], before: datetime) -> int:
        """Remove what no referenced hash names and was stored before `before`; how many."""


class DatabaseBlobStore:
    """Blobs in the `blobs` table, written in the caller's transaction."""

    def put(self, session: Session, data: bytes) -> str:
        sha = digest(data)
        table = Blob.__table__
        now = utcnow()
        # Already there: renew created_at (no bytes sent again). The row lock this takes
        # makes a concurrent `storage gc` wait, then see a fresh blob and keep it.
        touched = session.execute(
            table.update().where(table.c.sha256 == sha).values(created_at=now),
            execution_options={"synchronize_session": False},
        )
        if getattr(touched, "rowcount", 0):
            return sha
        values = {"sha256": sha, "size_bytes": len(data), "data": data, "created_at": now}
        dialect = session.get_bind().dialect.name
        insert: sa.Executable
        if dialect == "postgresql":
            insert = postgresql.insert(table).values(values).on_conflict_do_nothing(index_elements=["sha256"])
        elif dialect == "sqlite":
            insert = sqlite.insert(table).values(values).on_conflict_do_nothing(index_elements=["sha256"])
        else:
            insert = table.insert().values(values)
        session.execute(insert)
        return sha

    def get(self, session: Session, sha256: str) -> bytes | None:
        return session.scalar(sa.select(Blob.data).where(Blob.sha256 == sha256))

    def remove_unreferenced(self, session: Session, referenced: sa.Select[Any], before: datetime) -> int:
        result = session.execute(
            sa.delete(Blob)
            .where(Blob.sha256.not_in(referenced), Blob.created_at < before)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)


PENDING_KEY = "storage.pending_files"


class FileBlobStore:
    """Blobs as files under `root`, moved into place when the transaction commits."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, session: Session, data: bytes) -> str:
        sha = digest(data)
        target = self.path(sha)
        session.connection()  # begin the transaction the file waits for
        stamp = utcnow().timestamp()  # the app's clock, not the file system's
        if target.exists():
            os.utime(target, (stamp, stamp))  # stored again: not garbage for another GRACE
            return sha
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.utime(tmp, (stamp, stamp))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        session.info.setdefault(PENDING_KEY, []).append((Path(tmp), target))
        return sha

    def get(self, session: Session, sha256: str) -> bytes | None:
        try:
            return self.path(sha256).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            return None

    def remove_unreferenced(self, session: Session, referenced: sa.Select[Any], before: datetime) -> int:
        keep = set(session.scalars(referenced))
        removed = 0
        for path in self.root.glob("??/*"):
            name = path.name
            if len(name) != 64 or name in keep or not path.is_file():
                continue
            if datetime.fromtimestamp(path.stat().st_mtime, tz=before.tzinfo) >= before:
                continue
            path.unlink(missing_ok=True)
            removed += 1
        return removed


def _pending(session: Session) -> list[tuple[Path, Path]]:
    return list(session.info.pop(PENDING_KEY, []))


@contextmanager
def apart(session: Session) -> Iterator[None]:
    """Run storage work in a savepoint: when it raises, only its own writes are undone
    (its rows, and its files waiting for the commit), the caller's transaction goes on,
    and the error is raised again for the caller to decide (a cache: a miss)."""
    mark = len(session.info.get(PENDING_KEY, []))
    savepoint = session.begin_nested()
    try:
        yield
        savepoint.commit()  # flushes what the block left pending: it may fail too
    except BaseException:
        with suppress(sa.exc.InvalidRequestError):  # already ended
            savepoint.rollback()  # also when a failed flush deactivated it
        waiting = session.info.get(PENDING_KEY, [])
        for tmp, _target in waiting[mark:]:
            tmp.unlink(missing_ok=True)
        del waiting[mark:]
        raise


@event.listens_for(Session, "after_commit")
def _move_files_into_place(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint's release: the outer one may roll back
        return
    for tmp, target in _pending(session):
        try:
            os.replace(tmp, target)
        except OSError as exc:
            # The transaction has committed: raising here would turn a saved change into
            # an error page. The row now names bytes that are not there; its download
            # says so (app.lifecycle.views.download) and this line tells the operator.
            log.error("stored file %s not moved into place: %s", target.name, type(exc).__name__)
            tmp.unlink(missing_ok=True)


def _remove_temporary_files(session: Session) -> None:
    for tmp, _target in _pending(session):
        tmp.unlink(missing_ok=True)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint
        _remove_temporary_files(session)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # A session closed without commit or rollback leaves no temporary file either.
    if transaction.parent is None:
        _remove_temporary_files(session)


def blob_store(config: Mapping[str, Any]) -> BlobStore:
    """The back end STORAGE_BACKEND names."""
    backend = config.get("STORAGE_BACKEND", "database")
    if backend == "database":
        return DatabaseBlobStore()
    if backend == "filesystem":
        return FileBlobStore(Path(config["ATTACHMENT_DIR"]))
    raise RuntimeError(f"Unknown STORAGE_BACKEND {backend!r}; use one of {', '.join(BACKENDS)}.")


def referenced_hashes() -> sa.Select[Any]:
    """Every hash a registered column names."""
    selects = [sa.select(column.label("sha256")) for column in REFERENCES]
    return sa.select(sa.union(*selects).subquery().c.sha256)


def staged_ttl(config: Mapping[str, Any]) -> timedelta:
    """How long an import file that passed its dry run waits (STAGED_IMPORT_TTL_HOURS)."""
    hours = config.get("STAGED_IMPORT_TTL_HOURS")
    return STAGED_UPLOAD_LIFETIME if hours is None else timedelta(hours=hours)


def staged_expired(created_at: datetime, now: datetime, ttl: timedelta) -> bool:
    """Whether an import upload staged at `created_at` has waited its time out (at
    exactly `ttl` it has)."""
    return now - created_at >= ttl


def expire_staged(session: Session, *, now: datetime, ttl: timedelta = STAGED_UPLOAD_LIFETIME) -> int:
    """Forget import uploads that waited `ttl` or longer; how many. Flushes, never commits."""
    result = session.execute(
        sa.delete(StagedUpload)
        .where(StagedUpload.created_at <= now - ttl)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def collect_garbage(
    session: Session,
    store: BlobStore | None = None,
    *,
    now: datetime | None = None,
    staged_ttl: timedelta = STAGED_UPLOAD_LIFETIME,
) -> int:
    """Remove import uploads waiting `staged_ttl` or longer, then the blobs nothing refers
    to (stored over GRACE ago); the number of blobs removed. Flushes, never commits."""
    now = now or utcnow()
    expire_staged(session, now=now, ttl=staged_ttl)
    return (store or DatabaseBlobStore()).remove_unreferenced(session, referenced_hashes(), now - GRACE)
