"""Atom feeds of status changes (issue 15, "Feeds"): valid Atom, public items only, no
sign-in, a status change made through the workflow shows in every feed that covers it,
and a bad feed address is a 404."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from app import clock
from app.demo.generator import generate
from app.extensions import db
from app.lifecycle import workflow
from app.models import Component, Recommendation, RecommendationEvent, RecStatus, Report, Sensitivity
from tests.conftest import login, rec, report_by_number, submit, visible_text
from tests.states import ctx, hsin_resolved
from tests.test_query_budget import counting

NS = {"a": "http://www.w3.org/2005/Atom"}
A = "{http://www.w3.org/2005/Atom}"


def _ts(text: str | None) -> datetime:
    """An RFC 3339 timestamp, parsed by hand so the feed's own formatter is not the judge."""
    assert text, "missing timestamp"
    assert text.endswith("Z") or text[-6] in "+-", text
    assert "T" in text, text
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert moment.tzinfo is not None
    return moment


def _feed(client: FlaskClient, url: str) -> tuple[ET.Element, list[dict[str, str]], str]:
    """GET a feed and check the elements RFC 4287 requires; its root, its entries (as
    dicts) and its raw text."""
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.mimetype == "application/atom+xml"
    body = response.get_data(as_text=True)
    root = ET.fromstring(response.get_data())  # noqa: S314 (our own feed, not untrusted input)
    assert root.tag == f"{A}feed"
    for required in ("id", "title", "updated"):
        assert (root.findtext(f"a:{required}", namespaces=NS) or "").strip(), required
    assert root.find("a:author/a:name", NS) is not None
    feed_updated = _ts(root.findtext("a:updated", namespaces=NS))
    entries = []
    for element in root.findall("a:entry", NS):
        link = element.find("a:link[@rel='alternate']", NS)
        entry = {
            "id": element.findtext("a:id", namespaces=NS) or "",
            "title": element.findtext("a:title", namespaces=NS) or "",
            "updated": element.findtext("a:updated", namespaces=NS) or "",
            "summary": element.findtext("a:summary", namespaces=NS) or "",
            "link": link.get("href", "") if link is not None else "",
        }
        assert entry["id"].startswith("tag:"), entry
        assert entry["title"], entry
        assert entry["link"], entry
        _ts(entry["updated"])
        entries.append(entry)
    if entries:
        assert feed_updated == max(_ts(e["updated"]) for e in entries)
    newest_first = [_ts(e["updated"]) for e in entries]
    assert newest_first == sorted(newest_first, reverse=True)
    return root, entries, body


def _ids() -> tuple[int, int, int, int]:
    """OIG-12-15's id, I&A's, FEMA's and the synthetic restricted report's."""
    report = report_by_number("OIG-12-15")
    ia = db.session.scalar(sa.select(Component.id).where(Component.abbreviation == "I&A"))
    fema = db.session.scalar(sa.select(Component.id).where(Component.abbreviation == "FEMA"))
    restricted = db.session.scalar(sa.select(Report.id).where(Report.number == "TEST-R-1"))
    return report.id, ia, fema, restricted


def _feed_urls() -> list[str]:
    report_id, ia, fema, _restricted = _ids()
    return [
        "/feeds/all.atom",
        f"/feeds/reports/{report_id}.atom",
        f"/feeds/components/{ia}.atom",
        f"/feeds/components/{fema}.atom",
    ]


def test_every_feed_is_valid_atom_without_signing_in(client: FlaskClient) -> None:
    for url in _feed_urls():
        root, entries, _body = _feed(client, url)
        assert entries, f"{url}: the seed's issuance events are status changes"
        self_link = root.find("a:link[@rel='self']", NS)
        assert self_link is not None
        assert self_link.get("href", "").endswith(url)


def test_with_the_portal_off_feeds_and_pages_need_sign_in(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The feeds are public portal pages (app/__init__.py PORTAL_ENDPOINTS): with
    PUBLIC_PORTAL off they need a sign-in like every page (tests/test_portal.py: with it on)."""
    monkeypatch.setitem(app.config, "PUBLIC_PORTAL", False)
    report_id, ia, _fema, _restricted = _ids()
    for url in (
        "/feeds/all.atom",
        f"/feeds/reports/{report_id}.atom",
        f"/feeds/components/{ia}.atom",
        "/reports",
        f"/reports/{report_id}",
        f"/components/{ia}",
        "/recommendations",
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login")


def test_a_workflow_status_change_appears_in_the_report_component_and_all_feeds(
    app: Flask, client: FlaskClient
) -> None:
    """OIG-12-15 #1 (HSIN, addressed to I&A) resolved through the OIG's step form."""
    report_id, ia, fema, _restricted = _ids()
    hsin = rec("OIG-12-15", 1)
    expected_title = "OIG-12-15, Recommendation 1: Open–Resolved"
    before = _feed(client, f"/feeds/reports/{report_id}.atom")[1]
    assert expected_title not in [e["title"] for e in before]

    moment = (clock.now() + timedelta(days=1)).replace(microsecond=0)
    with time_machine.travel(moment, tick=False):
        oig = app.test_client()
        login(oig, "oig")
        assert submit(oig, f"/recommendations/{hsin.id}/resolve", data={}).status_code == 302
        effective = clock.today()
    assert rec("OIG-12-15", 1).status == RecStatus.OPEN_RESOLVED

    stamp = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    event_id = db.session.scalar(
        sa.select(RecommendationEvent.id).where(
            RecommendationEvent.recommendation_id == hsin.id,
            RecommendationEvent.status_after == RecStatus.OPEN_RESOLVED,
        )
    )
    for url in ("/feeds/all.atom", f"/feeds/reports/{report_id}.atom", f"/feeds/components/{ia}.atom"):
        root, entries, body = _feed(client, url)
        newest = entries[0]
        assert newest["title"] == expected_title, url
        assert newest["updated"] == stamp
        assert root.findtext("a:updated", namespaces=NS) == stamp
        assert newest["id"] == f"tag:rectrack.invalid,2026:status-change/{event_id}"
        assert newest["link"] == f"http://localhost/recommendations/{hsin.id}"
        assert newest["summary"] == (
            "OIG-12-15, Recommendation 1 (addressed to I&A). Resolved: the status is now "
            f"Open–Resolved, effective {effective:%B} {effective.day}, {effective.year}."
        )
        assert hsin.text[:60] not in body, "no recommendation text in a feed"
    # FEMA is not an addressee of HSIN: its feed does not carry the change
    assert expected_title not in [e["title"] for e in _feed(client, f"/feeds/components/{fema}.atom")[1]]


def test_oig_12_15_feed_shows_a_closure(app: Flask, client: FlaskClient) -> None:
    """The issue's own example: the report's feed validates and shows the status change
    (here made through the workflow services: resolved, closure requested, closed)."""
    report_id = _ids()[0]
    hsin_resolved("closed")()
    titles = [e["title"] for e in _feed(client, f"/feeds/reports/{report_id}.atom")[1]]
    assert "OIG-12-15, Recommendation 1: Closed–Implemented" in titles
    assert "OIG-12-15, Recommendation 1: Open–Resolved" in titles
    assert titles.index("OIG-12-15, Recommendation 1: Closed–Implemented") < titles.index(
        "OIG-12-15, Recommendation 1: Open–Resolved"
    )


def _restricted_markers() -> list[str]:
    return ["TEST-R-1", "Synthetic restricted", "SYNTHETIC-RESTRICTED"]


def test_restricted_items_never_appear(client: FlaskClient) -> None:
    """The synthetic restricted report has status changes (its issuance, and a resolution
    made here); none of them, nor its number or titles, is in any feed."""
    restricted = report_by_number("TEST-R-1")
    workflow.resolve(db.session, ctx("oig"), restricted.recommendations[0], "Responsive.")
    db.session.commit()
    changes = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(RecommendationEvent)
        .join(Recommendation)
        .where(Recommendation.report_id == restricted.id, RecommendationEvent.status_after.is_not(None))
    )
    assert changes == 3  # two issuances and the resolution: there is something to leak
    for url in _feed_urls():
        body = _feed(client, url)[2]
        for marker in _restricted_markers():
            assert marker not in body, (url, marker)


def test_a_public_recommendation_of_a_restricted_report_is_left_out(client: FlaskClient) -> None:
    """A restricted report hides all of its own, even a recommendation marked public."""
    restricted = report_by_number("TEST-R-1")
    restricted.recommendations[0].sensitivity = Sensitivity.PUBLIC
    db.session.commit()
    for url in _feed_urls():
        body = _feed(client, url)[2]
        for marker in _restricted_markers():
            assert marker not in body, (url, marker)


def test_a_restricted_recommendation_of_a_public_report_is_left_out(client: FlaskClient) -> None:
    report_id = _ids()[0]
    title = "OIG-12-15, Recommendation 2: Open–Unresolved"
    assert title in [e["title"] for e in _feed(client, f"/feeds/reports/{report_id}.atom")[1]]
    second = rec("OIG-12-15", 2)  # after the request, which ended the session it would be in
    second.sensitivity = Sensitivity.RESTRICTED
    db.session.commit()
    for url in _feed_urls():
        assert title not in [e["title"] for e in _feed(client, url)[1]], url


def test_bad_feed_addresses_are_404(client: FlaskClient) -> None:
    _report_id, _ia, _fema, restricted = _ids()
    for url in (
        "/feeds/reports/abc.atom",
        "/feeds/reports/987654.atom",
        f"/feeds/reports/{restricted}.atom",
        "/feeds/reports/99999999999999.atom",
        "/feeds/components/987654.atom",
        "/feeds/components/x.atom",
        "/feeds/reports/1",
        "/feeds/everything.atom",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Page not found" in visible_text(response)


def test_malformed_feed_requests_are_answered_never_a_500(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Bad feed addresses are the friendly 404 page and are logged (the request log, and
    for a missing item its id); query strings a feed does not use are ignored (a NUL byte
    is the friendly 400 page, as anywhere); malformed
    conditional headers are ignored (the whole feed), a future date is "not modified"."""
    report_id = _ids()[0]
    with caplog.at_level("INFO"):
        for url in (
            "/feeds/reports/-1.atom",
            "/feeds/reports/%00.atom",
            "/feeds/reports/1.atom.atom",
            "/feeds/all.ATOM",
            "/feeds/all.atom/",
            "/feeds/reports/99999999999999999999999999.atom",
        ):
            response = client.get(url)
            assert response.status_code == 404, url
            assert "Page not found" in visible_text(response), url
        assert client.get("/feeds/reports/987654.atom").status_code == 404
    logged = [r.getMessage() for r in caplog.records]
    assert "feed not found: report 987654" in logged
    # the request log names no path it has no route for (they are whatever was typed)
    assert sum(m.startswith("GET (no route) 404 ") for m in logged) == 6, logged
    whole = client.get(f"/feeds/reports/{report_id}.atom").get_data()
    assert client.get(f"/feeds/reports/{report_id}.atom?page=-1&limit=abc").get_data() == whole
    nul = client.get(f"/feeds/reports/{report_id}.atom?x=%00")  # a NUL byte is refused anywhere
    assert nul.status_code == 400
    assert "Bad request" in visible_text(nul)
    for headers in ({"If-None-Match": "garbage\x01"}, {"If-Modified-Since": "not a date"}):
        response = client.get(f"/feeds/reports/{report_id}.atom", headers=headers)
        assert (response.status_code, response.get_data()) == (200, whole), headers
    future = {"If-Modified-Since": "Mon, 01 Jan 9999 00:00:00 GMT"}
    assert client.get(f"/feeds/reports/{report_id}.atom", headers=future).status_code == 304


def test_a_restricted_reports_feed_looks_like_a_missing_one(client: FlaskClient) -> None:
    restricted = _ids()[3]
    # the same request id on both, so that the pages (which show it) can be compared whole
    same_id = {"X-Request-ID": "feed-test-request-0001"}
    missing = client.get("/feeds/reports/987654.atom", headers=same_id)
    hidden = client.get(f"/feeds/reports/{restricted}.atom", headers=same_id)
    assert (hidden.status_code, hidden.get_data()) == (missing.status_code, missing.get_data())
    # signed in as staff (who may read the report) the feed is still not there
    login(client, "oig")
    assert client.get(f"/feeds/reports/{restricted}.atom").status_code == 404


def test_titles_are_escaped(client: FlaskClient) -> None:
    report = report_by_number("OIG-12-15")
    report.number = "OIG<&>\"'-1"
    db.session.commit()
    titles = [e["title"] for e in _feed(client, f"/feeds/reports/{report.id}.atom")[1]]
    assert "OIG<&>\"'-1, Recommendation 1: Open–Unresolved" in titles


def test_unchanged_feed_answers_304(client: FlaskClient) -> None:
    url = _feed_urls()[1]
    first = client.get(url)
    assert first.headers["ETag"]
    assert first.headers["Last-Modified"]
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_pages_link_their_feeds(client: FlaskClient) -> None:
    report_id, ia, _fema, restricted = _ids()
    login(client, "viewer")
    for page, feed in (
        (f"/reports/{report_id}", f"/feeds/reports/{report_id}.atom"),
        (f"/components/{ia}", f"/feeds/components/{ia}.atom"),
        ("/reports", "/feeds/all.atom"),
    ):
        response = client.get(page)
        html = response.get_data(as_text=True)
        head = html.split("</head>")[0]
        assert '<link rel="alternate" type="application/atom+xml"' in head, page
        assert f'href="{feed}"' in head, page
        assert f'<a class="usa-link" href="{feed}"' in html, page
        assert "Atom feed" in visible_text(response), page
    login(client, "oig")
    html = client.get(f"/reports/{restricted}").get_data(as_text=True)
    assert "application/atom+xml" not in html
    assert "Atom feed" not in html


def test_a_feed_takes_a_bounded_number_of_queries(app: Flask, client: FlaskClient) -> None:
    """50 entries (FEED_MAX_ENTRIES), newest first, in the same few statements at any size."""
    fema = _ids()[2]
    urls = ("/feeds/all.atom", f"/feeds/components/{fema}.atom")

    def counts() -> dict[str, tuple[int, int]]:
        out = {}
        for url in urls:
            with counting() as statements:
                entries = _feed(client, url)[1]
            out[url] = (len(statements), len(entries))
        return out

    generate(
        db.session.connection(), reports=5, recommendations=40, seed=3, today=clock.today(), allow_mixed=True
    )
    db.session.commit()
    small = counts()
    generate(
        db.session.connection(),
        reports=30,
        recommendations=600,
        seed=4,
        today=clock.today(),
        allow_mixed=True,
    )
    db.session.commit()
    large = counts()
    assert [n for n, _ in large.values()] == [n for n, _ in small.values()]
    # the scope row, the changes, their addressees (and the test session's end-of-request
    # ROLLBACK TO SAVEPOINT, which the counter sees too)
    assert max(n for n, _ in large.values()) <= 4
    assert {url: entries for url, (_n, entries) in large.items()} == dict.fromkeys(urls, 50)
