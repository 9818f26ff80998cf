"""Keeping the search documents in step with the records.

A flush hook notes every report, recommendation, addressee and history event that
changed (in session.info, across the transaction's flushes); just before the transaction
commits their documents are rewritten once, in that transaction, so the index can never
disagree with committed data. A search run inside a transaction that has written first
brings the noted documents up to date (`refresh_pending`). Bulk loads call rebuild()."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction

from app.models import (
    Addressee,
    Component,
    EventKind,
    Recommendation,
    RecommendationEvent,
    Report,
    SearchDocument,
)
from app.models.recommendation import NUMBER_NOT_KNOWN

DOCS = SearchDocument.__table__
BATCH = 2000
EVENT_TEXT = (EventKind.UPDATE_POSTED, EventKind.CLOSURE_REQUESTED)


def _chunks(ids: Iterable[int], size: int = 900) -> Iterator[list[int]]:
    ids = sorted(set(ids))
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _report_documents(conn: sa.Connection, report_ids: list[int]) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(Report.id, Report.number, Report.title, Report.summary, Report.concurrence_summary).where(
            Report.id.in_(report_ids)
        )
    )
    return [
        {
            "kind": "report",
            "ref_id": r.id,
            "report_id": r.id,
            "title": f"{r.number or ''} {r.title}".strip(),
            "body": "\n".join(t for t in (r.summary, r.concurrence_summary) if t),
        }
        for r in rows
    ]


def _rec_words(number: int | None) -> str:
    return f"recommendation {number}" if number is not None else f"recommendation, {NUMBER_NOT_KNOWN}"


def _recommendation_documents(conn: sa.Connection, rec_ids: list[int]) -> list[dict[str, Any]]:
    recs = conn.execute(
        sa.select(
            Recommendation.id,
            Recommendation.report_id,
            Recommendation.number,
            Recommendation.text,
            Report.number.label("report_number"),
            Report.title.label("report_title"),
        )
        .join(Report, Report.id == Recommendation.report_id)
        .where(Recommendation.id.in_(rec_ids))
    ).all()
    extra: dict[int, list[str]] = defaultdict(list)
    parts = conn.execute(
        sa.select(
            Addressee.recommendation_id,
            Component.abbreviation,
            Addressee.response,
            Addressee.corrective_action_plan,
            Addressee.responsible_official,
            Addressee.closure_justification,
        )
        .join(Component, Component.id == Addressee.component_id)
        .where(Addressee.recommendation_id.in_(rec_ids))
        .order_by(Addressee.id)
    )
    addressed: dict[int, list[str]] = defaultdict(list)
    for rec_id, abbreviation, *texts in parts:
        addressed[rec_id].append(abbreviation)
        extra[rec_id].extend(t for t in texts if t)
    notes = conn.execute(
        sa.select(RecommendationEvent.recommendation_id, RecommendationEvent.note)
        .where(
            RecommendationEvent.recommendation_id.in_(rec_ids),
            RecommendationEvent.kind.in_(EVENT_TEXT),
            RecommendationEvent.note != "",
        )
        .order_by(RecommendationEvent.id)
    )
    for rec_id, note in notes:
        extra[rec_id].append(note)
    # The components once, at the end: a response often starts with its component's name,
    # and the name on a line just before it read "FEMA FEMA concurs" in snippets.
    addressed_line = {rec_id: [f"Addressed to {', '.join(names)}."] for rec_id, names in addressed.items()}
    return [
        {
            "kind": "recommendation",
            "ref_id": r.id,
            "report_id": r.report_id,
            "title": f"{r.report_number or ''} {_rec_words(r.number)}: {r.report_title}".strip(),
            "body": "\n".join([r.text, *extra.get(r.id, []), *addressed_line.get(r.id, [])]),
        }
        for r in recs
    ]


def refresh(conn: sa.Connection, rec_ids: Iterable[int] = (), report_ids: Iterable[int] = ()) -> None:
    """Rewrite the documents of these records (removing those of deleted ones)."""
    for chunk in _chunks(report_ids):
        conn.execute(sa.delete(DOCS).where(DOCS.c.kind == "report", DOCS.c.ref_id.in_(chunk)))
        documents = _report_documents(conn, chunk)
        if documents:
            conn.execute(sa.insert(DOCS), documents)
    for chunk in _chunks(rec_ids):
        conn.execute(sa.delete(DOCS).where(DOCS.c.kind == "recommendation", DOCS.c.ref_id.in_(chunk)))
        documents = _recommendation_documents(conn, chunk)
        if documents:
            conn.execute(sa.insert(DOCS), documents)


def rebuild(conn: sa.Connection, progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild every document (after a bulk load). Returns how many were written;
    `progress(done, total)` hears after each batch."""
    conn.execute(sa.delete(DOCS))
    report_ids = [r for (r,) in conn.execute(sa.select(Report.id))]
    rec_ids = [r for (r,) in conn.execute(sa.select(Recommendation.id))]
    total = len(report_ids) + len(rec_ids)
    for start in range(0, len(report_ids), BATCH):
        refresh(conn, report_ids=report_ids[start : start + BATCH])
        if progress:
            progress(min(start + BATCH, len(report_ids)), total)
    for start in range(0, len(rec_ids), BATCH):
        refresh(conn, rec_ids=rec_ids[start : start + BATCH])
        if progress:
            progress(len(report_ids) + min(start + BATCH, len(rec_ids)), total)
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
    return total


PENDING = "search_pending"  # session.info: {"recs", "reports", "report_recs"} to refresh
# A report's columns that its recommendations' documents show.
REPORT_IN_REC_DOCUMENTS = ("number", "title")


def _noted(session: Session) -> dict[str, set[int]]:
    return session.info.setdefault(PENDING, {"recs": set(), "reports": set(), "report_recs": set()})


def _note_after_flush(session: Session, _ctx: UOWTransaction) -> None:
    """Note what this flush changed; the documents are rewritten once, before commit."""
    noted: dict[str, set[int]] | None = None
    for obj in (*session.new, *session.dirty, *session.deleted):
        if obj in session.dirty and not session.is_modified(obj):
            continue
        if not isinstance(obj, Recommendation | Addressee | RecommendationEvent | Report):
            continue
        noted = noted if noted is not None else _noted(session)
        if isinstance(obj, Recommendation):
            noted["recs"].add(obj.id)
        elif isinstance(obj, Addressee | RecommendationEvent):
            noted["recs"].add(obj.recommendation_id)
        elif obj not in session.deleted:
            noted["reports"].add(obj.id)
            state = sa.inspect(obj)
            if obj in session.dirty and any(
                state.attrs[name].history.has_changes() for name in REPORT_IN_REC_DOCUMENTS
            ):
                # a report's number and title are part of its recommendations' documents
                noted["report_recs"].add(obj.id)


def refresh_pending(session: Session) -> None:
    """Rewrite the documents this transaction's writes changed so far (before it
    commits, and before a search in a transaction that has written)."""
    session.flush()
    noted = session.info.pop(PENDING, None)
    if not noted:
        return
    rec_ids, report_ids, report_recs = noted["recs"], noted["reports"], noted["report_recs"]
    if not rec_ids and not report_ids:
        return
    conn = session.connection()
    for chunk in _chunks(report_recs):
        rec_ids |= set(conn.scalars(sa.select(Recommendation.id).where(Recommendation.report_id.in_(chunk))))
    refresh(conn, rec_ids=rec_ids, report_ids=report_ids)


def _refresh_before_commit(session: Session) -> None:
    if not session.in_nested_transaction():  # a savepoint's commit is not the transaction's
        refresh_pending(session)


def _forget(session: Session, transaction: SessionTransaction) -> None:
    """The transaction is over: nothing left to refresh. (A savepoint rolled back keeps
    its notes: refreshing a record that is back as it was rewrites the same document.)"""
    if transaction.parent is None:
        session.info.pop(PENDING, None)


def install(session_class: type[Session]) -> None:
    """Keep the search documents in step with every commit of the app's session class (idempotent)."""
    for name, listener in (
        ("after_flush", _note_after_flush),
        ("before_commit", _refresh_before_commit),
        ("after_transaction_end", _forget),
    ):
        if not event.contains(session_class, name, listener):
            event.listen(session_class, name, listener)
