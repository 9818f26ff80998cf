"""Session limits (issue 17; README, "Sessions"): 30 minutes without activity or 12 hours
after sign-in end a session on the server, whatever the page's script does; the user signs
in again and lands back where they were. Also: temporary passwords an administrator sets,
and the previous sign-in shown after signing in.

The clock stands still in these tests (time-machine, tick=False) so that "29:59" and
"30:00" are exactly those instants. The limits are the defaults (SESSION_IDLE_MINUTES 30,
SESSION_MAX_HOURS 12), written out here, not read from the configuration."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from app import clock
from app.auth import services as accounts
from app.extensions import db
from app.models import AuditEvent, Role
from app.seed.demo import ensure_demo_accounts
from tests.conftest import EMAILS, PASSWORD, login, report_by_number, user_by_email, visible_text

NEW_PASSWORD = "violet harbour quantum lantern 42"
IDLE_MESSAGE = "You were signed out after 30 minutes without activity. Sign in again to continue."
ABSOLUTE_MESSAGE = "You were signed out: a session lasts at most 12 hours. Sign in again to continue."


def _at(instant: datetime) -> time_machine.travel:
    return time_machine.travel(instant, tick=False)


def _t0() -> datetime:
    return clock.now().replace(microsecond=0)


def _expired_events() -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "session expired").order_by(AuditEvent.id)
        )
    )


def _sign_in(client: FlaskClient, email: str, password: str = PASSWORD, ip: str = "10.0.0.1", **data: str):
    return client.post(
        "/login", data={"email": email, "password": password, **data}, environ_base={"REMOTE_ADDR": ip}
    )


def _report_url() -> str:
    return f"/reports/{report_by_number('OIG-12-15').id}"


# --- the idle limit ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("idle", "signed_in"),
    [
        (timedelta(minutes=29, seconds=59), True),
        (timedelta(minutes=30), False),
        (timedelta(minutes=31), False),
    ],
    ids=["29:59", "30:00", "31:00"],
)
def test_idle_limit_boundaries(app: Flask, idle: timedelta, signed_in: bool) -> None:
    client = app.test_client()
    t0 = _t0()
    url = _report_url()
    with _at(t0):
        login(client, "oig")
        assert client.get(url).status_code == 200
    with _at(t0 + idle):
        response = client.get(url)
    if signed_in:
        assert response.status_code == 200
        assert not _expired_events()
        return
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == [url]
    [event] = _expired_events()
    assert event.changes == {"limit": "idle"}
    assert event.actor_label == EMAILS["oig"]
    with _at(t0 + idle):
        page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert IDLE_MESSAGE in visible_text(page)


def test_the_idle_limit_counts_from_the_last_activity(app: Flask) -> None:
    client = app.test_client()
    t0 = _t0()
    with _at(t0):
        login(client, "viewer")
    for minutes in (20, 40, 60, 80):  # each request within 30 minutes of the one before
        with _at(t0 + timedelta(minutes=minutes)):
            assert client.get("/reports").status_code == 200
    with _at(t0 + timedelta(minutes=110)):
        assert client.get("/reports").status_code == 302


def test_status_polls_static_files_and_health_checks_are_not_activity(app: Flask) -> None:
    client = app.test_client()
    t0 = _t0()
    with _at(t0):
        login(client, "viewer")
    with _at(t0 + timedelta(minutes=20)):
        status = client.get("/session/status")
        assert status.status_code == 200
        assert status.get_json() == {"idle_seconds": 600, "absolute_seconds": 12 * 3600 - 20 * 60}
        assert client.get("/static/js/app.js").status_code == 200
        assert client.get("/healthz").status_code == 200
    with _at(t0 + timedelta(minutes=30)):
        response = client.get("/session/status")
    assert response.status_code == 401
    assert response.get_json()["expired"] is True
    assert response.get_json()["limit"] == "idle"


def test_stay_signed_in_is_activity(app: Flask) -> None:
    client = app.test_client()
    t0 = _t0()
    with _at(t0):
        login(client, "viewer")
    with _at(t0 + timedelta(minutes=28)):
        kept = client.post("/session/keep-alive")
        assert kept.status_code == 200
        assert kept.get_json() == {"idle_seconds": 1800, "absolute_seconds": 12 * 3600 - 28 * 60}
    with _at(t0 + timedelta(minutes=57, seconds=59)):
        assert client.get("/reports").status_code == 200


def test_keep_alive_needs_the_csrf_token(app: Flask, client: FlaskClient) -> None:
    login(client, "viewer")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert client.post("/session/keep-alive").status_code == 400
        page = client.get("/reports").get_data(as_text=True)
        token = re.search(r'data-csrf-token="([^"]+)"', page)
        assert token is not None
        response = client.post("/session/keep-alive", headers={"X-CSRFToken": token.group(1)})
        assert response.status_code == 200
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


# --- the absolute limit ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "signed_in"),
    [(timedelta(hours=11, minutes=59), True), (timedelta(hours=12), False)],
    ids=["11:59", "12:00"],
)
def test_an_active_session_ends_twelve_hours_after_sign_in(
    app: Flask, age: timedelta, signed_in: bool
) -> None:
    client = app.test_client()
    t0 = _t0()
    with _at(t0):
        login(client, "liaison")
    step = timedelta(minutes=20)
    moment = step
    while moment < age:  # active all along: never 30 minutes without a request
        with _at(t0 + moment):
            assert client.get("/reports").status_code == 200, moment
        moment += step
    with _at(t0 + age):
        response = client.get("/reports?page=1")
    if signed_in:
        assert response.status_code == 200
        return
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.headers["Location"]).query)["next"] == ["/reports?page=1"]
    [event] = _expired_events()
    assert event.changes == {"limit": "absolute"}
    with _at(t0 + age):
        assert ABSOLUTE_MESSAGE in visible_text(client.get(response.headers["Location"]))


def test_a_stale_cookie_is_refused_however_often_it_is_replayed(app: Flask) -> None:
    client = app.test_client()
    t0 = _t0()
    with _at(t0):
        login(client, "oig")
        client.get("/reports")
        stale = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value

    def replay() -> FlaskClient:
        copy = app.test_client()
        copy.set_cookie(app.config["SESSION_COOKIE_NAME"], stale)
        return copy

    for minutes in (31, 45, 600):
        with _at(t0 + timedelta(minutes=minutes)):
            assert replay().get("/account/password").status_code == 302
            assert replay().post("/session/keep-alive").status_code == 401  # cannot be revived
    assert [e.changes["limit"] for e in _expired_events()] == ["idle"] * 6


def test_a_cookie_without_its_sign_in_time_is_refused(app: Flask) -> None:
    """A session cookie from before the limits existed (no auth_at) is no session."""
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = user_by_email(EMAILS["oig"]).get_id()
        sess["_fresh"] = True
    response = client.get("/reports")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


# --- back to the same page after signing in again ------------------------------------------


def test_after_idle_expiry_signing_in_again_returns_to_the_same_page(app: Flask) -> None:
    client = app.test_client()
    t0 = _t0()
    url = f"{_report_url()}?tab=history"
    with _at(t0):
        assert _sign_in(client, EMAILS["oig"]).status_code == 302
        assert client.get(url).status_code == 200
    with _at(t0 + timedelta(minutes=31)):
        expired = client.get(url)
        assert expired.status_code == 302
        login_page = client.get(expired.headers["Location"])
        assert f'value="{url}"' in login_page.get_data(as_text=True)  # the form carries `next`
        back = _sign_in(client, EMAILS["oig"], next=url)
        assert back.status_code == 302
        assert back.headers["Location"] == url
        assert client.get(url).status_code == 200


def test_a_post_that_hits_expiry_returns_to_the_page_it_came_from(app: Flask) -> None:
    client = app.test_client()
    t0 = _t0()
    page = "/account/notifications"
    with _at(t0):
        assert _sign_in(client, EMAILS["viewer"]).status_code == 302
        assert client.get(page).status_code == 200
    with _at(t0 + timedelta(minutes=45)):
        response = client.post(page, data={"digest": "off"}, headers={"Referer": f"http://localhost{page}"})
        assert response.status_code == 302
        assert parse_qs(urlsplit(response.headers["Location"]).query)["next"] == [page]
        back = _sign_in(client, EMAILS["viewer"], next=page)
        assert back.headers["Location"] == page


def test_a_post_from_another_site_gets_no_return_address(app: Flask) -> None:
    client = app.test_client()
    t0 = _t0()
    with _at(t0):
        login(client, "viewer")
    with _at(t0 + timedelta(minutes=45)):
        response = client.post("/account/notifications", headers={"Referer": "https://evil.example/x"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"


def test_signed_in_pages_carry_the_warning_and_its_script(client: FlaskClient) -> None:
    login(client, "viewer")
    page = client.get("/reports").get_data(as_text=True)
    assert 'id="rt-session-modal"' in page
    assert 'aria-labelledby="rt-session-heading"' in page
    assert "/static/js/session-timeout.js" in page
    assert "Stay signed in" in page
    assert "cannot be extended" in page
    assert "<script>" not in page  # no inline script (CSP script-src 'self')
    anonymous = client.application.test_client().get("/login").get_data(as_text=True)
    assert "rt-session-modal" not in anonymous


# --- temporary passwords ------------------------------------------------------------------


def _new_account(admin_client: FlaskClient) -> str:
    response = admin_client.post(
        "/admin/users/new",
        data={
            "email": "temp.user@test.example",
            "display_name": "Temp User",
            "role": "viewer",
            "active": "y",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302, visible_text(response)[-500:]
    return "temp.user@test.example"


def test_a_password_an_admin_sets_must_be_changed_at_the_next_sign_in(app: Flask) -> None:
    admin = app.test_client()
    login(admin, "admin")
    email = _new_account(admin)
    assert user_by_email(email).must_change_password is True

    user = app.test_client()
    assert _sign_in(user, email).status_code == 302
    for url in ("/", "/reports", "/account/notifications", "/account/tokens"):
        response = user.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"] == "/account/password"
    assert user.get("/account/password").status_code == 200
    assert user.get("/session/status").status_code == 200
    # the administrator's password cannot simply be typed again
    same = user.post(
        "/account/password", data={"current_password": PASSWORD, "password": PASSWORD, "confirm": PASSWORD}
    )
    assert "Choose a password different from your current one." in visible_text(same)
    changed = user.post(
        "/account/password",
        data={"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert changed.status_code == 302
    assert user_by_email(email).must_change_password is False
    assert user.get("/reports").status_code == 200


def test_an_admin_reset_password_is_temporary_and_sign_out_still_works(app: Flask) -> None:
    admin = app.test_client()
    login(admin, "admin")
    viewer = user_by_email(EMAILS["viewer"])
    response = admin.post(
        f"/admin/users/{viewer.id}/password", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert user_by_email(EMAILS["viewer"]).must_change_password is True
    user = app.test_client()
    assert _sign_in(user, EMAILS["viewer"], NEW_PASSWORD).status_code == 302
    assert user.get("/reports").headers["Location"] == "/account/password"
    assert user.post("/logout").status_code == 302


def test_demo_accounts_are_not_temporary() -> None:
    for demo, _password in ensure_demo_accounts(db.session, reset=True):
        assert user_by_email(demo.email).must_change_password is False


def test_accounts_made_by_services_are_not_temporary_unless_asked() -> None:
    made = accounts.create_user(
        db.session, email="cli.user@test.example", display_name="CLI User", role=Role.OIG, password=PASSWORD
    )
    assert made.must_change_password is False


# --- the previous sign-in ---------------------------------------------------------------------


def test_after_signing_in_the_user_sees_the_previous_sign_in(app: Flask) -> None:
    t0 = _t0()
    first = app.test_client()
    with _at(datetime(2026, 11, 16, 17, 5, tzinfo=t0.tzinfo)):  # 12:05 in Washington
        response = _sign_in(first, EMAILS["fema"], ip="198.51.100.7")
        assert response.status_code == 302
        assert "This is the first sign-in to your account." in visible_text(first.get("/"))
    second = app.test_client()
    with _at(datetime(2026, 11, 17, 14, 30, tzinfo=t0.tzinfo)):
        assert _sign_in(second, EMAILS["fema"], ip="203.0.113.9").status_code == 302
        text = visible_text(second.get("/"))
    assert "Your previous sign-in: November 16, 2026, 12:05 EST from 198.51.100.7." in text
    user = user_by_email(EMAILS["fema"])
    assert user.last_login_ip == "203.0.113.9"


def test_admins_see_each_users_last_sign_in(app: Flask) -> None:
    user = app.test_client()
    with _at(datetime(2026, 11, 16, 17, 5, tzinfo=_t0().tzinfo)):
        assert _sign_in(user, EMAILS["viewer"], ip="198.51.100.7").status_code == 302
    admin = app.test_client()
    login(admin, "admin")
    text = visible_text(admin.get("/admin/users"))
    assert "2026-11-16 17:05 UTC" in text


def test_the_warnings_poll_past_the_limit_returns_to_the_page_it_was_on(app: Flask) -> None:
    client = app.test_client()
    t0 = _t0()
    with _at(t0):
        login(client, "viewer")
    with _at(t0 + timedelta(minutes=31)):
        response = client.get("/session/status", headers={"Referer": "http://localhost/reports?page=2"})
    assert response.status_code == 401
    login_url = urlsplit(response.get_json()["login_url"])
    assert parse_qs(login_url.query)["next"] == ["/reports?page=2"]


def test_the_account_form_shows_sign_in_facts(app: Flask) -> None:
    user = app.test_client()
    with _at(datetime(2026, 11, 16, 17, 5, tzinfo=_t0().tzinfo)):
        assert _sign_in(user, EMAILS["viewer"], ip="198.51.100.7").status_code == 302
    admin = app.test_client()
    login(admin, "admin")
    viewer = user_by_email(EMAILS["viewer"])
    viewer.must_change_password = True
    db.session.commit()
    text = visible_text(admin.get(f"/admin/users/{viewer.id}/edit"))
    assert "Last sign-in: 2026-11-16 17:05 UTC from 198.51.100.7" in text
    assert "The password is temporary: it must be changed at the next sign-in." in text
