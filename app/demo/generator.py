"""Clearly synthetic data at scale, for benchmarks and demonstrations.

Reports are numbered DEMO-00001 and titled "Synthetic demo report"; every text says it is
synthetic. The shape is realistic: issue dates over 15 years, statuses that depend on
age, one to three addressees, responses, plans, updates, closure requests and the
history events that go with them, and a few percent restricted. Rows are written with
bulk inserts (explicit ids, then sequences moved on PostgreSQL), in batches, and the
search index is rebuilt at the end. The same seed gives the same data."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from app import clock
from app.cache import bump_version
from app.lifecycle import periods
from app.lifecycle.clocks import add_months
from app.lifecycle.deadlines import DeadlinePolicy
from app.lifecycle.due_dates import stamp_rows
from app.models import (
    Addressee,
    ClosureState,
    Component,
    Concurrence,
    EventKind,
    Recommendation,
    RecommendationEvent,
    RecStatus,
    Report,
    ReportType,
    ResponseState,
    Sensitivity,
    TextSource,
    report_components,
)
from app.search import index

TOPICS = (
    "information sharing with fusion centers",
    "grant oversight",
    "cybersecurity of field systems",
    "emergency operations coordination",
    "border technology acquisition",
    "detention standards",
    "disaster recovery contracts",
    "intelligence product review",
    "training for partners",
    "maritime security operations",
    "financial management controls",
    "privacy of collected data",
)
ACTIONS = ("Establish", "Update", "Develop and implement", "Review", "Provide", "Assess", "Coordinate")
BATCH = 5000


class DemoDataError(ValueError):
    pass


@dataclass(frozen=True)
class Counts:
    reports: int
    recommendations: int
    addressees: int
    events: int


# The types the generator has always drawn from (a longer list would change the data a
# given --seed gives).
DEMO_REPORT_TYPES = (
    ReportType.AUDIT,
    ReportType.INSPECTION,
    ReportType.EVALUATION,
    ReportType.REVIEW,
    ReportType.MANAGEMENT_ALERT,
    ReportType.OTHER,
)


def _status_for(rng: random.Random, age_days: int) -> RecStatus:
    """Older recommendations are more often closed, as in real OIG portfolios."""
    years = age_days / 365.25
    weights = (
        (0.55, 0.40, 0.04, 0.01)
        if years < 1
        else (0.15, 0.40, 0.40, 0.05)
        if years < 5
        else (0.03, 0.07, 0.82, 0.08)
    )
    return rng.choices(list(RecStatus), weights=weights)[0]


def _table_max(conn: sa.Connection, table: sa.Table) -> int:
    return conn.scalar(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))) or 0


def _insert(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        conn.execute(sa.insert(table), rows[start : start + BATCH])


def generate(
    conn: sa.Connection,
    *,
    reports: int,
    recommendations: int,
    seed: int,
    today: date,
    allow_mixed: bool = False,
    progress: Callable[[int], None] | None = None,
    policy: DeadlinePolicy | None = None,
) -> Counts:
    """Write the synthetic data through `conn` (the caller commits), with the due dates
    of `policy`'s settings (the defaults when None)."""
    policy = policy or DeadlinePolicy()
    if reports < 1 or recommendations < 0:
        raise DemoDataError("Give at least one report and no negative number of recommendations.")
    real = conn.scalar(
        sa.select(sa.func.count())
        .select_from(Report)
        .where(sa.or_(Report.number.is_(None), ~Report.number.like("DEMO-%")))
    )
    if real and not allow_mixed:
        raise DemoDataError(
            f"This database holds {real} real report(s); synthetic data is never mixed with them "
            "unless asked (--allow-mixed)."
        )
    component_ids = list(conn.scalars(sa.select(Component.id).where(Component.parent_id.is_not(None))))
    component_ids = component_ids or list(conn.scalars(sa.select(Component.id)))
    if not component_ids:
        raise DemoDataError("Load the components first (flask --app app seed).")

    rng = random.Random(seed)
    now = clock.now()
    report_table, rec_table = Report.__table__, Recommendation.__table__
    addressee_table, event_table = Addressee.__table__, RecommendationEvent.__table__
    next_report = _table_max(conn, report_table) + 1
    next_rec = first_rec = _table_max(conn, rec_table) + 1
    next_addressee = _table_max(conn, addressee_table) + 1
    next_event = _table_max(conn, event_table) + 1
    start_number = (
        conn.scalar(sa.select(sa.func.count()).select_from(Report).where(Report.number.like("DEMO-%"))) or 0
    ) + 1

    per_report = _spread(rng, recommendations, reports)
    report_rows: list[dict[str, Any]] = []
    link_rows: list[dict[str, Any]] = []
    rec_rows: list[dict[str, Any]] = []
    addressee_rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []
    counts = {"addressees": 0, "events": 0}

    def flush_rows() -> None:
        _insert(conn, report_table, report_rows)
        _insert(conn, report_components, link_rows)
        _insert(conn, rec_table, rec_rows)
        _insert(conn, addressee_table, addressee_rows)
        _insert(conn, event_table, event_rows)
        for rows in (report_rows, link_rows, rec_rows, addressee_rows, event_rows):
            rows.clear()

    for r in range(reports):
        report_id = next_report + r
        issued = today - timedelta(days=rng.randint(0, 15 * 365))
        restricted = rng.random() < 0.03
        topic = rng.choice(TOPICS)
        chosen = rng.sample(component_ids, k=min(len(component_ids), rng.randint(1, 3)))
        report_rows.append(
            {
                "id": report_id,
                "number": f"DEMO-{start_number + r:05d}",
                "issuing_office": "DHS OIG",
                "title": f"Synthetic demo report {start_number + r:05d}: {topic}",
                "issued_on": issued,
                "issued_on_approximate": False,
                "report_type": rng.choice(DEMO_REPORT_TYPES).value,
                "url": None,
                "summary": "Synthetic data for demonstrations and benchmarks; not a real report.",
                "recommendations_published": per_report[r],
                "concurrence_summary": "",
                "sensitivity": (Sensitivity.RESTRICTED if restricted else Sensitivity.PUBLIC).value,
                "sources": "Generated by flask --app app demo-data.",
                "notes": "",
                "created_at": now,
                "updated_at": now,
            }
        )
        link_rows += [{"report_id": report_id, "component_id": c} for c in chosen]
        for n in range(1, per_report[r] + 1):
            rec_id = next_rec
            next_rec += 1
            status = _status_for(rng, (today - issued).days)
            addressees, events = _recommendation_parts(
                rng, rec_id, issued, today, status, chosen, component_ids, next_addressee, next_event, now
            )
            next_addressee += len(addressees)
            next_event += len(events)
            resolved_on = next(
                (e["effective_on"] for e in events if e["kind"] == EventKind.RESOLVED.value), None
            )
            closed_on = next((e["effective_on"] for e in events if e["kind"] == EventKind.CLOSED.value), None)
            money = rng.random() < 0.2
            rec_rows.append(
                {
                    "id": rec_id,
                    "report_id": report_id,
                    "number": n,
                    "text": f"{rng.choice(ACTIONS)} procedures for {topic} "
                    f"(synthetic recommendation {n} of demo report {start_number + r:05d}).",
                    "text_source": TextSource.VERBATIM.value,
                    "significant": rng.random() < 0.1,
                    "questioned_costs": Decimal(rng.randint(1, 5_000_000)) if money else None,
                    "funds_put_to_better_use": Decimal(rng.randint(1, 9_000_000))
                    if money and rng.random() < 0.5
                    else None,
                    "sensitivity": (
                        Sensitivity.RESTRICTED if restricted or rng.random() < 0.02 else Sensitivity.PUBLIC
                    ).value,
                    "status": status.value,
                    "resolved_on": resolved_on,
                    "closed_on": closed_on,
                    "decision_note": "",
                    # synthetic history runs from issuance, as if entered on the issue date
                    "tracked_since": issued,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            stamp_rows(rec_rows[-1], addressees, issued, policy)
            addressee_rows += addressees
            event_rows += events
            counts["addressees"] += len(addressees)
            counts["events"] += len(events)
        if len(rec_rows) >= BATCH or len(report_rows) >= BATCH:
            flush_rows()
        if progress:
            progress(1)
    flush_rows()
    if conn.dialect.name == "postgresql":
        for table in (report_table, rec_table, addressee_table, event_table):
            conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608 (our table names)
                f"(SELECT COALESCE(MAX(id), 1) FROM {table.name}))"
            )
    index.rebuild(conn)
    periods.rebuild(conn, range(first_rec, next_rec), policy)
    bump_version(conn)
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE")  # fresh statistics after a bulk load
    return Counts(reports, sum(per_report), counts["addressees"], counts["events"])


def _spread(rng: random.Random, total: int, buckets: int) -> list[int]:
    """`total` split over `buckets`, each at least 1 while there are enough, unevenly."""
    base = [1 if total >= buckets else 0] * buckets
    left = total - sum(base)
    weights = [rng.random() ** 2 for _ in range(buckets)]
    scale = sum(weights) or 1
    extra = [int(left * w / scale) for w in weights]
    for i in range(left - sum(extra)):
        extra[i % buckets] += 1
    return [b + e for b, e in zip(base, extra, strict=True)]


def _recommendation_parts(
    rng: random.Random,
    rec_id: int,
    issued: date,
    today: date,
    status: RecStatus,
    report_components_: list[int],
    all_components: list[int],
    first_addressee: int,
    first_event: int,
    now: datetime,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Addressee rows and history events consistent with the recommendation's status."""
    pool = report_components_ if rng.random() < 0.8 else all_components
    chosen = rng.sample(pool, k=min(len(pool), rng.choices((1, 2, 3), weights=(0.7, 0.22, 0.08))[0]))
    events: list[dict[str, Any]] = []

    def add(kind: EventKind, day: date, addressee_id: int | None = None, **values: Any) -> None:
        events.append(
            {
                "id": first_event + len(events),
                "recommendation_id": rec_id,
                "addressee_id": addressee_id,
                "kind": kind.value,
                "actor_id": None,
                "actor_label": "demo-data",
                "actor_role": "system",
                "occurred_at": now,
                "effective_on": min(day, today),
                "status_after": None,
                "concurrence_after": None,
                "target_date_after": None,
                "note": "",
                "details": {},
                **values,
            }
        )

    add(EventKind.CREATED, issued, status_after=RecStatus.OPEN_UNRESOLVED.value)
    responded = status != RecStatus.OPEN_UNRESOLVED or rng.random() < 0.4
    resolved_on = (
        min(issued + timedelta(days=rng.randint(60, 240)), today)
        if status != RecStatus.OPEN_UNRESOLVED
        else None
    )
    addressees = []
    for i, component_id in enumerate(chosen):
        addressee_id = first_addressee + i
        concurrence = (
            rng.choices(
                (Concurrence.CONCUR, Concurrence.PARTIAL, Concurrence.NON_CONCUR), weights=(0.88, 0.07, 0.05)
            )[0]
            if responded
            else Concurrence.PENDING
        )
        # a response always comes before the resolution it leads to
        latest = (resolved_on - issued).days if resolved_on else 120
        response_on = issued + timedelta(days=rng.randint(0, max(0, latest))) if responded else None
        target = (resolved_on or issued) + timedelta(days=rng.randint(180, 900)) if responded else None
        last_update = None
        closure = ClosureState.NONE
        if responded:
            assert response_on is not None
            add(
                EventKind.RESPONSE_SUBMITTED,
                response_on,
                addressee_id,
                concurrence_after=concurrence.value,
                target_date_after=target,
                note="Synthetic management response.",
                details={
                    "corrective_action_plan": "Synthetic corrective action plan.",
                    "responsible_official": "Demo official",
                },
            )
        if resolved_on:
            for k in range(rng.randint(0, 3)):
                last_update = resolved_on + timedelta(days=80 * (k + 1))
                if last_update >= today:
                    break
                add(EventKind.UPDATE_POSTED, last_update, addressee_id, note="Synthetic progress update.")
        if status == RecStatus.CLOSED_IMPLEMENTED or (
            status == RecStatus.OPEN_RESOLVED and rng.random() < 0.1
        ):
            closure = (
                ClosureState.ACCEPTED if status == RecStatus.CLOSED_IMPLEMENTED else ClosureState.REQUESTED
            )
            add(
                EventKind.CLOSURE_REQUESTED,
                (resolved_on or issued) + timedelta(days=300),
                addressee_id,
                note="Synthetic closure request.",
            )
        addressees.append(
            {
                "id": addressee_id,
                "recommendation_id": rec_id,
                "component_id": component_id,
                "is_lead": i == 0,
                "concurrence": concurrence.value,
                "response": "Synthetic management response." if responded else "",
                "response_date": min(response_on, today) if response_on else None,
                "response_state": (ResponseState.ACCEPTED if resolved_on else ResponseState.SUBMITTED).value
                if responded
                else ResponseState.NONE.value,
                "corrective_action_plan": "Synthetic corrective action plan." if responded else "",
                "target_date": target,
                "responsible_official": "Demo official" if responded else "",
                "evaluation_note": "",
                "last_update_on": min(last_update, today) if last_update else None,
                "closure_state": closure.value,
                "closure_justification": "Synthetic closure request." if closure != ClosureState.NONE else "",
                "closure_note": "",
                "version": 1,
            }
        )
    if resolved_on:
        add(EventKind.RESOLVED, resolved_on, status_after=RecStatus.OPEN_RESOLVED.value)
    if status in (RecStatus.CLOSED_IMPLEMENTED, RecStatus.CLOSED_NOT_IMPLEMENTED):
        closed_on = min(add_months(resolved_on or issued, rng.randint(12, 48)), today)
        add(
            EventKind.CLOSED,
            closed_on,
            status_after=status.value,
            note="" if status == RecStatus.CLOSED_IMPLEMENTED else "Synthetic: not implemented.",
        )
    return addressees, events
