"""State periods, and lists as of a past date in SQL.

Each recommendation's history is replayed once, when it changes (a hook on the app's
session class) or in a batch (`rebuild_all`, run by `flask --app app periods rebuild`),
into runs of days over which its state stood still: `recommendation_periods` (status,
resolved and closed dates) and `addressee_periods` (each component's part). The
periods are history.replay() written down, so a list as of a day equals the replay of
that day by construction, and a past date costs one join instead of a replay per row.

Periods are rebuilt from the events rather than appended as the live state changes,
because events take effect on the day they say (`effective_on`), which may be earlier
than the day they are recorded (an issuance on the report's issue date, a concurrence
on the response's date): a back-dated event changes periods already written.

`AsOf(day)` reads them: its `adapt` swaps the Recommendation and Addressee columns of a
criterion written for the live rows (the list filters, the deadline clocks) for the
columns of the periods covering `day`, so every criterion is written once and means the
same today and on any past date.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from types import SimpleNamespace
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from flask import has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction
from sqlalchemy.sql.annotation import _deep_deannotate
from sqlalchemy.sql.visitors import replacement_traverse

from app.lifecycle import deadlines, due_dates
from app.lifecycle.deadlines import DeadlinePolicy
from app.lifecycle.history import RecSnapshot, replay
from app.models import Addressee, Recommendation, RecommendationEvent, Report
from app.models.periods import AddresseePeriod, RecommendationPeriod

BATCH = 500

STATE_FIELDS = ("status", "resolved_on", "closed_on")
DUE_FIELDS = deadlines.REC_DUE_COLUMNS
REC_FIELDS = (*STATE_FIELDS, *DUE_FIELDS)
ADDRESSEE_STATE_FIELDS = (
    "concurrence",
    "response",
    "response_date",
    "response_state",
    "corrective_action_plan",
    "target_date",
    "responsible_official",
    "last_update_on",
    "response_due_on",
    "closure_state",
    "closure_state_on",
)
ADDRESSEE_DUE_FIELDS = deadlines.ADDRESSEE_DUE_COLUMNS
ADDRESSEE_FIELDS = (*ADDRESSEE_STATE_FIELDS, *ADDRESSEE_DUE_FIELDS)


# --- building periods from history ----------------------------------------------------


def _timeline(rec: Any) -> Iterator[RecSnapshot]:
    """The recommendation at the end of each day something happened to it, once issued."""
    for day in sorted({e.effective_on for e in rec.events}):
        snapshot = replay(rec, day)
        if snapshot.status is not None:
            yield snapshot


T = TypeVar("T")
S = TypeVar("S")  # a Select
E = TypeVar("E")  # a criterion or a whole Select


def _runs(states: Iterable[tuple[date, T]]) -> list[tuple[date, date | None, T]]:
    """Consecutive equal states merged: (from, until or None, state)."""
    runs: list[tuple[date, date | None, T]] = []
    for day, state in states:
        if runs and runs[-1][2] == state:
            continue
        if runs:
            runs[-1] = (runs[-1][0], day, runs[-1][2])
        runs.append((day, None, state))
    return runs


def _rec_state(snapshot: RecSnapshot, issued: date | None) -> tuple[Any, ...]:
    due = deadlines.rec_due_dates_of(snapshot, issued)
    return (*(getattr(snapshot, n) for n in STATE_FIELDS), *(getattr(due, n) for n in DUE_FIELDS))


def _addressee_state(
    snapshot: RecSnapshot, part: Any, issued: date | None, interval_days: int
) -> tuple[Any, ...]:
    due = deadlines.addressee_due_dates_of(snapshot, part, issued, interval_days)
    return (
        *(getattr(part, n) for n in ADDRESSEE_STATE_FIELDS),
        *(getattr(due, n) for n in ADDRESSEE_DUE_FIELDS),
    )


def periods_of(rec: Any, policy: DeadlinePolicy) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The period rows of one recommendation (with .issued_on, .events and .addressees
    loaded, each addressee with .component), as dicts for INSERT. Each period carries
    the due dates of its state, computed by the registry (app.lifecycle.deadlines)."""
    snapshots = list(_timeline(rec))
    issued = rec.issued_on
    rec_rows = [
        {
            "recommendation_id": rec.id,
            "valid_from": start,
            "valid_until": until,
            **dict(zip(REC_FIELDS, state, strict=True)),
        }
        for start, until, state in _runs((s.as_of, _rec_state(s, issued)) for s in snapshots)
    ]
    addressee_rows = []
    interval = policy.update_interval_days
    for a in rec.addressees:
        parts = ((s, next(p for p in s.addressees if p.id == a.id)) for s in snapshots)
        for start, until, state in _runs(
            (s.as_of, _addressee_state(s, p, issued, interval)) for s, p in parts
        ):
            addressee_rows.append(
                {
                    "recommendation_id": rec.id,
                    "addressee_id": a.id,
                    "component_id": a.component_id,
                    "valid_from": start,
                    "valid_until": until,
                    **dict(zip(ADDRESSEE_FIELDS, state, strict=True)),
                }
            )
    return rec_rows, addressee_rows


def _histories(conn: sa.Connection, rec_ids: list[int], with_tracked_since: bool = True) -> list[Any]:
    """Recommendations shaped as replay() reads them, from plain rows (no ORM objects:
    this runs inside a flush). with_tracked_since=False: as if tracked from issuance
    (the downgrade of migration 0016_tracked_clocks)."""
    issued = sa.select(Recommendation.id, Report.issued_on, Recommendation.tracked_since).join(
        Report, Report.id == Recommendation.report_id
    )
    recs = {
        rid: SimpleNamespace(
            id=rid,
            issued_on=day,
            tracked_since=since if with_tracked_since else None,
            events=[],
            addressees=[],
        )
        for rid, day, since in conn.execute(issued.where(Recommendation.id.in_(rec_ids)))
    }
    e = RecommendationEvent
    events = sa.select(
        e.id,
        e.recommendation_id,
        e.addressee_id,
        e.kind,
        e.effective_on,
        e.status_after,
        e.concurrence_after,
        e.target_date_after,
        e.note,
        e.details,
    ).where(e.recommendation_id.in_(rec_ids))
    for row in conn.execute(events.order_by(RecommendationEvent.effective_on, RecommendationEvent.id)):
        if row.recommendation_id in recs:
            recs[row.recommendation_id].events.append(row)
    addressees = (
        sa.select(
            Addressee.id,
            Addressee.recommendation_id,
            Addressee.component_id,
            Addressee.is_lead,
            Addressee.response,
            Addressee.response_date,
        )
        .where(Addressee.recommendation_id.in_(rec_ids))
        .order_by(Addressee.id)
    )
    for row in conn.execute(addressees):
        if row.recommendation_id in recs:
            recs[row.recommendation_id].addressees.append(
                SimpleNamespace(**row._asdict(), component=SimpleNamespace(id=row.component_id))
            )
    return list(recs.values())


def rebuild(
    conn: sa.Connection, rec_ids: Iterable[int], policy: DeadlinePolicy, *, with_tracked_since: bool = True
) -> int:
    """Rewrite the periods of these recommendations from their histories; the number of
    period rows written. with_tracked_since=False: see _histories."""
    ids = sorted(set(rec_ids))
    written = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        rec_rows: list[dict[str, Any]] = []
        addressee_rows: list[dict[str, Any]] = []
        for rec in _histories(conn, chunk, with_tracked_since):
            r, a = periods_of(rec, policy)
            rec_rows += r
            addressee_rows += a
        conn.execute(sa.delete(AddresseePeriod).where(AddresseePeriod.recommendation_id.in_(chunk)))
        conn.execute(sa.delete(RecommendationPeriod).where(RecommendationPeriod.recommendation_id.in_(chunk)))
        if rec_rows:
            conn.execute(sa.insert(RecommendationPeriod), rec_rows)
        if addressee_rows:
            conn.execute(sa.insert(AddresseePeriod), addressee_rows)
        written += len(rec_rows) + len(addressee_rows)
    return written


def rebuild_all(conn: sa.Connection, policy: DeadlinePolicy, *, with_tracked_since: bool = True) -> int:
    """Every recommendation's periods, from history (a batch job: the migration that
    added them, `flask --app app deadlines recompute`)."""
    ids = list(conn.scalars(sa.select(Recommendation.id)))
    return rebuild(conn, ids, policy, with_tracked_since=with_tracked_since)


def _changed(session: Session) -> set[int]:
    """The recommendations whose history, addressees or issue date this flush touched."""
    rec_ids: set[int] = set()
    report_ids: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Recommendation) and obj not in session.deleted:
            rec_ids.add(obj.id)
        elif isinstance(obj, Addressee | RecommendationEvent):
            rec_ids.add(obj.recommendation_id)
        elif isinstance(obj, Report) and obj in session.dirty:
            report_ids.add(obj.id)  # the issue date counts the clocks
    if report_ids:
        of_reports = sa.select(Recommendation.id).where(Recommendation.report_id.in_(report_ids))
        rec_ids.update(session.connection().scalars(of_reports))
    return {i for i in rec_ids if i is not None}


PENDING = "periods_pending"  # session.info: recommendations whose periods are to be rebuilt


def _note_after_flush(session: Session, _ctx: UOWTransaction) -> None:
    """Note the recommendations this flush touched; their periods are rebuilt once, just
    before the transaction commits (an import flushes twice per recommendation)."""
    rec_ids = _changed(session)
    if rec_ids:
        session.info.setdefault(PENDING, set()).update(rec_ids)


def refresh_pending(session: Session) -> None:
    """Rebuild the periods this transaction's writes changed so far (before it commits,
    and before a reading of a past day in a transaction that has written: AsOf)."""
    if not session.info.get(PENDING):
        return
    session.flush()
    rec_ids = session.info.pop(PENDING, None)
    if rec_ids:
        rebuild(session.connection(), rec_ids, due_dates.policy_for(session))


def _rebuild_before_commit(session: Session) -> None:
    if not session.in_nested_transaction():  # a savepoint's commit is not the transaction's
        session.flush()
        refresh_pending(session)


def _forget(session: Session, transaction: SessionTransaction) -> None:
    """The transaction is over: nothing left to rebuild. (A savepoint rolled back keeps
    its notes: rebuilding a recommendation from its history writes the same periods.)"""
    if transaction.parent is None:
        session.info.pop(PENDING, None)


def install(session_class: type[Session]) -> None:
    """Keep the periods in step with every commit of the app's session class (idempotent)."""
    for name, listener in (
        ("after_flush", _note_after_flush),
        ("before_commit", _rebuild_before_commit),
        ("after_transaction_end", _forget),
    ):
        if not event.contains(session_class, name, listener):
            event.listen(session_class, name, listener)


# --- reading them ---------------------------------------------------------------------


@dataclass(frozen=True)
class AsOf:
    """The state of every recommendation at the end of `day`, for SQL lists: `join` it to
    a query on Recommendation, then `adapt` each criterion on the state."""

    day: date

    def __post_init__(self) -> None:
        # The periods of this transaction's own writes, not committed yet, first.
        if has_app_context():
            from app.extensions import db

            refresh_pending(db.session)

    def _covering(self, model: Any) -> sa.ColumnElement[bool]:
        return sa.and_(
            model.valid_from <= self.day, sa.or_(model.valid_until.is_(None), model.valid_until > self.day)
        )

    @cached_property
    def recommendations(self) -> sa.Subquery:
        """recommendation_id and the REC_FIELDS of the period covering the day."""
        period = RecommendationPeriod
        columns = [period.recommendation_id, *(getattr(period, n) for n in REC_FIELDS)]
        return sa.select(*columns).where(self._covering(period)).subquery("recommendations_as_of")

    @cached_property
    def addressees(self) -> sa.Subquery:
        """The addressees' parts as they stood, under the Addressee column names."""
        columns = [
            AddresseePeriod.addressee_id.label("id"),
            AddresseePeriod.recommendation_id,
            AddresseePeriod.component_id,
            *(getattr(AddresseePeriod, n) for n in ADDRESSEE_FIELDS),
        ]
        return sa.select(*columns).where(self._covering(AddresseePeriod)).subquery("addressees_as_of")

    @cached_property
    def _swap(self) -> dict[tuple[str, str | None], Any]:
        """(table, column) -> the column as of the day; (table, None) -> the FROM."""
        swap: dict[tuple[str, str | None], Any] = {
            ("recommendations", n): self.recommendations.c[n] for n in REC_FIELDS
        }
        swap.update({("addressees", c.name): c for c in self.addressees.c})
        swap["addressees", None] = self.addressees  # the FROM of Recommendation.addressees.any()
        return swap

    def join(self, stmt: S) -> S:
        """Only the recommendations issued by the day, with their state of that day."""
        state = self.recommendations
        return stmt.join(state, state.c.recommendation_id == Recommendation.id)  # type: ignore[attr-defined]

    def adapt(self, criterion: E) -> E:
        """The criterion on the state of the day: the recommendation's status and dates
        from its period (joined by `join`), its addressees' parts from theirs."""
        swap = self._swap

        def replace(element: Any) -> Any:
            if isinstance(element, sa.TableClause):
                return swap.get((element.name, None))
            table = getattr(element, "table", None)
            if isinstance(element, sa.ColumnClause) and isinstance(table, sa.TableClause):
                return swap.get((table.name, element.name))
            return None

        # Plain copies first: the ORM's relationship criteria (any()) hold annotated
        # elements that the traversal would otherwise leave in place.
        plain: Any = _deep_deannotate(cast(Any, criterion))
        traverse: Any = replacement_traverse
        return cast(E, traverse(plain, {}, replace))

    def column(self, name: str) -> sa.ColumnElement[Any]:
        """A REC_FIELDS column as of the day."""
        return self.recommendations.c[name]
