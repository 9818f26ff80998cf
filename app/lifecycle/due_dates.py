"""Keeping the stored due dates fresh.

Every recommendation and addressee row carries its due dates (the columns named in
deadlines.REC_DUE_COLUMNS and ADDRESSEE_DUE_COLUMNS), computed by the registry's one pair
of functions (deadlines.rec_due_dates, deadlines.addressee_due_dates) from the row's state.
They are refreshed:

- on every flush of the app's session class that changes a state they depend on (a
  recommendation's status or resolution, an addressee's response, concurrence, plan,
  updates, closure request or target date, a report's issue date): `install` attaches
  the hook, as the audit, search and data-version hooks are attached, so workflow steps,
  edits, imports and the seed are covered without calling anything;
- by `refresh` over every row (`flask --app app deadlines recompute`, after the update
  interval setting changes; the migration that added the columns filled them the same way);
- by the demo data generator, which writes with bulk inserts and stamps its rows itself
  (`stamp_rows`).

The hook writes with plain UPDATE statements on the session's connection, in the same
transaction: a derived value is neither an edit (no version bump, so no open form goes
stale) nor an audited change. The objects in the session get the new values too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session, UOWTransaction, class_mapper
from sqlalchemy.orm.attributes import set_committed_value

from app.lifecycle import deadlines
from app.lifecycle.deadlines import DeadlinePolicy
from app.models import Addressee, ClosureState, Concurrence, Recommendation, RecStatus, Report, ResponseState

_POLICY_KEY = "rectrack.deadline_policy"
CHUNK = 500

# The state each level's due dates are computed from: a change to any of these columns
# refreshes the recommendation's due dates and its addressees'.
_REC_STATE = frozenset({"status", "resolved_on", "report_id", "report", "tracked_since"})
_ADDRESSEE_STATE = frozenset(
    {
        "recommendation_id",
        "recommendation",
        "response_state",
        "response_due_on",
        "concurrence",
        "corrective_action_plan",
        "last_update_on",
        "closure_state",
        "closure_state_on",
        "target_date",
    }
)
_REPORT_STATE = frozenset({"issued_on"})


def set_policy(session: Session, policy: DeadlinePolicy) -> None:
    """The settings the hook computes with in this session (instead of the app's)."""
    session.info[_POLICY_KEY] = policy


def policy_for(session: Session) -> DeadlinePolicy:
    """The session's deadline settings: those set with set_policy, else the current app's
    configuration, else the defaults."""
    policy = session.info.get(_POLICY_KEY)
    if isinstance(policy, DeadlinePolicy):
        return policy
    if has_app_context():
        return DeadlinePolicy.from_config(current_app.config)
    return DeadlinePolicy()


# --- computing from rows read with SQL ---------------------------------------------------

_r, _a, _rep = Recommendation.__table__, Addressee.__table__, Report.__table__


def _state_query(with_tracked_since: bool = True) -> sa.Select[Any]:
    """Each recommendation's state with its addressees' (one row per addressee; a
    recommendation without addressees gives one row of NULLs), and the stored dates.
    with_tracked_since=False: a database before migration 0013 (no such column; the
    clocks then run from issuance, as they did)."""
    tracked_since = _r.c.tracked_since if with_tracked_since else sa.null()
    return (
        sa.select(
            _r.c.id,
            _r.c.status,
            _r.c.resolved_on,
            tracked_since.label("tracked_since"),
            _rep.c.issued_on,
            *(_r.c[name] for name in deadlines.REC_DUE_COLUMNS),
            _a.c.id.label("addressee_id"),
            _a.c.response_state,
            _a.c.response_due_on,
            _a.c.concurrence,
            (_a.c.corrective_action_plan != "").label("has_plan"),
            _a.c.last_update_on,
            _a.c.closure_state,
            _a.c.closure_state_on,
            _a.c.target_date,
            *(_a.c[name].label(f"stored_{name}") for name in deadlines.ADDRESSEE_DUE_COLUMNS),
        )
        .select_from(
            _r.join(_rep, _rep.c.id == _r.c.report_id).outerjoin(_a, _a.c.recommendation_id == _r.c.id)
        )
        .order_by(_r.c.id, _a.c.id)
    )


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _addressee_due(
    status: RecStatus,
    issued: date | None,
    resolved_on: Any,
    tracked_since: date | None,
    part: Mapping[str, Any],
    has_plan: bool,
    policy: DeadlinePolicy,
) -> deadlines.AddresseeDueDates:
    """addressee_due_dates of an addressee given as column values (a row read with SQL, or
    one about to be bulk inserted); a missing state column has its default."""
    return deadlines.addressee_due_dates(
        status=status,
        issued=issued,
        resolved_on=_day(resolved_on),
        response_state=ResponseState(part.get("response_state", ResponseState.NONE.value)),
        response_due_on=_day(part.get("response_due_on")),
        concurrence=Concurrence(part.get("concurrence", Concurrence.PENDING.value)),
        has_plan=has_plan,
        last_update_on=_day(part.get("last_update_on")),
        closure_state=ClosureState(part.get("closure_state", ClosureState.NONE.value)),
        closure_state_on=_day(part.get("closure_state_on")),
        target_date=_day(part.get("target_date")),
        interval_days=policy.update_interval_days,
        tracked_since=tracked_since,
    )


def _changes(
    rows: Iterable[Any], policy: DeadlinePolicy
) -> tuple[dict[int, dict[str, date | None]], dict[int, dict[str, date | None]]]:
    """The recommendations and addressees whose stored due dates differ from the computed
    ones: {id: {column: new value}}."""
    recs: dict[int, dict[str, date | None]] = {}
    parts: dict[int, dict[str, date | None]] = {}
    seen: set[int] = set()
    for row in rows:
        status = RecStatus(row.status)
        issued = _day(row.issued_on)  # None: not known
        tracked_since = _day(row.tracked_since)
        if row.id not in seen:
            seen.add(row.id)
            due = deadlines.rec_due_dates(status, issued, tracked_since)
            changed = {
                name: getattr(due, name)
                for name in deadlines.REC_DUE_COLUMNS
                if _day(getattr(row, name)) != getattr(due, name)
            }
            if changed:
                recs[row.id] = changed
        if row.addressee_id is None:
            continue
        part_due = _addressee_due(
            status, issued, row.resolved_on, tracked_since, row._mapping, bool(row.has_plan), policy
        )
        changed = {
            name: getattr(part_due, name)
            for name in deadlines.ADDRESSEE_DUE_COLUMNS
            if _day(getattr(row, f"stored_{name}")) != getattr(part_due, name)
        }
        if changed:
            parts[row.addressee_id] = changed
    return recs, parts


def _write(conn: sa.Connection, table: sa.Table, changes: dict[int, dict[str, date | None]]) -> None:
    """One UPDATE per set of changed columns (executemany)."""
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row_id, values in changes.items():
        by_columns.setdefault(tuple(sorted(values)), []).append({"_id": row_id, **values})
    for columns, params in by_columns.items():
        stmt = (
            sa.update(table)
            .where(table.c.id == sa.bindparam("_id"))
            .values({name: sa.bindparam(name) for name in columns})
        )
        conn.execute(stmt, params)


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def refresh(
    conn: sa.Connection,
    policy: DeadlinePolicy,
    rec_ids: Iterable[int] | None = None,
    report_ids: Iterable[int] = (),
    *,
    with_tracked_since: bool = True,
) -> tuple[dict[int, dict[str, date | None]], dict[int, dict[str, date | None]]]:
    """Recompute the due dates of these recommendations (and of every recommendation of
    `report_ids`; of all, when rec_ids is None) and write those that changed. Returns the
    changes made: ({recommendation id: {column: value}}, {addressee id: {...}}).
    with_tracked_since=False: the schema before migration 0013, which has no
    recommendations.tracked_since (migration 0012 fills the columns it adds so)."""
    if rec_ids is None:
        ids = list(conn.scalars(sa.select(_r.c.id).order_by(_r.c.id)))
    else:
        ids = sorted(set(rec_ids))
        report_list = sorted(set(report_ids))
        if report_list:
            ids = sorted({*ids, *conn.scalars(sa.select(_r.c.id).where(_r.c.report_id.in_(report_list)))})
    recs: dict[int, dict[str, date | None]] = {}
    parts: dict[int, dict[str, date | None]] = {}
    for chunk in _chunks(ids):
        rows = conn.execute(_state_query(with_tracked_since).where(_r.c.id.in_(chunk)))
        chunk_recs, chunk_parts = _changes(rows, policy)
        _write(conn, _r, chunk_recs)
        _write(conn, _a, chunk_parts)
        recs.update(chunk_recs)
        parts.update(chunk_parts)
    return recs, parts


def stamp_rows(
    rec_row: dict[str, Any], addressee_rows: list[dict[str, Any]], issued: date | None, policy: DeadlinePolicy
) -> None:
    """Fill the due-date keys of a recommendation's and its addressees' rows about to be
    bulk inserted (the rows' keys are the column names)."""
    status = RecStatus(rec_row["status"])
    tracked_since = rec_row.get("tracked_since")
    due = deadlines.rec_due_dates(status, issued, tracked_since)
    rec_row.update({name: getattr(due, name) for name in deadlines.REC_DUE_COLUMNS})
    for row in addressee_rows:
        part = _addressee_due(
            status,
            issued,
            rec_row.get("resolved_on"),
            tracked_since,
            row,
            bool(row.get("corrective_action_plan")),
            policy,
        )
        row.update({name: getattr(part, name) for name in deadlines.ADDRESSEE_DUE_COLUMNS})


# --- the hook ----------------------------------------------------------------------------


def _changed(obj: Any, columns: frozenset[str]) -> bool:
    state = sa.inspect(obj)
    return any(state.attrs[key].history.has_changes() for key in columns)


def _affected(session: Session) -> tuple[set[int], set[int]]:
    """The recommendations (and reports) whose due dates this flush may have changed."""
    rec_ids: set[int] = set()
    report_ids: set[int] = set()
    for obj in session.new:
        if isinstance(obj, Recommendation):
            rec_ids.add(obj.id)
        elif isinstance(obj, Addressee):
            rec_ids.add(obj.recommendation_id)
    for obj in session.dirty:
        if isinstance(obj, Recommendation) and _changed(obj, _REC_STATE):
            rec_ids.add(obj.id)
        elif isinstance(obj, Addressee) and _changed(obj, _ADDRESSEE_STATE):
            rec_ids.add(obj.recommendation_id)
        elif isinstance(obj, Report) and _changed(obj, _REPORT_STATE):
            report_ids.add(obj.id)
    return {i for i in rec_ids if i is not None}, report_ids


def _refresh_after_flush(session: Session, _ctx: UOWTransaction) -> None:
    """Recompute the due dates a flush's changes affect, in its transaction, and give the
    objects in the session the new values."""
    rec_ids, report_ids = _affected(session)
    if not rec_ids and not report_ids:
        return
    recs, parts = refresh(session.connection(), policy_for(session), rec_ids, report_ids)
    # New objects join the identity map only after this hook.
    new = {(type(obj), obj.id): obj for obj in session.new if isinstance(obj, (Recommendation, Addressee))}
    for model, changes in ((Recommendation, recs), (Addressee, parts)):
        mapper = class_mapper(model)
        for row_id, values in changes.items():
            obj = session.identity_map.get(mapper.identity_key_from_primary_key((row_id,)))
            obj = obj if obj is not None else new.get((model, row_id))
            if obj is not None:
                for name, value in values.items():
                    set_committed_value(obj, name, value)


def install(session_class: type[Session]) -> None:
    """Refresh the stored due dates on every flush that changes their state (idempotent)."""
    if not event.contains(session_class, "after_flush", _refresh_after_flush):
        event.listen(session_class, "after_flush", _refresh_after_flush)
