"""Full-text search: both back ends, ranking, highlighting, visibility, freshness."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.lifecycle import workflow
from app.lifecycle.workflow import Context, UpdateData
from app.models import SearchDocument
from app.search import index
from app.search.queries import search
from tests.conftest import EMAILS, login, rec, report_by_number, user_by_email, visible_text


def _hits(role: str, query: str) -> list[tuple[str, int]]:
    return [(h.kind, h.ref_id) for h in search(db.session, user_by_email(EMAILS[role]), query)]


def test_cpg_502_finds_the_oig_12_15_recommendation(as_role) -> None:
    cpg = rec("OIG-12-15", 3)
    assert ("recommendation", cpg.id) in _hits("viewer", "CPG-502")
    page = as_role("viewer").get("/search?q=CPG-502")
    assert page.status_code == 200
    text = visible_text(page)
    assert "OIG-12-15 recommendation 3" in text
    assert "<mark>" in page.get_data(as_text=True)


def test_word_endings_do_not_matter() -> None:
    cpg = rec("OIG-12-15", 3)
    assert ("recommendation", cpg.id) in _hits("oig", "disseminating guidance")


def test_title_matches_rank_above_body_matches() -> None:
    body = rec("OIG-12-15", 1)
    body.text = body.text + " Also consider the okapi."
    titled = report_by_number("OIG-08-71")
    titled.title = "Okapi management abroad"
    db.session.commit()
    hits = _hits("oig", "okapi")
    assert hits.index(("report", titled.id)) < hits.index(("recommendation", body.id))
    first = search(db.session, user_by_email(EMAILS["oig"]), "okapi")[0]
    assert "<mark>Okapi</mark>" in str(first.title)


def test_viewer_search_never_returns_a_restricted_text(as_role) -> None:
    assert _hits("viewer", "SYNTHETIC") == []
    page = as_role("viewer").get("/search?q=text for tests").get_data(as_text=True)
    assert "SYNTHETIC-RESTRICTED" not in page  # the words match; the reader may not see them
    ia, fema = rec("TEST-R-1", 1), rec("TEST-R-1", 2)
    # the I&A liaison may open the report and its I&A recommendation, not FEMA's
    assert set(_hits("liaison", "SYNTHETIC")) == {("recommendation", ia.id), ("report", ia.report_id)}
    assert {("recommendation", ia.id), ("recommendation", fema.id)} <= set(_hits("oig", "SYNTHETIC"))


def test_matches_are_highlighted_and_text_is_escaped(as_role) -> None:
    cpg = rec("OIG-12-15", 1)
    cpg.text = "Adopt <script>alert('x')</script> zebracrossing procedures."
    db.session.commit()
    page = as_role("oig").get("/search?q=zebracrossing").get_data(as_text=True)
    assert "<mark>zebracrossing</mark>" in page
    assert "<script>alert" not in page
    assert "alert(" in page  # SQLite shows the tags escaped; PostgreSQL's headline drops them


def test_index_follows_every_write(app) -> None:
    oig = app.test_client()
    login(oig, "oig")
    cpg = rec("OIG-12-15", 3)
    assert _hits("oig", "quokka") == []
    cpg.text = cpg.text + " Quokka habitat."
    db.session.commit()
    assert ("recommendation", cpg.id) in _hits("oig", "quokka")
    # a progress update's words are found too
    workflow.resolve(db.session, Context(user_by_email(EMAILS["oig"]), date(2020, 1, 2)), cpg)
    fema = next(a for a in cpg.addressees if a.component.abbreviation == "FEMA")
    workflow.post_update(
        db.session,
        Context(user_by_email(EMAILS["fema"]), date(2020, 2, 2)),
        cpg,
        fema,
        UpdateData("Distributed the wombat checklist."),
    )
    db.session.commit()
    assert ("recommendation", cpg.id) in _hits("oig", "wombat")
    # a report's new title reaches its recommendations' documents
    report = report_by_number("OIG-08-71")
    report.title = "Management of platypus interests abroad"
    db.session.commit()
    assert ("report", report.id) in _hits("oig", "platypus")
    # deleting a recommendation removes it from the index
    other = rec("OIG-12-15", 4)
    other.text = "Unique narwhal words."
    db.session.commit()
    assert _hits("oig", "narwhal") == [("recommendation", other.id)]
    assert oig.post(f"/recommendations/{other.id}/delete").status_code == 302
    assert _hits("oig", "narwhal") == []


def test_rebuild_gives_the_same_index() -> None:
    before = db.session.execute(
        sa.select(
            SearchDocument.kind, SearchDocument.ref_id, SearchDocument.title, SearchDocument.body
        ).order_by(SearchDocument.kind, SearchDocument.ref_id)
    ).all()
    index.rebuild(db.session.connection())
    after = db.session.execute(
        sa.select(
            SearchDocument.kind, SearchDocument.ref_id, SearchDocument.title, SearchDocument.body
        ).order_by(SearchDocument.kind, SearchDocument.ref_id)
    ).all()
    assert after == before
    assert ("recommendation", rec("OIG-12-15", 3).id) in _hits("viewer", "CPG-502")


def test_list_free_text_uses_the_index(as_role) -> None:
    text = visible_text(as_role("viewer").get("/recommendations?q=CPG-502"))
    assert "OIG-12-15 #3" in text
    assert "OIG-12-15 #1" not in text
    assert "1 recommendation matches; showing 1" in text


@pytest.mark.parametrize("query", ["", "   ", "!!!", '"', "OR AND NOT", "*"])
def test_odd_queries_do_not_break(as_role, query: str) -> None:
    response = as_role("viewer").get("/search", query_string={"q": query})
    assert response.status_code == 200
    assert as_role("viewer").get("/recommendations", query_string={"q": query}).status_code == 200


def test_a_snippet_does_not_repeat_the_component_name(as_role) -> None:
    """The component's abbreviation was indexed on a line of its own just before its
    response, so a response starting with the name read "FEMA FEMA concurs"."""
    cpg = rec("OIG-12-15", 3)
    cpg_id = cpg.id
    fema = next(a for a in cpg.addressees if a.component.abbreviation == "FEMA")
    fema.response = "FEMA concurs and will publish the zebrafinch guidance."
    db.session.commit()
    page = as_role("oig").get("/search?q=zebrafinch")
    snippets = re.findall(r'<p class="margin-y-05 rt-snippet">(.*?)</p>', page.get_data(as_text=True), re.S)
    assert len(snippets) == 1
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", snippets[0])))
    assert "FEMA concurs and will publish the zebrafinch guidance." in text
    assert "FEMA FEMA" not in text
    # the components addressed are still found by name
    assert ("recommendation", cpg_id) in _hits("oig", "FEMA zebrafinch")


def test_no_results_and_one_result_are_worded_for_what_they_are(as_role) -> None:
    text = visible_text(as_role("viewer").get("/search?q=HIJACK"))
    assert "No results for “HIJACK”. Try fewer or different words." in text
    assert "best first" not in text
    cpg = rec("OIG-12-15", 3)
    cpg.text = cpg.text + " Capybara."
    db.session.commit()
    text = visible_text(as_role("viewer").get("/search?q=capybara"))
    assert "1 result for “capybara”." in text
    assert "best first" not in text
    text = visible_text(as_role("viewer").get("/search?q=CPG-502"))
    assert re.search(r"\b\d+ results for “CPG-502”, best first\.", text)
