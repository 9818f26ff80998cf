"""Login abuse: password spraying, attacker-triggered lockout, the rate-limit store going
away, common passwords, and passwords typed into the e-mail field.

The numbers are the documented defaults (README, "Security notes"): 10 failed sign-ins per
address per 15 minutes whatever the account; 5 per address and account; 10 per account from
addresses the account has not signed in from; 100 consecutive failures per account at most.
"""

from __future__ import annotations

import json
import logging
import socket
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask
from limits import parse
from limits.errors import StorageError
from limits.storage import MemoryStorage

from app import clock, create_app
from app.auth.throttle import RECHECK_AFTER, FallbackStore
from app.extensions import db
from app.models import AuditEvent, User
from config import TestingConfig
from tests.conftest import EMAILS, PASSWORD, login, user_by_email

GENERIC = "The e-mail address or password is not correct, or sign-in is paused."
WRONG = "Autumn leaves 2026 falling"  # a wrong password for every account
WINDOW = timedelta(minutes=15)


def _login(client, email: str, password: str, ip: str):
    return client.post(
        "/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": ip}
    )


def _login_events() -> list[AuditEvent]:
    return list(
        db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "login").order_by(AuditEvent.id))
    )


def _later(delta: timedelta) -> time_machine.travel:
    return time_machine.travel(clock.now() + delta, tick=True)


# --- password spraying: one address, many accounts -------------------------------------


def test_one_address_trying_twenty_accounts_is_throttled(client) -> None:
    accounts = [*EMAILS.values(), *(f"staff{i}@test.example" for i in range(15))]
    assert len(accounts) == 20
    codes = [_login(client, email, WRONG, "203.0.113.5").status_code for email in accounts]
    assert codes == [200] * 10 + [429] * 10
    # a sprayer who hits the right password while throttled learns nothing from it
    assert _login(client, EMAILS["viewer"], PASSWORD, "203.0.113.5").status_code == 429
    # other addresses are not affected
    assert _login(client, EMAILS["viewer"], PASSWORD, "203.0.113.6").status_code == 302


def test_the_address_limit_is_a_moving_fifteen_minute_window(client) -> None:
    for i in range(10):
        _login(client, f"staff{i}@test.example", WRONG, "203.0.113.5")
    with _later(WINDOW - timedelta(seconds=30)):
        assert _login(client, EMAILS["viewer"], PASSWORD, "203.0.113.5").status_code == 429
    with _later(WINDOW + timedelta(seconds=30)):
        assert _login(client, EMAILS["viewer"], PASSWORD, "203.0.113.5").status_code == 302


def test_ipv6_addresses_of_one_slash_64_count_as_one_source(client) -> None:
    for i in range(10):
        _login(client, f"staff{i}@test.example", WRONG, f"2001:db8:1:2::{i + 1:x}")
    assert _login(client, EMAILS["viewer"], PASSWORD, "2001:db8:1:2::ff").status_code == 429
    assert _login(client, EMAILS["viewer"], PASSWORD, "2001:db8:1:3::1").status_code == 302


def test_refused_attempts_are_audited(client) -> None:
    for _ in range(5):
        assert _login(client, EMAILS["oig"], WRONG, "198.51.100.4").status_code == 200
    response = _login(client, EMAILS["oig"], PASSWORD, "198.51.100.4")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Too many failed sign-in attempts" in response.get_data(as_text=True)
    event = _login_events()[-1]
    assert event.outcome == "denied"
    assert event.source_ip == "198.51.100.4"
    assert event.changes["email"] == EMAILS["oig"]
    assert event.changes["reason"] == "throttled: too many failures from this address for this account"
    # a refused attempt does not count as another failure
    assert user_by_email(EMAILS["oig"]).failed_login_count == 5


# --- the account holder is not locked out by someone else -------------------------------


def _sign_in_and_out(client, email: str, ip: str) -> None:
    assert _login(client, email, PASSWORD, ip).status_code == 302
    assert client.post("/logout", environ_base={"REMOTE_ADDR": ip}).status_code == 302


def _hammer(app: Flask, email: str, attempts: int) -> list[int]:
    """Failed sign-ins, two from each of a run of fresh addresses, in a browser with no cookies."""
    attacker = app.test_client()
    return [_login(attacker, email, WRONG, f"198.51.100.{1 + i // 2}").status_code for i in range(attempts)]


def test_owner_keeps_signing_in_while_other_addresses_hammer_the_account(app: Flask, client) -> None:
    admin = EMAILS["admin"]
    _sign_in_and_out(client, admin, "192.0.2.10")  # the owner's browser and office address

    assert _hammer(app, admin, 10) == [200] * 10  # five addresses, two failures each
    # an eleventh address is refused, even with the right password
    stranger = app.test_client()
    assert _login(stranger, admin, PASSWORD, "198.51.100.99").status_code == 429

    # the owner: their browser, from their usual address and from a hotel
    assert _login(client, admin, PASSWORD, "192.0.2.10").status_code == 302
    client.post("/logout", environ_base={"REMOTE_ADDR": "192.0.2.10"})
    assert _login(client, admin, PASSWORD, "192.0.2.200").status_code == 302
    # a new browser at the office address the owner signed in from
    assert _login(app.test_client(), admin, PASSWORD, "192.0.2.10").status_code == 302


def test_an_unknown_address_may_try_again_after_the_window(app: Flask) -> None:
    _hammer(app, EMAILS["fema"], 10)
    stranger = app.test_client()
    with _later(WINDOW - timedelta(seconds=30)):
        assert _login(stranger, EMAILS["fema"], PASSWORD, "203.0.113.77").status_code == 429
    with _later(WINDOW + timedelta(seconds=30)):
        assert _login(stranger, EMAILS["fema"], PASSWORD, "203.0.113.77").status_code == 302


@pytest.mark.parametrize(
    ("since", "expected"),
    [(timedelta(days=30) - timedelta(minutes=1), 302), (timedelta(days=30) + timedelta(minutes=1), 429)],
)
def test_a_sign_in_address_stays_known_for_thirty_days(app: Flask, since: timedelta, expected: int) -> None:
    email = EMAILS["liaison"]
    _sign_in_and_out(app.test_client(), email, "192.0.2.20")
    with _later(since):
        _hammer(app, email, 10)
        # a new browser at the address the owner signed in from
        assert _login(app.test_client(), email, PASSWORD, "192.0.2.20").status_code == expected


def test_a_forged_device_cookie_is_ignored(app: Flask) -> None:
    email = EMAILS["viewer"]
    _hammer(app, email, 10)
    forger = app.test_client()
    forger.set_cookie("rectrack_device", f"[{user_by_email(email).id}]", path="/login")
    assert _login(forger, email, PASSWORD, "203.0.113.80").status_code == 429


def test_at_most_one_hundred_consecutive_failures_from_unknown_sources(app: Flask, client) -> None:
    email = EMAILS["oig"]
    _sign_in_and_out(client, email, "192.0.2.30")
    user = user_by_email(email)
    user.failed_login_count = 98
    db.session.commit()

    # the 99th and 100th failures are still checked (a wrong password, not a refusal)
    assert _login(app.test_client(), email, WRONG, "198.51.100.1").status_code == 200
    assert _login(app.test_client(), email, WRONG, "198.51.100.2").status_code == 200
    assert user_by_email(email).failed_login_count == 100
    # from then on an unknown source is refused, also long after every window
    with _later(timedelta(days=2)):
        assert _login(app.test_client(), email, PASSWORD, "203.0.113.90").status_code == 429
        # the owner's browser still signs in, and that ends the run of failures
        assert _login(client, email, PASSWORD, "192.0.2.31").status_code == 302
        assert user_by_email(email).failed_login_count == 0
        assert _login(app.test_client(), email, PASSWORD, "203.0.113.90").status_code == 302


def test_an_admin_password_reset_ends_the_run_of_failures(app: Flask) -> None:
    user = user_by_email(EMAILS["viewer"])
    user_id = user.id
    user.failed_login_count = 100
    db.session.commit()
    admin = app.test_client()
    login(admin, "admin")
    new = "violet harbour lantern parade"
    response = admin.post(f"/admin/users/{user_id}/password", data={"password": new, "confirm": new})
    assert response.status_code == 302
    assert user_by_email(EMAILS["viewer"]).failed_login_count == 0
    assert _login(app.test_client(), EMAILS["viewer"], new, "203.0.113.91").status_code == 302


# --- the rate-limit store going away -----------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def app_without_redis(database_url: str) -> Flask:
    config = TestingConfig(database_url)
    config.RATELIMIT_STORAGE_URI = f"redis://127.0.0.1:{_closed_port()}/0"
    config.PROPAGATE_EXCEPTIONS = False  # a 500 is a response here, not an exception
    return create_app(config)


def test_sign_in_works_when_the_rate_limit_store_is_unreachable(
    app_without_redis: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    client = app_without_redis.test_client()
    with caplog.at_level(logging.WARNING):
        assert _login(client, EMAILS["viewer"], PASSWORD, "192.0.2.40").status_code == 302
    assert "unreachable" in caplog.text
    assert "in-memory" in caplog.text

    # limits still hold, counted in memory
    other = app_without_redis.test_client()
    codes = [_login(other, EMAILS["oig"], WRONG, "192.0.2.41").status_code for _ in range(5)]
    assert codes == [200] * 5
    assert _login(other, EMAILS["oig"], PASSWORD, "192.0.2.41").status_code == 429
    assert _login(other, EMAILS["liaison"], PASSWORD, "192.0.2.41").status_code == 302


# --- common and breached passwords ---------------------------------------------------------

COMMON = ("passwordpassword", "123456789012345", "qwertyuiopasdfgh", "P@ssw0rdP@ssw0rd", "Welcome12345678")
COMMON_MESSAGE = "This password is on a list of common or breached passwords, or is built from one"


@pytest.mark.parametrize("password", COMMON)
def test_admin_cannot_create_an_account_with_a_common_password(as_role, password: str) -> None:
    client = as_role("admin")
    page = client.post(
        "/admin/users/new",
        data={"email": "new@test.example", "display_name": "New", "role": "viewer", "password": password},
    ).get_data(as_text=True)
    assert COMMON_MESSAGE in page
    assert db.session.scalar(sa.select(User).where(User.email == "new@test.example")) is None


@pytest.mark.parametrize("password", COMMON)
def test_admin_cannot_reset_to_a_common_password(as_role, password: str) -> None:
    client = as_role("admin")
    viewer = user_by_email(EMAILS["viewer"])
    before = viewer.password_hash
    page = client.post(
        f"/admin/users/{viewer.id}/password", data={"password": password, "confirm": password}
    ).get_data(as_text=True)
    assert COMMON_MESSAGE in page
    assert user_by_email(EMAILS["viewer"]).password_hash == before


@pytest.mark.parametrize("password", COMMON)
def test_nobody_can_change_to_a_common_password(as_role, password: str) -> None:
    client = as_role("viewer")
    before = user_by_email(EMAILS["viewer"]).password_hash
    page = client.post(
        "/account/password", data={"current_password": PASSWORD, "password": password, "confirm": password}
    ).get_data(as_text=True)
    assert COMMON_MESSAGE in page
    assert user_by_email(EMAILS["viewer"]).password_hash == before


@pytest.mark.parametrize("password", COMMON)
def test_users_create_refuses_a_common_password(app: Flask, password: str) -> None:
    result = app.test_cli_runner().invoke(
        args=["users", "create", "x@agency.example", "--name", "X", "--role", "viewer"], input=f"{password}\n"
    )
    assert result.exit_code != 0
    assert COMMON_MESSAGE in result.output


def test_a_password_made_of_the_email_address_is_refused(as_role) -> None:
    client = as_role("admin")
    page = client.post(
        "/admin/users/new",
        data={
            "email": "quillon.brackwater@test.example",
            "display_name": "Quillon Brackwater",
            "role": "viewer",
            "password": "quillonbrackwater2026",
        },
    ).get_data(as_text=True)
    assert COMMON_MESSAGE in page


@pytest.mark.parametrize("password", ["violet harbour lantern parade", "fifteen chars!!", "x7Kp2mQw9Lr4Vn8"])
def test_uncommon_passwords_are_accepted(as_role, password: str) -> None:
    client = as_role("admin")
    response = client.post(
        "/admin/users/new",
        data={"email": "new@test.example", "display_name": "New", "role": "viewer", "password": password},
    )
    assert response.status_code == 302
    assert db.session.scalar(sa.select(User).where(User.email == "new@test.example")) is not None


# --- a password typed into the e-mail field ------------------------------------------------


def test_a_password_typed_into_the_email_field_is_not_stored(
    client, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "Blue-Heron-Tuesday-4417"
    with caplog.at_level(logging.DEBUG):
        assert GENERIC in _login(client, secret, secret, "192.0.2.50").get_data(as_text=True)
    event = _login_events()[-1]
    assert event.outcome == "failure"
    assert event.changes == {"email": "(not an e-mail address)", "reason": "unknown account"}
    every_event = db.session.scalars(sa.select(AuditEvent)).all()
    stored = json.dumps([[e.actor_label, e.changes, e.object_type] for e in every_event]).lower()
    assert secret.lower() not in stored
    assert secret.lower() not in caplog.text.lower()


def test_an_email_shaped_entry_is_recorded_as_typed(client) -> None:
    _login(client, "Nobody@Test.Example", WRONG, "192.0.2.51")
    assert _login_events()[-1].changes == {"email": "nobody@test.example", "reason": "unknown account"}


class _FlakyStorage(MemoryStorage):
    """A store that can be switched off, as Redis can."""

    down = False

    def _check_up(self) -> None:
        if self.down:
            raise StorageError(ConnectionError("connection refused"))

    def acquire_entry(self, *args, **kwargs):
        self._check_up()
        return super().acquire_entry(*args, **kwargs)

    def get_moving_window(self, *args, **kwargs):
        self._check_up()
        return super().get_moving_window(*args, **kwargs)


def test_the_store_is_tried_again_and_used_once_it_answers(caplog: pytest.LogCaptureFixture) -> None:
    flaky = _FlakyStorage()
    store = FallbackStore("redis://counters.example:6379/0", storage=flaky)
    item = parse("3 per 15 minutes")

    flaky.down = True
    with caplog.at_level(logging.WARNING):
        assert store.run(lambda limiter: limiter.hit(item, "k"))
    assert store.in_memory
    assert "redis://counters.example:6379/0 is unreachable" in caplog.text

    flaky.down = False
    with _later(RECHECK_AFTER - timedelta(seconds=5)):
        store.run(lambda limiter: limiter.hit(item, "k"))
        assert flaky.get_moving_window(item.key_for("k"), 3, 900)[1] == 0  # not tried yet
    with _later(RECHECK_AFTER + timedelta(seconds=5)), caplog.at_level(logging.WARNING):
        store.run(lambda limiter: limiter.hit(item, "k"))
        assert not store.in_memory
        assert flaky.get_moving_window(item.key_for("k"), 3, 900)[1] == 1
    assert "answers again" in caplog.text


def test_the_store_address_is_logged_without_its_password(caplog: pytest.LogCaptureFixture) -> None:
    flaky = _FlakyStorage()
    flaky.down = True
    store = FallbackStore("redis://:s3cret-pw@counters.example:6379/0", storage=flaky)
    with caplog.at_level(logging.WARNING):
        store.run(lambda limiter: limiter.hit(parse("3 per minute"), "k"))
    assert "redis://counters.example:6379/0" in caplog.text
    assert "s3cret-pw" not in caplog.text


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("LOGIN_LIMIT_PER_ADDRESS", "lots", "LOGIN_LIMIT_PER_ADDRESS must be a rate"),
        ("LOGIN_MAX_CONSECUTIVE_FAILURES", 101, "from 1 to 100"),
        ("LOGIN_MAX_CONSECUTIVE_FAILURES", 0, "from 1 to 100"),
    ],
)
def test_bad_throttle_settings_stop_the_app_at_start(
    database_url: str, setting: str, value: object, message: str
) -> None:
    config = TestingConfig(database_url)
    setattr(config, setting, value)
    with pytest.raises(RuntimeError, match=message):
        create_app(config)
