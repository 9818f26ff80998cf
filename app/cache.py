"""Caching derived data safely: a small in-process cache whose keys include the data
version, a counter every writing transaction increments (hooks on the app's session
class, `install`, bump it once, just before the transaction that wrote data commits, in
that transaction). A value cached for version N can only be served while nothing has been
written since, so it is never stale, only recomputed. While a session holds writes not
yet counted (between its first writing flush and its commit) `current` computes without
the cache: the version it would read is the one before those writes."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction

from app.models.audit import AuditEvent
from app.models.version import DataVersion

T = TypeVar("T")


def data_version(session: Session | sa.Connection) -> int:
    """The current data version (one primary-key read)."""
    return session.scalar(sa.select(DataVersion.value).where(DataVersion.id == 1)) or 0


def reader_scope(reader: Any) -> tuple[str, tuple[int, ...]]:
    """What a reader may see: their role and the components they serve."""
    return str(reader.role), tuple(sorted(reader.component_ids))


class VersionedCache:
    """Least-recently-used values, at most `size` of them."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = compute()
        with self._lock:
            self._values[key] = value
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


derived = VersionedCache(size=1024)


WRITTEN = "data_written"  # session.info: the open (sub)transactions that wrote data not yet counted


def _writers(session: Session) -> set[SessionTransaction]:
    return session.info.setdefault(WRITTEN, set())


def has_unbumped_writes(session: Session) -> bool:
    """Whether this session's transaction wrote data the data version does not count yet
    (it moves when the transaction commits)."""
    return bool(session.info.get(WRITTEN))


def current(session: Session, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    """`compute()` for `key` at the current data version; from the cache while nothing
    has been written since. The key must name everything the value depends on (for
    anything a reader may not see, their `reader_scope`). In a transaction that has
    written data and not committed, computed and not cached: the version does not count
    those writes yet, and they may still be rolled back."""
    version = data_version(session)  # first: its autoflush may write
    if has_unbumped_writes(session):
        return compute()
    return derived.get_or_compute((*key, version), compute)


def bump_version(connection: sa.Connection) -> None:
    """For writes that bypass the ORM (bulk loads): move the data version on."""
    connection.execute(sa.update(DataVersion).where(DataVersion.id == 1).values(value=DataVersion.value + 1))


def _is_data(obj: object) -> bool:
    """A row derived data is read from: not the audit trail, the data version itself or
    the search documents (models marked `__audited__ = False`)."""
    return getattr(obj, "__audited__", True) and not isinstance(obj, AuditEvent)


def _changes_data(obj: object) -> bool:
    """Whether a changed row changed something derived data may read: columns marked
    `info={"derived": False}` (sign-in bookkeeping) do not count, so a sign-in does not
    empty every cache."""
    state = sa.inspect(obj)
    for attr in state.attrs:
        if not attr.history.has_changes():
            continue
        columns = getattr(state.mapper.attrs[attr.key], "columns", None)
        if not columns or columns[0].info.get("derived", True):
            return True
    return False


def _note_after_flush(session: Session, _ctx: UOWTransaction) -> None:
    """Note that the innermost open transaction (a savepoint, or the transaction) wrote
    data; the version moves once, when the transaction commits."""
    if any(_is_data(obj) for obj in (*session.new, *session.deleted)) or any(
        _is_data(obj) and _changes_data(obj) for obj in session.dirty
    ):
        current = session.get_nested_transaction() or session.get_transaction()
        if current is not None:
            _writers(session).add(current)


def _bump_before_commit(session: Session) -> None:
    """Move the data version on once, inside the transaction that wrote data, just
    before it commits, so the version moves exactly when the change commits."""
    if session.in_nested_transaction():
        return  # a savepoint's commit: _savepoint_committed hands its note on
    session.flush()  # the last writes, noted by _note_after_flush
    if session.info.get(WRITTEN):
        bump_version(session.connection())
        session.info.pop(WRITTEN, None)


def _savepoint_committed(session: Session) -> None:
    """A savepoint that wrote data committed: its writes are now its parent's."""
    savepoint = session.get_nested_transaction()
    writers = session.info.get(WRITTEN)
    if savepoint is not None and writers and savepoint in writers and savepoint.parent is not None:
        writers.discard(savepoint)
        writers.add(savepoint.parent)


def _forget(session: Session, transaction: SessionTransaction) -> None:
    """A transaction is over. A savepoint rolled back takes its note with it (its writes
    are undone; one committed was handed on already); the transaction takes every note."""
    if transaction.parent is None:
        session.info.pop(WRITTEN, None)
    elif WRITTEN in session.info:
        session.info[WRITTEN].discard(transaction)


def install(session_class: type[Session]) -> None:
    """Bump the data version once per committed transaction that wrote data (idempotent)."""
    for name, listener in (
        ("after_flush", _note_after_flush),
        ("before_commit", _bump_before_commit),
        ("after_commit", _savepoint_committed),
        ("after_transaction_end", _forget),
    ):
        if not event.contains(session_class, name, listener):
            event.listen(session_class, name, listener)
