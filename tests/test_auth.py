"""Sign-in, lockout, rate limit, sessions, passwords and CSRF."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from app.auth.passwords import hash_password, password_problems
from app.extensions import db
from app.models import AuditEvent, User
from tests.conftest import EMAILS, PASSWORD, user_by_email

GENERIC = "The e-mail address or password is not correct, or sign-in is paused."


def _login(client, email: str, password: str, ip: str = "10.0.0.1", **kwargs):
    return client.post(
        "/login",
        data={"email": email, "password": password, **kwargs},
        environ_base={"REMOTE_ADDR": ip},
    )


def _events(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
    )


def test_sign_in_success_is_audited_with_ip(client) -> None:
    response = _login(client, "OIG@Test.Example ", PASSWORD, ip="192.0.2.7")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    event = _events("login")[-1]
    assert event.outcome == "success"
    assert event.actor_label == "oig@test.example"
    assert event.actor_role == "oig"
    assert event.source_ip == "192.0.2.7"
    assert client.get("/reports").status_code == 200


def test_unknown_account_and_wrong_password_look_the_same(client) -> None:
    unknown = _login(client, "nobody@test.example", PASSWORD).get_data(as_text=True)
    wrong = _login(client, EMAILS["oig"], "not the right password at all").get_data(as_text=True)
    assert GENERIC in unknown
    assert GENERIC in wrong
    failures = [e for e in _events("login") if e.outcome == "failure"]
    assert [e.changes["reason"] for e in failures[-2:]] == ["unknown account", "wrong password"]
    assert failures[-2].actor_role == "anonymous"


def test_disabled_account_cannot_sign_in(client) -> None:
    user = user_by_email(EMAILS["viewer"])
    user.active = False
    db.session.commit()
    assert GENERIC in _login(client, EMAILS["viewer"], PASSWORD).get_data(as_text=True)


def test_rate_limit_per_account_and_ip(client) -> None:
    for _ in range(5):
        assert _login(client, EMAILS["oig"], "wrong password, attempt").status_code == 200
    response = _login(client, EMAILS["oig"], PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.get_data(as_text=True)
    # another account from the same address is not blocked by this one's limit
    assert _login(client, EMAILS["viewer"], PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/reports?q=OIG", "/reports?q=OIG"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_next_redirects_only_within_the_site(client, next_url: str, expected: str) -> None:
    response = _login(client, EMAILS["oig"], PASSWORD, next=next_url)
    assert response.headers["Location"] == expected


def test_login_page_carries_next_from_query(client) -> None:
    assert 'value="/reports"' in client.get("/login?next=/reports").get_data(as_text=True)
    assert "evil" not in client.get("/login?next=https://evil.example").get_data(as_text=True)


def test_logout_makes_the_old_cookie_useless(app: Flask, client) -> None:
    _login(client, EMAILS["oig"], PASSWORD)
    stolen = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    assert client.post("/logout").status_code == 302
    assert _events("logout")[-1].actor_label == EMAILS["oig"]
    replay = app.test_client()
    replay.set_cookie(app.config["SESSION_COOKIE_NAME"], stolen)
    response = replay.get("/account/password")  # a page no anonymous visitor reaches
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_session_cookie_flags(app: Flask, client) -> None:
    response = _login(client, EMAILS["oig"], PASSWORD)
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("rectrack_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_passwords_are_argon2id_with_required_cost() -> None:
    stored = user_by_email(EMAILS["oig"]).password_hash
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert hash_password("x" * 20) != hash_password("x" * 20)  # salted


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("a" * 14, False),
        ("b" * 15, False),
        ("fifteen chars!!", True),
        ("violet harbour lantern parade with a rather long tail of words", True),
        ("quartz ferry " * 9 + "lantern", True),  # 124 characters: judged in pieces
        ("iloveyou" * 16, False),  # 128 characters, all repeats
        ("z" * 129, False),
    ],
)
def test_password_rules(password: str, ok: bool) -> None:
    assert (password_problems(password) == []) is ok


def test_change_password(client) -> None:
    _login(client, EMAILS["viewer"], PASSWORD)
    other = client.application.test_client()
    _login(other, EMAILS["viewer"], PASSWORD, ip="10.0.0.2")

    page = client.post(
        "/account/password", data={"current_password": "wrong", "password": "a" * 20, "confirm": "a" * 20}
    ).get_data(as_text=True)
    assert "Your current password is not correct." in page
    page = client.post(
        "/account/password", data={"current_password": PASSWORD, "password": "short", "confirm": "short"}
    ).get_data(as_text=True)
    assert "Use at least 15 characters." in page

    new = "a much longer passphrase for tests"
    response = client.post(
        "/account/password", data={"current_password": PASSWORD, "password": new, "confirm": new}
    )
    assert response.status_code == 302
    assert client.get("/account/password").status_code == 200  # this browser stays signed in
    assert other.get("/account/password").status_code == 302  # every other session ends
    event = db.session.scalar(
        sa.select(AuditEvent)
        .where(AuditEvent.object_type == "users", AuditEvent.action == "update")
        .order_by(AuditEvent.id.desc())
    )
    assert event.changes == {"password_hash": ["[redacted]", "[redacted]"]}


def test_csrf_is_enforced_when_enabled(app: Flask, client) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = _login(client, EMAILS["oig"], PASSWORD)
        assert response.status_code == 400
        assert "The form expired" in response.get_data(as_text=True)
        page = client.get("/login").get_data(as_text=True)
        assert 'name="csrf_token"' in page
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_emails_are_unique_regardless_of_case() -> None:
    db.session.add(User(email="OIG@test.example".lower(), display_name="x", role="oig", password_hash="x"))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
