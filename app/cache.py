"""Caching derived data safely: a small in-process cache whose keys include the data
version, a counter every writing transaction increments (a hook on the app's session
class, `install`, bumps it in the same transaction as the change). A value cached for
version N can only be served while nothing has been written since, so it is never
stale, only recomputed."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, UOWTransaction

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


def current(session: Session, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    """`compute()` for `key` at the current data version; from the cache while nothing
    has been written since. The key must name everything the value depends on (for
    anything a reader may not see, their `reader_scope`)."""
    return derived.get_or_compute((*key, data_version(session)), compute)


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


def _bump_after_flush(session: Session, _ctx: UOWTransaction) -> None:
    """Move the data version on when a flush wrote data, inside the transaction that
    writes it, so the version moves exactly when the change commits."""
    written = any(_is_data(obj) for obj in (*session.new, *session.deleted)) or any(
        _is_data(obj) and _changes_data(obj) for obj in session.dirty
    )
    if written:
        bump_version(session.connection())


def install(session_class: type[Session]) -> None:
    """Bump the data version on every flush that writes data (idempotent)."""
    if not event.contains(session_class, "after_flush", _bump_after_flush):
        event.listen(session_class, "after_flush", _bump_after_flush)
