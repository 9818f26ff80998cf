"""Password reset by e-mail (issue 17; README, "Password reset"): through a real SMTP
server (aiosmtpd on 127.0.0.1), a single-use link that works for 60 minutes, the same
answer for any address, throttled per typed address and per source, every session ended.

The numbers are the defaults, written out: PASSWORD_RESET_MINUTES 60,
PASSWORD_RESET_LIMIT_PER_EMAIL "3 per hour", PASSWORD_RESET_LIMIT_PER_ADDRESS "10 per hour".
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from app import audit, clock
from app.extensions import db
from app.mail import delivery
from app.models import AuditEvent, OutboxMessage, PasswordResetToken
from tests.conftest import EMAILS, PASSWORD, login, user_by_email, visible_text
from tests.mailserver import MailServer, html_of, text_of

NEW_PASSWORD = "violet harbour quantum lantern 42"
SENT = (
    "If an active RecTrack account uses that address, we have sent it a link to choose a new "
    "password. The link works once, for 60 minutes. It can take a few minutes to arrive."
)
LINK = re.compile(r"http://rectrack\.test/password/reset/([A-Za-z0-9_-]+)")


def _at(instant: datetime) -> time_machine.travel:
    return time_machine.travel(instant, tick=False)


def _ask(client: FlaskClient, email: str, ip: str = "10.0.0.1"):
    return client.post("/password/forgot", data={"email": email}, environ_base={"REMOTE_ADDR": ip})


def _deliver(app: Flask) -> None:
    with app.app_context():
        audit.set_actor(db.session, delivery.ACTOR)
        delivery.deliver_due(db.session)


def _events(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
    )


def _sign_in(client: FlaskClient, email: str, password: str):
    return client.post("/login", data={"email": email, "password": password})


def _link_from(smtp: MailServer, email: str) -> tuple[str, str]:
    [message] = smtp.to(email)
    match = LINK.search(text_of(message))
    assert match is not None
    return match.group(0), match.group(1)


def test_reset_through_the_mail_server_end_to_end(app: Flask, smtp: MailServer) -> None:
    email = EMAILS["viewer"]
    signed_in = app.test_client()  # a session of the account elsewhere
    login(signed_in, "viewer")
    user = user_by_email(email)
    user.failed_login_count = 7
    db.session.commit()

    visitor = app.test_client()
    assert "Forgot your password?" in visible_text(visitor.get("/login"))
    response = _ask(visitor, email)
    assert response.status_code == 200
    assert SENT in visible_text(response)
    _deliver(app)

    url, token = _link_from(smtp, email)
    [message] = smtp.to(email)
    assert message["Subject"] == "Reset your RecTrack password"
    # the message holds the link and fixed words, nothing else
    assert text_of(message).replace("\r\n", "\n").strip() == (
        "Someone asked to reset the password of your RecTrack account. To choose a new password, "
        "open this link within 60 minutes. It works once.\n\n"
        f"{url}\n\n"
        "If you did not ask, ignore this message: your password stays as it is."
    )
    assert f'<a href="{url}">Choose a new password</a>' in html_of(message)

    # only a hash is stored; once sent, the outbox keeps no copy of the link either
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PasswordResetToken)) == 1
    stored = db.session.scalar(sa.select(PasswordResetToken))
    assert token not in (stored.token_hash,)
    row = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.kind == "password_reset"))
    assert token not in row.body_text + row.body_html

    page = visitor.get(url.removeprefix("http://rectrack.test"))
    assert page.status_code == 200
    assert "Choose a new password" in visible_text(page)
    done = visitor.post(
        url.removeprefix("http://rectrack.test"), data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert done.status_code == 302
    assert done.headers["Location"] == "/login"

    # every session of the account ended; the failure run is forgotten
    assert signed_in.get("/account/password").status_code == 302
    user = user_by_email(email)
    assert user.failed_login_count == 0
    user_id = user.id
    assert _sign_in(app.test_client(), email, PASSWORD).status_code == 200  # the old one no longer
    assert _sign_in(app.test_client(), email, NEW_PASSWORD).status_code == 302

    # the link works once
    again = visitor.get(url.removeprefix("http://rectrack.test"))
    assert again.status_code == 410
    assert "it has expired or was already used" in visible_text(again)
    refused = visitor.post(
        url.removeprefix("http://rectrack.test"), data={"password": "x" * 20, "confirm": "x" * 20}
    )
    assert refused.status_code == 410
    assert _sign_in(app.test_client(), email, NEW_PASSWORD).status_code == 302

    # audited, with no token anywhere in the trail
    [requested] = _events("password reset requested")
    assert requested.changes["known"] is True
    assert requested.object_id == user_id
    [completed] = _events("password reset")
    assert completed.actor_label == email
    assert [e.changes["reason"] for e in _events("password reset refused")] == ["link already used"] * 2
    trail = json.dumps([e.changes for e in db.session.scalars(sa.select(AuditEvent))], default=str)
    assert token not in trail
    assert stored.token_hash not in trail


def _page_text(response) -> str:
    """The page as sent, without the CSRF token (random per session)."""
    return re.sub(r'name="csrf_token"[^>]*value="[^"]*"', "", response.get_data(as_text=True))


def test_the_request_page_reads_the_same_for_known_unknown_and_disabled_addresses(app: Flask) -> None:
    disabled = user_by_email(EMAILS["oig"])
    disabled.active = False
    audit.set_actor(db.session, audit.AuditActor.system("tests"))
    db.session.commit()
    answers = {}
    for email in (EMAILS["viewer"], "nobody@test.example", EMAILS["oig"]):
        response = _ask(app.test_client(), email)
        answers[email] = (response.status_code, _page_text(response))
    known = answers[EMAILS["viewer"]]
    assert known[0] == 200
    assert SENT in known[1]
    assert answers["nobody@test.example"] == known
    assert answers[EMAILS["oig"]] == known
    # only the known, active address got a link; the trail says which was which
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PasswordResetToken)) == 1
    events = _events("password reset requested")
    assert [(e.changes["known"], e.outcome) for e in events] == [
        (True, "success"),
        (False, "denied"),
        (False, "denied"),
    ]
    assert events[1].changes["reason"] == "unknown account"
    assert events[1].changes["email"] == "nobody@test.example"
    assert events[2].changes["reason"] == "account disabled"


def _new_link(app: Flask, email: str, when: datetime) -> str:
    """A reset link asked for at `when`; its path."""
    with _at(when):
        assert _ask(app.test_client(), email).status_code == 200
    row = db.session.scalar(
        sa.select(OutboxMessage)
        .where(OutboxMessage.kind == "password_reset")
        .order_by(OutboxMessage.id.desc())
    )
    match = LINK.search(row.body_text)
    assert match is not None
    return match.group(0).removeprefix("http://rectrack.test")


@pytest.mark.parametrize(
    ("age", "usable"),
    [
        (timedelta(minutes=59, seconds=59), True),
        (timedelta(minutes=60), True),
        (timedelta(minutes=60, seconds=1), False),
    ],
    ids=["59:59", "60:00", "60:01"],
)
def test_a_link_works_for_sixty_minutes(app: Flask, age: timedelta, usable: bool) -> None:
    t0 = clock.now().replace(microsecond=0)
    path = _new_link(app, EMAILS["fema"], t0)
    client = app.test_client()
    with _at(t0 + age):
        page = client.get(path)
        assert page.status_code == (200 if usable else 410)
        done = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == (302 if usable else 410)
    with _at(t0 + age):
        assert (_sign_in(app.test_client(), EMAILS["fema"], NEW_PASSWORD).status_code == 302) is usable
    if not usable:
        reasons = [e.changes["reason"] for e in _events("password reset refused")]
        assert reasons == ["link expired", "link expired"]


def test_a_new_password_follows_the_rules_and_a_refused_one_spends_nothing(app: Flask) -> None:
    path = _new_link(app, EMAILS["viewer"], clock.now())
    client = app.test_client()
    short = client.post(path, data={"password": "too short", "confirm": "too short"})
    assert short.status_code == 200  # the form again, the message at the field
    assert "Use at least 15 characters." in visible_text(short)
    mismatch = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "!"})
    assert "The two passwords do not match." in visible_text(mismatch)
    assert client.get(path).status_code == 200  # still usable
    assert client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302


def test_using_one_link_spends_the_others(app: Flask) -> None:
    first = _new_link(app, EMAILS["viewer"], clock.now())
    second = _new_link(app, EMAILS["viewer"], clock.now())
    client = app.test_client()
    assert client.post(second, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert client.get(first).status_code == 410


def test_an_unknown_link_is_refused_and_audited(client: FlaskClient) -> None:
    response = client.get("/password/reset/not-a-link")
    assert response.status_code == 410
    [event] = _events("password reset refused")
    assert event.changes == {"reason": "unknown link"}
    assert event.outcome == "denied"


def test_requests_are_throttled_per_typed_address_whether_or_not_it_exists(app: Flask) -> None:
    for email in (EMAILS["viewer"], "nobody@test.example"):
        codes = [_ask(app.test_client(), email, ip=f"192.0.2.{i + 1}").status_code for i in range(4)]
        assert codes == [200, 200, 200, 429], email
    throttled = _ask(app.test_client(), "nobody@test.example", ip="192.0.2.99")
    assert "Too many requests for a reset link. Try again in" in visible_text(throttled)
    assert int(throttled.headers["Retry-After"]) > 0
    # three links for the known address, none for the unknown one
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PasswordResetToken)) == 3


def test_requests_are_throttled_per_source_address(app: Flask) -> None:
    codes = [
        _ask(app.test_client(), f"someone{i}@test.example", ip="198.51.100.3").status_code for i in range(11)
    ]
    assert codes == [200] * 10 + [429]
    assert _ask(app.test_client(), "someone-else@test.example", ip="198.51.100.4").status_code == 200
    # the window moves: an hour later the address may ask again
    with time_machine.travel(clock.now() + timedelta(hours=1, seconds=1), tick=False):
        assert _ask(app.test_client(), "later@test.example", ip="198.51.100.3").status_code == 200


def test_a_signed_in_user_is_sent_to_change_password_instead(client: FlaskClient) -> None:
    login(client, "viewer")
    response = client.get("/password/forgot")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/password"
