"""The dashboard: every number is the count of the list behind its link, it follows
every write at once, and it shows only what the reader may see."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app import clock
from app.cache import data_version
from app.demo.generator import generate
from app.extensions import db
from app.lifecycle import workflow
from app.lifecycle.workflow import Context
from app.models import RecStatus
from tests.conftest import EMAILS, login, rec, user_by_email, visible_text

LINK = re.compile(r'<a class="usa-link" href="(/recommendations[^"]*)">([\d,]+)</a>')


def _links(client) -> list[tuple[str, int]]:
    page = client.get("/").get_data(as_text=True)
    return [(href.replace("&amp;", "&"), int(n.replace(",", ""))) for href, n in LINK.findall(page)]


def _list_total(client, href: str) -> int:
    text = visible_text(client.get(href))
    if "No recommendations match" in text:
        return 0
    match = re.search(r"([\d,]+) recommendations? match", text)
    assert match, href
    return int(match.group(1).replace(",", ""))


@pytest.mark.parametrize("role", ["oig", "liaison", "viewer"])
def test_every_dashboard_number_is_the_count_of_its_list(app, role: str) -> None:
    generate(
        db.session.connection(),
        reports=40,
        recommendations=300,
        seed=3,
        today=clock.today(),
        allow_mixed=True,
    )
    db.session.commit()
    client = app.test_client()
    login(client, role)
    links = _links(client)
    assert len(links) >= 14
    for href, shown in links:
        assert _list_total(client, href) == shown, href


def test_dashboard_follows_a_write_at_once(app) -> None:
    client = app.test_client()
    login(client, "oig")
    before = dict(_links(client))["/recommendations?status=open_resolved"]
    cpg = rec("OIG-12-15", 1)
    workflow.resolve(db.session, Context(user_by_email(EMAILS["oig"]), clock.today()), cpg)
    db.session.commit()
    assert dict(_links(client))["/recommendations?status=open_resolved"] == before + 1


def test_data_version_moves_with_writes_not_with_reads_or_sign_ins(client) -> None:
    start = data_version(db.session)
    login(client, "viewer")
    client.get("/")
    client.get("/recommendations")
    assert data_version(db.session) == start
    client.post("/login", data={"email": EMAILS["oig"], "password": "wrong"})
    assert data_version(db.session) == start
    cpg = rec("OIG-12-15", 1)
    cpg.significant = not cpg.significant
    db.session.commit()
    assert data_version(db.session) > start


def test_viewer_dashboard_counts_only_what_they_may_see(as_role) -> None:
    oig = visible_text(as_role("oig").get("/"))
    viewer = visible_text(as_role("viewer").get("/"))
    total = lambda text: int(re.search(r"([\d,]+) recommendations? you may see", text).group(1))  # noqa: E731
    restricted_report_recs = 2  # TEST-R-1's, in a report viewers may not open
    assert total(oig) - total(viewer) == restricted_report_recs
    assert "SYNTHETIC" not in viewer


def test_liaison_sees_their_components_first(as_role) -> None:
    text = visible_text(as_role("liaison").get("/"))
    assert text.index("Your components") < text.index("Running late")
    assert "I&A portfolio" in text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(sa.text("components"))) >= 9
    assert RecStatus.OPEN_UNRESOLVED.label in text


def test_a_second_view_is_served_from_the_cache(app) -> None:
    from tests.test_query_budget import counting

    client = app.test_client()
    login(client, "oig")
    with counting() as first:
        client.get("/")
    with counting() as second:
        client.get("/")
    assert len(second) < len(first) - 3  # the four aggregate queries are not run again
