"""An import adds new reports and recommendations in batches, one flush per batch, under
the same rules as the forms: each item checked in the file's order, a refused one leaving
nothing behind and the rest still checked (app/imports/services.py, Benchmark 2)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from app import audit, clock
from app.extensions import db
from app.imports import services as import_services
from app.models import AuditEvent, Component, EventKind, Recommendation, RecommendationEvent, Report
from app.recommendations import services as rec_services
from app.recommendations.services import AddresseeData, RecommendationData, RecommendationError
from app.reports import services as report_services
from tests.conftest import rec, report_by_number
from tests.test_imports_exports import _csv, _import

ACTOR = audit.AuditActor.system("tests: import batches")


def _rows(reports: int, recs: int) -> list[dict[str, str]]:
    """`reports` new reports, each with `recs` recommendations addressed to FEMA."""
    return [
        {
            "report_number": f"OIG-98-{r:02d}",
            "report_title": f"Batch report {r} (test fixture)",
            "report_issued_on": "2024-05-01",
            "rec_number": str(n),
            "rec_text": f"Batch recommendation {r}.{n}.",
            "component": "FEMA",
            "concurrence": "concur",
        }
        for r in range(1, reports + 1)
        for n in range(1, recs + 1)
    ]


@contextmanager
def _flushes() -> Iterator[list[int]]:
    """Counts the session's flushes (that wrote something) while open."""
    counted: list[int] = []
    session = db.session()

    def count(_session: object, _context: object) -> None:
        counted.append(1)

    sa.event.listen(session, "after_flush", count)
    try:
        yield counted
    finally:
        sa.event.remove(session, "after_flush", count)


def test_thirty_new_reports_are_written_in_one_flush() -> None:
    data = _csv(_rows(30, 2))
    with _flushes() as flushes:
        result = _import(data, commit=False)
    assert result.ok, result.problems
    assert result.summary() == (
        "reports: 30 new, 0 changed, 0 unchanged; recommendations: 60 new, 0 changed, 0 unchanged; "
        "addressees: 60 new, 0 changed, 0 unchanged"
    )
    assert len(flushes) == 1  # one per item (at least 90) before batching


def test_a_batch_is_flushed_once_it_holds_enough_recommendations(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(import_services, "FLUSH_EVERY_RECS", 10)
    data = _csv(_rows(30, 2))
    with _flushes() as flushes:
        result = _import(data, commit=False)
    assert result.ok, result.problems
    assert len(flushes) == 6  # every fifth report holds the tenth recommendation


def test_a_committed_batch_keeps_every_row_its_history_and_its_audit_events() -> None:
    before = db.session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0
    result = _import(_csv(_rows(3, 2)), commit=True)
    db.session.commit()
    assert result.committed
    for r in (1, 2, 3):
        report = report_by_number(f"OIG-98-{r:02d}")
        assert [(x.number, x.text) for x in sorted(report.recommendations, key=lambda x: x.number or 0)] == [
            (1, f"Batch recommendation {r}.1."),
            (2, f"Batch recommendation {r}.2."),
        ]
        for n in (1, 2):
            events = db.session.scalars(
                sa.select(RecommendationEvent.kind)
                .where(RecommendationEvent.recommendation_id == rec(f"OIG-98-{r:02d}", n).id)
                .order_by(RecommendationEvent.id)
            ).all()
            assert events == [EventKind.CREATED, EventKind.CONCURRENCE_RECORDED]
    written = db.session.execute(
        sa.select(AuditEvent.action, AuditEvent.object_type, sa.func.count())
        .where(AuditEvent.id > before)
        .group_by(AuditEvent.action, AuditEvent.object_type)
    ).all()
    # every row above, the import's own event, and nothing else
    assert {(action, kind): n for action, kind, n in written} == {
        ("create", "reports"): 3,
        ("create", "recommendations"): 6,
        ("create", "addressees"): 6,
        ("create", "recommendation_events"): 12,
        ("import", "imports"): 1,
    }
    labels = db.session.scalars(
        sa.select(AuditEvent.object_label)
        .where(AuditEvent.id > before, AuditEvent.object_type == "recommendations")
        .order_by(AuditEvent.object_label)
    ).all()
    assert labels == [f"OIG-98-0{r} #{n}" for r in (1, 2, 3) for n in (1, 2)]


def _data(number: int | None, component_id: int, text: str = "A batch recommendation.") -> RecommendationData:
    return RecommendationData(number=number, text=text, addressees=[AddresseeData(component_id)])


def _fema() -> int:
    found = db.session.scalar(sa.select(Component.id).where(Component.abbreviation == "FEMA"))
    assert found is not None
    return found


def test_a_batch_checks_each_item_after_the_ones_before_it() -> None:
    report = report_by_number("OIG-12-15")
    taken = sorted(r.number for r in report.recommendations if r.number is not None)
    free = max(taken) + 1
    report.recommendations_published = len(report.recommendations) + 1  # room for one more
    db.session.flush()
    outcomes = rec_services.create_recommendations(
        db.session,
        ACTOR,
        report,
        [_data(taken[0], _fema()), _data(free, _fema()), _data(free + 1, _fema())],
        today=clock.today(),
    )
    first, second, third = outcomes
    assert isinstance(first, RecommendationError)
    assert str(first) == f"OIG-12-15 already has a recommendation {taken[0]}."
    assert isinstance(second, Recommendation)
    assert second.id is not None
    assert isinstance(third, RecommendationError)  # the second filled the published count
    published = len(report.recommendations)
    assert str(third) == (
        f"OIG-12-15 published {published} recommendations and {published} are entered. "
        "If the report has more, correct its published count first."
    )
    numbers = db.session.scalars(
        sa.select(Recommendation.number).where(Recommendation.report_id == report.id)
    ).all()
    assert sorted(n for n in numbers if n is not None) == [*taken, free]


def test_a_batch_on_a_report_not_yet_flushed_checks_numbers_among_its_own() -> None:
    data = report_services.ReportData(title="Unflushed batch report (test fixture)", issued_on=None)
    with db.session.no_autoflush:
        report = report_services.create_report(db.session, data, today=clock.today(), flush=False)
        outcomes = rec_services.create_recommendations(
            db.session,
            ACTOR,
            report,
            [_data(1, _fema(), "One."), _data(1, _fema(), "One again."), _data(None, _fema(), "Unnumbered.")],
            today=clock.today(),
            flush=False,
        )
    assert report.id is None  # nothing flushed yet
    assert isinstance(outcomes[1], RecommendationError)
    assert str(outcomes[1]) == f"{report} already has a recommendation 1."
    db.session.flush()
    texts = db.session.scalars(
        sa.select(Recommendation.text)
        .where(Recommendation.report_id == report.id)
        .order_by(Recommendation.id)
    ).all()
    assert texts == ["One.", "Unnumbered."]


def test_a_refused_item_in_a_file_is_reported_and_the_file_rolled_back() -> None:
    rows = _rows(2, 2)
    rows.append({**rows[0], "report_number": "OIG-98-03", "report_title": "Third", "rec_number": "1"})
    rows[-1]["report_issued_on"] = "2024-05-01"
    rows[-1]["report_recommendations_published"] = "0"
    result = _import(_csv(rows), commit=True)
    assert not result.committed
    assert [(p.row, p.column) for p in result.problems] == [(6, "rec_number")]
    assert result.problems[0].message == (
        "OIG-98-03 published 0 recommendations and 0 are entered. "
        "If the report has more, correct its published count first."
    )
    db.session.commit()
    left = db.session.scalar(
        sa.select(sa.func.count()).select_from(Report).where(Report.number.like("OIG-98-%"))
    )
    assert left == 0
