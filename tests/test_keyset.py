"""Keyset paging of the recommendation list: every sort, forwards and backwards, gives
each row exactly once in the full query's order, including rows that tie on their first
sort keys (reports issued the same day, a report without a number)."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from app import clock, keyset
from app.extensions import db
from app.lifecycle import workflow
from app.lifecycle.workflow import Context
from app.models import Addressee, Component, Concurrence, Recommendation, Report, TextSource
from app.recommendations import queries
from tests.conftest import EMAILS, login, rec, user_by_email, visible_text

PAGE = 5


@pytest.fixture
def ties() -> None:
    """Three synthetic reports issued the same day (one with no number), each with
    several recommendations, so pages must break ties on report id and number."""
    fema = db.session.scalar(sa.select(Component).where(Component.abbreviation == "FEMA"))
    for i, number in enumerate(("TEST-TIE-1", None, "TEST-TIE-2")):
        report = Report(
            number=number, title=f"Synthetic tie report {i} (test fixture)", issued_on=date(2020, 6, 1)
        )
        for n in range(1, 5):
            report.recommendations.append(
                Recommendation(
                    number=n,
                    text=f"Synthetic tie recommendation {i}.{n}",
                    tracked_since=date(2020, 6, 1),
                    text_source=TextSource.VERBATIM,
                    addressees=[Addressee(component=fema, is_lead=True, concurrence=Concurrence.CONCUR)],
                )
            )
        db.session.add(report)
    db.session.commit()  # a savepoint: requests close the session, which drops what is only flushed


def _walk(sort: queries.Sort, stmt: sa.Select, *, before: str | None = None) -> list[keyset.KeysetPage]:
    """Every page in reading order, following next links (or prev links from `before`)."""
    pages: list[keyset.KeysetPage] = []
    after = None
    for _ in range(1000):
        page = keyset.page(
            db.session, stmt, sort.keys, after=after, before=before, size=PAGE, values_of=sort.values
        )
        pages.append(page)
        link = page.prev_cursor if before else page.next_cursor
        if link is None:
            return pages[::-1] if before else pages
        before, after = (link, None) if before else (None, link)
    raise AssertionError("paging did not end")


def _ids(pages: list[keyset.KeysetPage]) -> list[int]:
    return [r.id for p in pages for r in p.items]


@pytest.mark.parametrize("sort_name", sorted(queries.SORTS))
def test_pages_cover_every_row_once_in_order_both_ways(ties: None, sort_name: str) -> None:
    sort = queries.SORTS[sort_name]
    user = user_by_email("oig@test.example")
    stmt = queries.recommendation_list(user, queries.RecFilters(), date(2026, 11, 22), 90)
    ordered = stmt.order_by(None).order_by(*keyset.ordering(sort.keys))
    expected = [r.id for r in db.session.scalars(ordered).unique()]
    assert len(expected) > 3 * PAGE

    forward = _walk(sort, stmt)
    assert _ids(forward) == expected
    assert all(len(p.items) == PAGE for p in forward[:-1])

    # From the last page, "previous" links lead back through the same pages.
    backward = _walk(sort, stmt, before=forward[-1].prev_cursor)
    assert [[r.id for r in p.items] for p in backward] == [[r.id for r in p.items] for p in forward[:-1]]


def test_deep_cursor_bounds_the_first_key_for_an_index() -> None:
    sort = queries.SORTS["newest"]
    clause = keyset._after(sort.keys, [date(2020, 6, 1), 5, 2, 9], reverse=False)
    sql = str(clause.compile(compile_kwargs={"literal_binds": True}))
    # NULL (issue date not known) sorts last, so it is after any dated cursor
    assert sql.startswith("(reports.issued_on <= '2020-06-01' OR reports.issued_on IS NULL) AND (")


@pytest.mark.parametrize("token", ["garbage", "WyJ4Il0", keyset.encode(["2020-01-01", "x", 1, 1])])
def test_a_cursor_the_app_did_not_make_is_a_clear_400(client, token: str) -> None:
    login(client, "oig")
    response = client.get(f"/recommendations?after={token}")
    assert response.status_code == 400
    assert "That page link is not valid" in response.get_data(as_text=True)


def test_next_link_of_the_list_page_opens_the_following_rows(client, app, ties: None) -> None:
    login(client, "oig")
    app.config["PAGE_SIZE"], size = PAGE, app.config["PAGE_SIZE"]
    try:
        first = client.get("/recommendations?sort=oldest").get_data(as_text=True)
        marker = "after="
        assert marker in first
        token = first.split(marker, 1)[1].split('"', 1)[0].split("&", 1)[0]
        second = client.get(f"/recommendations?sort=oldest&after={token}")
        assert second.status_code == 200
        assert "before=" in second.get_data(as_text=True)
    finally:
        app.config["PAGE_SIZE"] = size


def _total(client) -> int:
    text = visible_text(client.get("/recommendations?status=open_resolved"))
    found = re.search(r"([\d,]+) recommendations? match", text)
    return int(found.group(1).replace(",", "")) if found else 0


def test_list_total_is_cached_but_moves_with_every_write(client) -> None:
    from tests.test_query_budget import counting

    login(client, "oig")
    before = _total(client)
    with counting() as again:
        assert _total(client) == before
    assert not any("count(" in s.lower() for s in again)  # served from the cache

    workflow.resolve(db.session, Context(user_by_email(EMAILS["oig"]), clock.today()), rec("OIG-12-15", 1))
    db.session.commit()
    assert _total(client) == before + 1
