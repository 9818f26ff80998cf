"""Append-only audit events for every change, every sign-in attempt, and every access
worth knowing about (a read of a restricted item, a download, an export, a refused request).

Changes are captured in one place, a flush hook, so no service can forget to audit: each
new, changed or deleted row of an audited model becomes an AuditEvent with its fields
before and after. The acting user travels on the session (`set_actor`), set once per
request by the app and once per command by the CLI; a flush of an audited change with
no actor is a programming error and fails loudly. Every event names its record in words
(app/audit_labels.py).

Access events are not changes, and the request that causes one often saves nothing or is
refused (a refused request is rolled back by app/errors.py). Views therefore only note
them (app.web.note_access); once the view's own unit of work is over, `commit_apart`
writes them in a transaction of their own (see its docstring).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.orm.base import NO_VALUE

from app import audit_labels
from app.database import utcnow
from app.models.audit import AuditEvent

_ACTOR_KEY = "audit_actor"
_LABELS_KEY = "audit_labels_before_flush"
# Columns that a record's name is made of: an update touching one is named again after the flush.
_NAMING_COLUMNS = frozenset(
    {"number", "title", "email", "abbreviation", "original_name", "kind"}
    | {"report_id", "recommendation_id", "addressee_id", "component_id"}
)
REDACTED = "[redacted]"


class AuditError(RuntimeError):
    """An audited change without an actor, or an attempt to alter the audit trail."""


@dataclass(frozen=True)
class AuditActor:
    user_id: int | None
    label: str
    role: str
    source_ip: str | None = None

    @classmethod
    def for_user(cls, user: Any, source_ip: str | None = None) -> AuditActor:
        return cls(user.id, user.email, str(user.role), source_ip)

    @classmethod
    def for_token(cls, user: Any, token: Any, source_ip: str | None = None) -> AuditActor:
        """A request of the JSON API: the token's user, and the token by id and prefix."""
        label = f"API token #{token.id} {token.prefix}… of {user.email}"[:254]
        return cls(user.id, label, str(user.role), source_ip)

    @classmethod
    def system(cls, label: str) -> AuditActor:
        return cls(None, label, "system", None)

    @classmethod
    def anonymous(cls, source_ip: str | None) -> AuditActor:
        return cls(None, "anonymous", "anonymous", source_ip)


def set_actor(session: Session, actor: AuditActor | None) -> None:
    session.info[_ACTOR_KEY] = actor


def get_actor(session: Session) -> AuditActor | None:
    return session.info.get(_ACTOR_KEY)


def record(
    session: Session,
    action: str,
    *,
    actor: AuditActor | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    changes: dict[str, Any] | None = None,
    outcome: str = "success",
    object_label: str | None = None,
) -> AuditEvent:
    """Add an explicit event (sign-ins, imports): things that are not a row change. The
    record is named from the database unless `object_label` is given."""
    actor = actor or get_actor(session)
    if actor is None:
        raise AuditError(f"audit event {action!r} has no actor")
    if object_label is None and object_id is not None:
        object_label = audit_labels.label(session.connection(), object_type, object_id)
    audit_event = _event(actor, action, object_type, object_id, object_label, changes, outcome)
    session.add(audit_event)
    return audit_event


def _event(
    actor: AuditActor,
    action: str,
    object_type: str | None,
    object_id: int | None,
    object_label: str | None,
    changes: dict[str, Any] | None,
    outcome: str,
) -> AuditEvent:
    return AuditEvent(
        occurred_at=utcnow(),
        actor_id=actor.user_id,
        actor_label=actor.label,
        actor_role=actor.role,
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_label=object_label,
        changes=to_json(changes or {}),
        source_ip=actor.source_ip,
        outcome=outcome,
    )


@dataclass(frozen=True)
class Access:
    """An access event waiting to be written: what was read, downloaded, exported or refused.
    `details` must never hold restricted text: which file, which filters, how many rows."""

    action: str
    object_type: str | None = None
    object_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    outcome: str = "success"


def commit_apart(session: Session, actor: AuditActor, accesses: list[Access]) -> None:
    """Write access events in a transaction of their own, once the request's work is over.

    Called at the end of a request (app/__init__.py) or of a streamed export, never from a
    service: whatever the request meant to save, its view has committed by then, and
    whatever it has not committed is ended here without being saved (`close` rolls back
    and lets go of the loaded objects), exactly as the end of the request would. So the
    events survive a refused (rolled-back) request, and this commit can never carry half
    of a request's work with it.

    The records are named first, in a read of their own; the INSERT then opens the new
    transaction, so on SQLite it waits for the write lock (busy_timeout) instead of failing
    on a stale read snapshot.
    """
    session.close()
    names: dict[tuple[str, int], str] = {}
    if any(a.object_id is not None for a in accesses):
        names = audit_labels.labels(session.connection(), [(a.object_type, a.object_id) for a in accesses])
        session.rollback()
    session.add_all(
        _event(
            actor,
            a.action,
            a.object_type,
            a.object_id,
            names.get((a.object_type or "", a.object_id or 0)),
            a.details,
            a.outcome,
        )
        for a in accesses
    )
    session.commit()


def to_json(value: Any) -> Any:
    """A JSON-safe copy of a value as it should read in the audit trail."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(v) for v in value]
    return str(value)


def _is_audited(obj: object) -> bool:
    return getattr(obj, "__audited__", True) and not isinstance(obj, AuditEvent)


@dataclass(frozen=True)
class _Audited:
    """Which attributes of a mapped class the audit trail records (read once per class)."""

    columns: tuple[str, ...]
    redacted: frozenset[str]
    collections: tuple[str, ...]


_AUDITED: dict[type, _Audited] = {}


def _audited(obj: object) -> _Audited:
    found = _AUDITED.get(type(obj))
    if found is None:
        mapper = inspect(obj).mapper
        columns = [a for a in mapper.column_attrs if a.columns[0].info.get("audit", True) is not False]
        found = _AUDITED[type(obj)] = _Audited(
            columns=tuple(a.key for a in columns),
            redacted=frozenset(a.key for a in columns if a.columns[0].info.get("audit") == "redact"),
            collections=tuple(r.key for r in mapper.relationships if r.info.get("audit")),
        )
    return found


def _column_value(audited: _Audited, key: str, value: Any) -> Any:
    if key in audited.redacted:
        return REDACTED if value is not None else None
    return to_json(value)


def _snapshot(obj: object) -> dict[str, Any]:
    state = inspect(obj)
    audited = _audited(obj)
    loaded = state.dict  # what loaded_value reads: the attributes present on the object
    data: dict[str, Any] = {}
    for key in audited.columns:
        value = loaded.get(key, NO_VALUE)
        if value is not NO_VALUE:
            data[key] = _column_value(audited, key, value)
    for key in audited.collections:
        items = loaded.get(key, NO_VALUE)
        if items is not NO_VALUE:
            data[key] = sorted(str(o) for o in items)
    return data


def _diff(obj: object) -> dict[str, list[Any]]:
    state = inspect(obj)
    audited = _audited(obj)
    changes: dict[str, list[Any]] = {}
    for key in audited.columns:
        hist = state.attrs[key].history
        if not hist.has_changes():
            continue
        before = hist.deleted[0] if hist.deleted else None
        after = hist.added[0] if hist.added else None
        if before == after:
            continue
        changes[key] = [_column_value(audited, key, before), _column_value(audited, key, after)]
    for key in audited.collections:
        hist = state.attrs[key].history
        if not hist.has_changes():
            continue
        before = sorted(str(o) for o in (*hist.unchanged, *hist.deleted))
        after = sorted(str(o) for o in (*hist.unchanged, *hist.added))
        if before != after:
            changes[key] = [before, after]
    return changes


def _object_type(obj: object) -> str:
    return inspect(obj).mapper.local_table.name


def _object_id(obj: object) -> int | None:
    # The identity key is not assigned yet in after_flush; the primary key attribute is.
    key = inspect(obj).mapper.primary_key_from_instance(obj)
    return key[0] if len(key) == 1 else None


def _append_only(obj: object) -> bool:
    return isinstance(obj, AuditEvent) or getattr(obj, "__append_only__", False)


def _name_before_flush(session: Session, _ctx: UOWTransaction, _instances: Any) -> None:
    """Name the rows this flush may delete while they still exist (a delete-orphan shows up
    only as a changed row here), so their delete events keep a name."""
    rows = [obj for obj in (*session.deleted, *session.dirty) if _is_audited(obj)]
    if rows:
        pairs = [(_object_type(obj), _object_id(obj)) for obj in rows]
        session.info[_LABELS_KEY] = audit_labels.labels(session.connection(), pairs)
    else:
        session.info.pop(_LABELS_KEY, None)


def _guard_append_only(session: Session, _ctx: UOWTransaction, _instances: Any) -> None:
    for obj in session.deleted:
        if _append_only(obj):
            raise AuditError(f"{_object_type(obj)} is append-only: rows cannot be deleted")
    for obj in session.dirty:
        if _append_only(obj) and session.is_modified(obj):
            raise AuditError(f"{_object_type(obj)} is append-only: rows cannot be changed")


def _capture_changes(session: Session, _ctx: UOWTransaction) -> None:
    rows: list[dict[str, Any]] = []
    for action, objects in (
        ("create", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objects:
            if not _is_audited(obj):
                continue
            if action == "update":
                changes: dict[str, Any] = _diff(obj)
                if not changes:
                    continue
            else:
                snapshot = _snapshot(obj)
                changes = {k: [None, v] if action == "create" else [v, None] for k, v in snapshot.items()}
            rows.append(
                {
                    "action": action,
                    "object_type": _object_type(obj),
                    "object_id": _object_id(obj),
                    "changes": changes,
                }
            )
    before = session.info.pop(_LABELS_KEY, {})
    if not rows:
        return
    actor = get_actor(session)
    if actor is None:
        kinds = sorted({f"{r['action']} {r['object_type']}" for r in rows})
        raise AuditError(f"audited change without an actor: {', '.join(kinds)}")
    now = utcnow()
    connection = session.connection()
    renamed = [
        (r["object_type"], r["object_id"])
        for r in rows
        if r["action"] == "create" or (r["action"] == "update" and _NAMING_COLUMNS & r["changes"].keys())
    ]
    after = audit_labels.labels(connection, renamed) if renamed else {}
    for row in rows:
        key = (row["object_type"], row["object_id"])
        row["object_label"] = after.get(key) or before.get(key)
    connection.execute(
        sa.insert(AuditEvent),
        [
            {
                "occurred_at": now,
                "actor_id": actor.user_id,
                "actor_label": actor.label,
                "actor_role": actor.role,
                "source_ip": actor.source_ip,
                "outcome": "success",
                **row,
            }
            for row in rows
        ],
    )


def install(session_class: type[Session]) -> None:
    """Register the audit hooks on the app's session class (idempotent)."""
    if not event.contains(session_class, "before_flush", _guard_append_only):
        event.listen(session_class, "before_flush", _guard_append_only)
    if not event.contains(session_class, "before_flush", _name_before_flush):
        event.listen(session_class, "before_flush", _name_before_flush)
    if not event.contains(session_class, "after_flush", _capture_changes):
        event.listen(session_class, "after_flush", _capture_changes)
