"""Followers (issue 15): any user follows a report or a component they may see and gets a
weekly summary of its status changes. The issue's own example: a viewer follows
OIG-12-15 and receives the weekly summary; the report's Atom feed shows the same change.

The suite's clock starts on Monday 2026-11-16 (tests/conftest.py), so the fixtures'
own issuance events fall in the week of November 16; the changes made here are made in
the weeks after it. Weeks run Monday 00:00 to Monday 00:00 in America/New_York (EST,
UTC-5, in these weeks): Monday 2026-11-30 00:00 there is 2026-11-30T05:00Z."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.lifecycle import workflow
from app.mail import preferences as prefs
from app.models import AuditEvent, DigestFrequency, Follow, OutboxMessage, Recommendation, Report
from tests.conftest import login, rec, report_by_number, submit, user_by_email, visible_text
from tests.mailserver import MailServer, html_of, notify, text_of
from tests.states import ctx, row

VIEWER = "viewer@test.example"
MON_23, MON_30, MON_DEC_7 = date(2026, 11, 23), date(2026, 11, 30), date(2026, 12, 7)
WEDNESDAY_25 = "2026-11-25T15:00:00+00:00"  # 10:00 in Washington
A = "{http://www.w3.org/2005/Atom}"


def follow_page(client: FlaskClient, report_id: int) -> None:
    """The viewer presses Follow on the report's page."""
    page = client.get(f"/reports/{report_id}")
    assert page.status_code == 200
    assert f'action="/follows/reports/{report_id}"' in page.get_data(as_text=True)
    response = client.post(f"/follows/reports/{report_id}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/reports/{report_id}"
    assert "Unfollow" in visible_text(client.get(f"/reports/{report_id}"))


def resolve_hsin_by_page(app: Flask, moment: str) -> None:
    """OIG staff resolve OIG-12-15 #1 (HSIN) through the step form, at `moment`."""
    hsin = rec("OIG-12-15", 1)
    with time_machine.travel(moment, tick=False):
        oig = app.test_client()
        login(oig, "oig")
        assert submit(oig, f"/recommendations/{hsin.id}/resolve", data={}).status_code == 302


def summaries() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "follow_summary")))


def restricted_words() -> list[str]:
    """The restricted report's identifiers and every recommendation text: never in a summary."""
    texts = [t for t in db.session.scalars(sa.select(Recommendation.text)) if t and len(t) >= 12]
    return ["TEST-R-1", "Synthetic restricted", "SYNTHETIC-RESTRICTED", *texts]


def test_viewer_follows_oig_12_15_and_gets_the_weekly_summary(
    app: Flask, client: FlaskClient, smtp: MailServer
) -> None:
    """The issue's example, end to end: Follow on the page, a resolution on Wednesday
    November 25 through the OIG's step form, and on Monday November 30 one summary to the
    viewer over SMTP listing it; a second run sends nothing more; the feed shows it too."""
    report = report_by_number("OIG-12-15")
    login(client, "viewer")
    follow_page(client, report.id)
    resolve_hsin_by_page(app, WEDNESDAY_25)

    output = notify(app, MON_30)
    assert "1 follower summary queued" in output
    [message] = smtp.to(VIEWER)  # the viewer's digest is off by default: nothing else
    sent_in_all = len(smtp.received)  # with the liaisons' and staff's digests
    assert message["Subject"] == "RecTrack: 1 status change in what you follow"
    body = text_of(message)
    hsin = rec("OIG-12-15", 1)
    assert "November 23, 2026 to November 29, 2026" in body
    assert "- OIG-12-15, Recommendation 1: Open–Resolved (effective November 25, 2026)" in body
    assert f"http://rectrack.test/recommendations/{hsin.id}" in body
    assert "OIG-12-15, Recommendation 1</a>: Open–Resolved (effective November 25, 2026)" in html_of(message)
    for word in restricted_words():
        assert word not in body, word
        assert word not in html_of(message), word
    [queued] = summaries()
    assert queued.key == f"follow-summary:{user_by_email(VIEWER).id}:2026-W48"

    assert "0 follower summaries queued, 1 already queued" in notify(app, MON_30)
    assert len(smtp.received) == sent_in_all
    assert len(smtp.to(VIEWER)) == 1

    # The report's Atom feed parses and shows the same change, at the same moment.
    response = client.get(f"/feeds/reports/{report.id}.atom")
    root = ET.fromstring(response.get_data())  # noqa: S314 (our own feed)
    assert root.tag == f"{A}feed"
    entries = [(e.findtext(f"{A}title"), e.findtext(f"{A}updated")) for e in root.findall(f"{A}entry")]
    # (in it, not first: when the suite's clock is set after November 25 with
    # RECTRACK_TEST_NOW, the fixtures' own issuance events are newer)
    assert ("OIG-12-15, Recommendation 1: Open–Resolved", "2026-11-25T15:00:00Z") in entries


def test_a_week_with_no_change_sends_nothing(app: Flask, client: FlaskClient, smtp: MailServer) -> None:
    login(client, "viewer")
    follow_page(client, report_by_number("OIG-12-15").id)
    assert "0 follower summaries queued" in notify(app, MON_30)
    assert smtp.to(VIEWER) == []
    assert summaries() == []


def test_a_missed_monday_is_caught_up_once_that_week(
    app: Flask, client: FlaskClient, smtp: MailServer
) -> None:
    """The scheduler was down on Monday November 30: Tuesday's run sends the summary of
    November 23-29 (key: that ISO week, 2026-W48), Wednesday's sends nothing more, and
    Monday December 7 sends the next week's (a closure on Thursday December 3)."""
    login(client, "viewer")
    follow_page(client, report_by_number("OIG-12-15").id)
    resolve_hsin_by_page(app, WEDNESDAY_25)
    hsin = rec("OIG-12-15", 1)
    with time_machine.travel("2026-12-03T15:00:00+00:00", tick=False):
        workflow.request_closure(db.session, ctx("liaison"), hsin, row(hsin, "I&A"), "Done.")
        workflow.close(db.session, ctx("oig"), hsin, implemented=True, note="Verified.")
        db.session.commit()

    assert "1 follower summary queued" in notify(app, date(2026, 12, 1))  # Tuesday
    [tuesday] = smtp.to(VIEWER)
    body = text_of(tuesday)
    assert "November 23, 2026 to November 29, 2026" in body
    assert "OIG-12-15, Recommendation 1: Open–Resolved (effective November 25, 2026)" in body
    assert "Closed" not in body  # Thursday's closure is next week's
    assert [s.key for s in summaries()] == [f"follow-summary:{user_by_email(VIEWER).id}:2026-W48"]

    output = notify(app, date(2026, 12, 2))  # Wednesday: the week's summary is out already
    assert "0 follower summaries queued, 1 already queued" in output
    assert len(smtp.to(VIEWER)) == 1

    notify(app, MON_DEC_7)
    _, monday = smtp.to(VIEWER)
    body = text_of(monday)
    assert "November 30, 2026 to December 6, 2026" in body
    assert "OIG-12-15, Recommendation 1: Closed–Implemented (effective December 3, 2026)" in body
    assert "Open–Resolved" not in body
    assert len(summaries()) == 2


def test_after_a_long_outage_only_the_latest_week_is_sent(
    app: Flask, client: FlaskClient, smtp: MailServer
) -> None:
    """No run from Monday November 30 to Tuesday December 8: the December 8 run sends the
    week of November 30 (the latest) only, not the older week of November 23, though both
    had a change."""
    login(client, "viewer")
    follow_page(client, report_by_number("OIG-12-15").id)
    resolve_hsin_by_page(app, WEDNESDAY_25)
    hsin = rec("OIG-12-15", 1)
    with time_machine.travel("2026-12-03T15:00:00+00:00", tick=False):
        workflow.request_closure(db.session, ctx("liaison"), hsin, row(hsin, "I&A"), "Done.")
        workflow.close(db.session, ctx("oig"), hsin, implemented=True, note="Verified.")
        db.session.commit()
    notify(app, date(2026, 12, 8))
    [message] = smtp.to(VIEWER)
    body = text_of(message)
    assert "November 30, 2026 to December 6, 2026" in body
    assert "Closed–Implemented (effective December 3, 2026)" in body
    assert "Open–Resolved" not in body
    assert [s.key for s in summaries()] == [f"follow-summary:{user_by_email(VIEWER).id}:2026-W49"]


def test_a_sunday_run_plans_the_week_before_last_monday_not_the_running_week(
    app: Flask, client: FlaskClient, smtp: MailServer
) -> None:
    """Sunday December 6 belongs to the week whose summary goes on December 7: a run on
    that Sunday (Monday November 30 skipped) sends November 23-29, never the running week."""
    login(client, "viewer")
    follow_page(client, report_by_number("OIG-12-15").id)
    resolve_hsin_by_page(app, WEDNESDAY_25)
    notify(app, date(2026, 12, 6))
    [message] = smtp.to(VIEWER)
    assert "November 23, 2026 to November 29, 2026" in text_of(message)


def test_the_week_boundary_is_midnight_in_washington(
    app: Flask, client: FlaskClient, smtp: MailServer
) -> None:
    """Resolved Sunday 23:59 (Nov 29, EST: 04:59Z on the 30th) belongs to the week of
    November 23; closed Monday 00:00 (05:00Z on the 30th) to the week of November 30."""
    login(client, "viewer")
    follow_page(client, report_by_number("OIG-12-15").id)
    hsin = rec("OIG-12-15", 1)
    with time_machine.travel("2026-11-30T04:59:00+00:00", tick=False):
        workflow.resolve(db.session, ctx("oig"), hsin, "Responsive.")
        workflow.request_closure(db.session, ctx("liaison"), hsin, row(hsin, "I&A"), "Done.")
        db.session.commit()
    with time_machine.travel("2026-11-30T05:00:00+00:00", tick=False):
        workflow.close(db.session, ctx("oig"), hsin, implemented=True, note="Verified.")
        db.session.commit()

    notify(app, MON_30)
    [first] = smtp.to(VIEWER)
    body = text_of(first)
    assert "OIG-12-15, Recommendation 1: Open–Resolved (effective November 29, 2026)" in body
    assert "Closed" not in body

    notify(app, MON_DEC_7)
    _, second = smtp.to(VIEWER)
    body = text_of(second)
    assert "November 30, 2026 to December 6, 2026" in body
    assert "OIG-12-15, Recommendation 1: Closed–Implemented (effective November 30, 2026)" in body
    assert "Open–Resolved" not in body


def test_a_component_follower_gets_changes_addressed_to_it(
    app: Flask, client: FlaskClient, smtp: MailServer
) -> None:
    """HSIN (#1) is addressed to I&A: following I&A, not the report, lists it too."""
    login(client, "viewer")
    component_id = row(rec("OIG-12-15", 1), "I&A").component_id
    page = client.get(f"/components/{component_id}").get_data(as_text=True)
    assert f'action="/follows/components/{component_id}"' in page
    assert client.post(f"/follows/components/{component_id}").status_code == 302
    resolve_hsin_by_page(app, WEDNESDAY_25)
    notify(app, MON_30)
    [message] = smtp.to(VIEWER)
    assert "OIG-12-15, Recommendation 1: Open–Resolved (effective November 25, 2026)" in text_of(message)


def test_a_viewer_cannot_follow_a_restricted_report(client: FlaskClient) -> None:
    restricted = report_by_number("TEST-R-1")
    login(client, "viewer")
    assert client.get(f"/reports/{restricted.id}").status_code == 403  # the page refuses too
    assert client.post(f"/follows/reports/{restricted.id}").status_code == 404
    assert client.post("/follows/reports/987654").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Follow)) == 0


def test_restricted_changes_never_reach_a_component_follower(
    app: Flask, client: FlaskClient, smtp: MailServer
) -> None:
    """A viewer following every component sees no change of the restricted report."""
    restricted = report_by_number("TEST-R-1")
    login(client, "viewer")
    for part in restricted.recommendations[0].addressees:
        assert client.post(f"/follows/components/{part.component_id}").status_code == 302
    with time_machine.travel(WEDNESDAY_25, tick=False):
        workflow.resolve(db.session, ctx("oig"), restricted.recommendations[0], "Responsive.")
        db.session.commit()
    notify(app, MON_30)
    assert smtp.to(VIEWER) == []


def test_unfollow_stops_it(app: Flask, client: FlaskClient, smtp: MailServer) -> None:
    report = report_by_number("OIG-12-15")
    login(client, "viewer")
    follow_page(client, report.id)
    prefs_page = visible_text(client.get("/account/notifications"))
    assert "Report: OIG-12-15" in prefs_page
    response = client.post(f"/follows/reports/{report.id}/unfollow", data={"next": "/account/notifications"})
    assert response.headers["Location"] == "/account/notifications"
    assert "You follow nothing yet" in visible_text(client.get("/account/notifications"))
    resolve_hsin_by_page(app, WEDNESDAY_25)
    notify(app, MON_30)
    assert smtp.to(VIEWER) == []
    actions = db.session.execute(
        sa.select(AuditEvent.action, AuditEvent.actor_label)
        .where(AuditEvent.object_type == "follows")
        .order_by(AuditEvent.id)
    ).all()
    assert [tuple(a) for a in actions] == [("create", VIEWER), ("delete", VIEWER)]


def test_a_deactivated_account_gets_nothing(app: Flask, client: FlaskClient, smtp: MailServer) -> None:
    login(client, "viewer")
    follow_page(client, report_by_number("OIG-12-15").id)
    resolve_hsin_by_page(app, WEDNESDAY_25)
    user_by_email(VIEWER).active = False
    db.session.commit()
    notify(app, MON_30)
    assert smtp.to(VIEWER) == []
    assert summaries() == []


def test_the_summary_can_be_turned_off(app: Flask, client: FlaskClient, smtp: MailServer) -> None:
    login(client, "viewer")
    follow_page(client, report_by_number("OIG-12-15").id)
    response = submit(client, "/account/notifications", data={"digest": "off"})  # box left unticked
    assert response.status_code == 302
    assert prefs.follow_summary_on(db.session, user_by_email(VIEWER)) is False
    resolve_hsin_by_page(app, WEDNESDAY_25)
    notify(app, MON_30)
    assert smtp.to(VIEWER) == []
    submit(
        client, "/account/notifications", data={"digest": DigestFrequency.OFF.value, "follow_summary": "y"}
    )
    db.session.expire_all()
    assert prefs.follow_summary_on(db.session, user_by_email(VIEWER)) is True


def test_following_twice_keeps_one_row(client: FlaskClient) -> None:
    report = report_by_number("OIG-12-15")
    login(client, "viewer")
    client.post(f"/follows/reports/{report.id}")
    client.post(f"/follows/reports/{report.id}")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Follow)) == 1
    assert db.session.scalar(sa.select(Report.id).join(Follow, Follow.report_id == Report.id)) == report.id


@pytest.mark.parametrize("role", ["liaison", "admin"])
def test_a_restricted_report_its_readers_may_follow(app: Flask, client: FlaskClient, role: str) -> None:
    """TEST-R-1 is addressed to I&A: the I&A liaison and staff may open it, so they may
    follow it, and the preferences page lists it by its number."""
    restricted = report_by_number("TEST-R-1")
    login(client, role)
    assert client.get(f"/reports/{restricted.id}").status_code == 200
    assert client.post(f"/follows/reports/{restricted.id}").status_code == 302
    assert "Report: TEST-R-1" in visible_text(client.get("/account/notifications"))


def test_a_report_the_follower_can_no_longer_see_is_listed_without_its_number(client: FlaskClient) -> None:
    """A public report followed, then made restricted: the list hides its number, and
    Unfollow still works."""
    report = report_by_number("OIG-12-15")
    login(client, "viewer")
    assert client.post(f"/follows/reports/{report.id}").status_code == 302
    db.session.execute(sa.update(Report).where(Report.id == report.id).values(sensitivity="restricted"))
    db.session.commit()
    page = visible_text(client.get("/account/notifications"))
    assert "Report: A report you can no longer see" in page
    assert "OIG-12-15" not in page
    assert client.post(f"/follows/reports/{report.id}/unfollow").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Follow)) == 0


def test_one_query_per_reader_scope_gives_each_follower_their_own_changes(app: Flask) -> None:
    """The run's shared queries (summary._Changes) give each follower exactly what their
    own query (summary.changes_for) gives: the viewer, following OIG-12-15 and I&A, gets
    HSIN (#1) once and never the restricted TEST-R-1 #1; the I&A liaison and OIG staff,
    following TEST-R-1, get its #1; the FEMA liaison, following FEMA, gets nothing (#1s
    are addressed to I&A)."""
    from sqlalchemy.orm import selectinload

    from app.follows import summary
    from app.mail.compose import Links
    from app.models import Component, User

    with app.app_context():
        restricted = report_by_number("TEST-R-1")
        oig_12_15 = report_by_number("OIG-12-15")
        comps = {c.abbreviation: c.id for c in db.session.scalars(sa.select(Component))}
        follows = {
            "viewer@test.example": ([oig_12_15.id], [comps["I&A"]]),
            "liaison@test.example": ([restricted.id], []),
            "oig@test.example": ([restricted.id], []),
            "fema@test.example": ([], [comps["FEMA"]]),
        }
        with time_machine.travel(WEDNESDAY_25, tick=False):
            workflow.resolve(db.session, ctx("oig"), rec("OIG-12-15", 1), "Responsive.")
            workflow.resolve(db.session, ctx("oig"), restricted.recommendations[0], "Responsive.")
            db.session.flush()
        users = db.session.scalars(
            sa.select(User).where(User.email.in_(list(follows))).options(selectinload(User.components))
        ).all()
        by_id = {u.id: follows[u.email] for u in users}
        links = Links(app)
        shared = summary._Changes(db.session, list(users), by_id, MON_30)
        got = {}
        for user in users:
            mine = shared.of(user, *by_id[user.id], links)
            assert mine == summary.changes_for(db.session, user, *by_id[user.id], MON_30, links), user.email
            got[user.email] = [(c.report, c.rec, c.status) for c in mine]
        assert got == {
            "viewer@test.example": [("OIG-12-15", "Recommendation 1", "Open–Resolved")],
            "liaison@test.example": [("TEST-R-1", "Recommendation 1", "Open–Resolved")],
            "oig@test.example": [("TEST-R-1", "Recommendation 1", "Open–Resolved")],
            "fema@test.example": [],
        }
        db.session.rollback()
