"""Append-only audit events for every change and every sign-in attempt.

Changes are captured in one place, a flush hook, so no service can forget to audit: each
new, changed or deleted row of an audited model becomes an AuditEvent with its fields
before and after. The acting user travels on the session (`set_actor`), set once per
request by the app and once per command by the CLI; a flush of an audited change with
no actor is a programming error and fails loudly.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.orm.base import NO_VALUE

from app.cache import bump_version
from app.database import utcnow
from app.models.audit import AuditEvent

_ACTOR_KEY = "audit_actor"
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
) -> AuditEvent:
    """Add an explicit event (sign-ins, imports, exports): things that are not a row change."""
    actor = actor or get_actor(session)
    if actor is None:
        raise AuditError(f"audit event {action!r} has no actor")
    audit_event = AuditEvent(
        occurred_at=utcnow(),
        actor_id=actor.user_id,
        actor_label=actor.label,
        actor_role=actor.role,
        action=action,
        object_type=object_type,
        object_id=object_id,
        changes=to_json(changes or {}),
        source_ip=actor.source_ip,
        outcome=outcome,
    )
    session.add(audit_event)
    return audit_event


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


def _column_value(obj: object, key: str, value: Any) -> Any:
    info = inspect(obj).mapper.attrs[key].columns[0].info  # type: ignore[union-attr]
    if info.get("audit") == "redact":
        return REDACTED if value is not None else None
    return to_json(value)


def _audited_columns(obj: object) -> list[str]:
    mapper = inspect(obj).mapper
    return [a.key for a in mapper.column_attrs if a.columns[0].info.get("audit", True) is not False]


def _audited_collections(obj: object) -> list[str]:
    mapper = inspect(obj).mapper
    return [r.key for r in mapper.relationships if r.info.get("audit")]


def _snapshot(obj: object) -> dict[str, Any]:
    state = inspect(obj)
    data: dict[str, Any] = {}
    for key in _audited_columns(obj):
        value = state.attrs[key].loaded_value
        if value is not NO_VALUE:
            data[key] = _column_value(obj, key, value)
    for key in _audited_collections(obj):
        loaded = state.attrs[key].loaded_value
        if loaded is not NO_VALUE:
            data[key] = sorted(str(o) for o in loaded)
    return data


def _diff(obj: object) -> dict[str, list[Any]]:
    state = inspect(obj)
    changes: dict[str, list[Any]] = {}
    for key in _audited_columns(obj):
        hist = state.attrs[key].history
        if not hist.has_changes():
            continue
        before = hist.deleted[0] if hist.deleted else None
        after = hist.added[0] if hist.added else None
        if before == after:
            continue
        changes[key] = [_column_value(obj, key, before), _column_value(obj, key, after)]
    for key in _audited_collections(obj):
        hist = state.attrs[key].history
        if not hist.has_changes():
            continue
        before = sorted(str(o) for o in (*hist.unchanged, *hist.deleted))
        after = sorted(str(o) for o in (*hist.unchanged, *hist.added))
        if before != after:
            changes[key] = [before, after]
    return changes


def _object_type(obj: object) -> str:
    return inspect(obj).mapper.local_table.name  # type: ignore[union-attr]


def _object_id(obj: object) -> int | None:
    # The identity key is not assigned yet in after_flush; the primary key attribute is.
    key = inspect(obj).mapper.primary_key_from_instance(obj)
    return key[0] if len(key) == 1 else None


def _append_only(obj: object) -> bool:
    return isinstance(obj, AuditEvent) or getattr(obj, "__append_only__", False)


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
    if not rows:
        return
    actor = get_actor(session)
    if actor is None:
        kinds = sorted({f"{r['action']} {r['object_type']}" for r in rows})
        raise AuditError(f"audited change without an actor: {', '.join(kinds)}")
    now = utcnow()
    connection = session.connection()
    # Caches of derived data are keyed on this counter: bump it inside the transaction
    # that makes the change, so it moves exactly when the change commits.
    bump_version(connection)
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


def install(session_class: type[Session] = Session) -> None:
    """Register the audit hooks on every session (idempotent)."""
    if not event.contains(session_class, "before_flush", _guard_append_only):
        event.listen(session_class, "before_flush", _guard_append_only)
    if not event.contains(session_class, "after_flush", _capture_changes):
        event.listen(session_class, "after_flush", _capture_changes)
