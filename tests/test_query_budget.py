"""Every list, detail and dashboard page issues a fixed number of SQL statements,
whatever the number of rows. Run with raiseload on, so a lazy load in a loop fails."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask import Flask

from app import clock
from app.demo.generator import generate
from app.extensions import db
from app.models import Component, Recommendation, Report
from tests.conftest import login

PAGES = (
    "/",
    "/recommendations",
    "/recommendations?sort=status",
    "/recommendations?status=open&clock=response_overdue",
    "/recommendations?q=synthetic+procedures",
    "/reports",
    "/components",
    "/search?q=synthetic+procedures",
)
# Its queues eager-load addressees only when a queue has rows: bounded, not per row.
BOUNDED = ("/work",)


@contextmanager
def counting() -> Iterator[list[str]]:
    statements: list[str] = []
    conn = db.session.connection()

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    sa.event.listen(conn, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(conn, "before_cursor_execute", record)


def _add(recommendations: int, reports: int, seed: int) -> None:
    generate(
        db.session.connection(),
        reports=reports,
        recommendations=recommendations,
        seed=seed,
        today=clock.today(),
        allow_mixed=True,
    )
    db.session.commit()


def _counts(app: Flask, role: str, urls: tuple[str, ...]) -> dict[str, int]:
    client = app.test_client()
    login(client, role)
    out = {}
    for url in urls:
        with counting() as statements:
            response = client.get(url)
        assert response.status_code == 200, url
        out[url] = len(statements)
    return out


def _detail_urls() -> tuple[str, ...]:
    """A synthetic recommendation with several components, its report and a component."""
    rec = db.session.scalar(
        sa.select(Recommendation)
        .join(Report)
        .where(Report.number.like("DEMO-%"))
        .order_by(Recommendation.id)
        .limit(1)
    )
    fema = db.session.scalar(sa.select(Component.id).where(Component.abbreviation == "FEMA"))
    return (f"/recommendations/{rec.id}", f"/reports/{rec.report_id}", f"/components/{fema}")


@pytest.mark.parametrize("role", ["oig", "liaison", "viewer"])
def test_statement_counts_do_not_grow_with_rows(app: Flask, role: str) -> None:
    _add(10, 3, seed=7)
    urls = PAGES + _detail_urls()
    small = _counts(app, role, urls + BOUNDED)
    _add(990, 60, seed=8)
    large = _counts(app, role, urls + BOUNDED)
    assert {u: large[u] for u in urls} == {u: small[u] for u in urls}
    assert max(small.values()) <= 20, small  # and the fixed number is small
    assert max(large.values()) <= 20, large


def test_the_counter_sees_an_n_plus_one() -> None:
    """The measure itself can fail: a query per row is counted."""
    _add(20, 5, seed=9)
    with counting() as statements:
        for rec_id in db.session.scalars(sa.select(Recommendation.id).limit(10)):
            db.session.get(Recommendation, rec_id, populate_existing=True)
    assert len(statements) == 11
