"""'No change since the last update': a progress update that keeps the corrective action
plan and the target date and records one short note, through the post_update step (the
same event, the same update clock), and the way to it from a digest's link.

Fixtures (tests/conftest.py): the clock stands at November 16, 2026 (noon in
Washington); OIG-12-15 #3 is addressed to I&A (did not concur) and FEMA (concurs, no
response yet); TEST-R-1 is restricted, #1 addressed to I&A and #2 to FEMA. The update
interval is 90 days."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask

from app.extensions import db
from app.models import Addressee, EventKind, RecommendationEvent, RecStatus
from tests.conftest import PASSWORD, hidden_fields, login, rec, submit, visible_text

PLAN = "Update the distribution list; send the guidance; survey EOCs."
TARGET = date(2027, 6, 30)
NOV_16 = datetime.fromisoformat("2026-11-16T17:00:00+00:00")  # noon in Washington
DEC_1 = datetime.fromisoformat("2026-12-01T17:00:00+00:00")


@pytest.fixture(autouse=True)
def _november_16() -> Iterator[None]:
    """The dates below are written out from November 16, 2026, whatever RECTRACK_TEST_NOW
    the run uses (make test-clock moves it)."""
    with time_machine.travel(NOV_16, tick=True):
        yield


def _fema(recommendation: Any) -> Addressee:
    return next(a for a in recommendation.addressees if a.component.abbreviation == "FEMA")


def _url(recommendation: Any, abbr: str, slug: str = "update") -> str:
    part = next(a for a in recommendation.addressees if a.component.abbreviation == abbr)
    return f"/recommendations/{recommendation.id}/components/{part.id}/{slug}"


def _resolved_cpg(app: Flask) -> Any:
    """OIG-12-15 #3 with FEMA's response (plan, target June 30, 2027) and resolved by the
    OIG on November 16, 2026: FEMA's first update is due 90 days later, February 14, 2027."""
    cpg = rec("OIG-12-15", 3)
    fema, oig = app.test_client(), app.test_client()
    login(fema, "fema")
    login(oig, "oig")
    response = {
        "concurrence": "concur",
        "response": "FEMA concurs.",
        "corrective_action_plan": PLAN,
        "target_date": TARGET.isoformat(),
        "responsible_official": "Director, National Preparedness Directorate",
    }
    assert submit(fema, _url(cpg, "FEMA", "respond"), data=response).status_code == 302
    assert submit(oig, f"/recommendations/{cpg.id}/resolve", data={"note": "Responsive."}).status_code == 302
    cpg = rec("OIG-12-15", 3)
    assert cpg.status == RecStatus.OPEN_RESOLVED
    assert _fema(cpg).update_due == date(2027, 2, 14)
    return cpg


def _updates(part_id: int) -> list[RecommendationEvent]:
    return list(
        db.session.scalars(
            sa.select(RecommendationEvent)
            .where(
                RecommendationEvent.addressee_id == part_id,
                RecommendationEvent.kind == EventKind.UPDATE_POSTED,
            )
            .order_by(RecommendationEvent.id)
        )
    )


def test_no_change_keeps_plan_and_target_and_restarts_the_update_clock(app: Flask, client: Any) -> None:
    cpg = _resolved_cpg(app)
    part = _fema(cpg)
    login(client, "fema")
    form_page = visible_text(client.get(_url(cpg, "FEMA")))
    assert "No change since the last update" in form_page
    with time_machine.travel(DEC_1, tick=False):
        login(client, "fema")  # a new session: the old one timed out
        url = _url(cpg, "FEMA") + "?no_change=1"
        page = client.get(url)
        assert page.status_code == 200
        text = visible_text(page)
        assert "No change since the last update" in text
        assert "June 30, 2027" in text  # the target date it keeps
        saved = client.post(
            url, data={**hidden_fields(page.get_data(as_text=True)), "no_change_note": "Survey still open."}
        )
        detail = visible_text(client.get(f"/recommendations/{cpg.id}"))
    assert "Progress update: no change since the last update" in detail
    assert "Survey still open." in detail
    assert saved.status_code == 302
    assert saved.headers["Location"].endswith(f"/recommendations/{cpg.id}#addressee-{part.id}")
    cpg = rec("OIG-12-15", 3)
    after = _fema(cpg)
    assert after.corrective_action_plan == PLAN
    assert after.target_date == TARGET
    assert after.last_update_on == date(2026, 12, 1)
    # as for any update: the next one is due 90 days after this one, March 1, 2027
    assert after.update_due == date(2027, 3, 1)
    [event] = _updates(part.id)
    assert event.note == "Survey still open."
    assert event.target_date_after is None
    assert event.details == {"no_change": True, "component": "FEMA"}
    assert event.effective_on == date(2026, 12, 1)


def test_a_normal_update_moves_the_clock_the_same_way(app: Flask, client: Any) -> None:
    cpg = _resolved_cpg(app)
    with time_machine.travel(DEC_1, tick=False):
        login(client, "fema")
        assert submit(client, _url(cpg, "FEMA"), data={"text": "Guidance sent."}).status_code == 302
    assert _fema(rec("OIG-12-15", 3)).update_due == date(2027, 3, 1)


def test_the_note_is_required_and_short(app: Flask, client: Any) -> None:
    cpg = _resolved_cpg(app)
    part = _fema(cpg)
    login(client, "fema")
    url = _url(cpg, "FEMA") + "?no_change=1"
    empty = submit(client, url, data={"no_change_note": "   "})
    assert empty.status_code == 200
    assert "Say in a few words why nothing changed." in visible_text(empty)
    long = submit(client, url, data={"no_change_note": "x" * 501})
    assert long.status_code == 200
    assert "500" in visible_text(long)
    assert submit(client, url, data={"no_change_note": "x" * 500}).status_code == 302
    assert [len(e.note) for e in _updates(part.id)] == [500]


def test_a_stale_version_is_a_conflict_and_saves_nothing(app: Flask, client: Any) -> None:
    cpg = _resolved_cpg(app)
    part = _fema(cpg)
    login(client, "fema")
    url = _url(cpg, "FEMA") + "?no_change=1"
    fields = hidden_fields(client.get(url).get_data(as_text=True))
    assert submit(client, url, data={"no_change_note": "First."}).status_code == 302
    stale = client.post(url, data={**fields, "no_change_note": "Second, from an old page."})
    assert stale.status_code == 409
    assert [e.note for e in _updates(part.id)] == ["First."]


def test_only_the_addressees_liaison_may_say_no_change(app: Flask) -> None:
    cpg = _resolved_cpg(app)
    part = _fema(cpg)
    url = _url(cpg, "FEMA") + "?no_change=1"
    for role in ("liaison", "oig", "viewer"):  # I&A's liaison, OIG staff, a reader
        other = app.test_client()
        login(other, role)
        assert other.get(url).status_code == 403, role
        assert other.post(url, data={"no_change_note": "Not mine.", "version": "1"}).status_code == 403, role
    assert _updates(part.id) == []


def test_restricted_rules_are_unchanged(client: Any) -> None:
    """FEMA's liaison may not open I&A's part of the restricted TEST-R-1 #1, and its page
    does not leak the text; FEMA's own restricted part is still Open–Unresolved (no
    updates yet: 409)."""
    login(client, "fema")
    restricted = rec("TEST-R-1", 1)
    page = client.get(_url(restricted, "I&A") + "?no_change=1")
    assert page.status_code == 403
    assert "SYNTHETIC-RESTRICTED" not in page.get_data(as_text=True)
    own = client.get(_url(rec("TEST-R-1", 2), "FEMA") + "?no_change=1")
    assert own.status_code == 409


def test_sign_in_comes_back_to_the_form(app: Flask, client: Any) -> None:
    cpg = _resolved_cpg(app)
    url = _url(cpg, "FEMA")
    first = client.get(url)
    assert first.status_code == 302
    login_url = urlsplit(first.headers["Location"])
    assert login_url.path == "/login"
    assert parse_qs(login_url.query)["next"] == [url]
    page = client.get(first.headers["Location"]).get_data(as_text=True)
    fields = hidden_fields(page)
    assert fields["next"] == url
    signed_in = client.post("/login", data={**fields, "email": "fema@test.example", "password": PASSWORD})
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"] == url
    assert "No change since the last update" in visible_text(client.get(url))
