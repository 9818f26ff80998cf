"""Dormant accounts (issue 17; README, "Dormant accounts"; NIST SP 800-53 AC-2(3)): the
scheduler warns an account unused for 76 days (90 - 14) once, and disables one unused for
90 days; an administrator re-enables it and the count starts again.

The rule counts whole 24-hour days from the last use (the latest of the last sign-in, the
re-enabling and the creation). The numbers are the defaults, written out:
ACCOUNT_DORMANT_DAYS 90, ACCOUNT_DORMANT_WARNING_DAYS 14."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask

from app import audit, clock
from app.auth import dormancy
from app.auth import services as accounts
from app.auth.tasks import sweep_dormant
from app.extensions import db
from app.models import AuditEvent, OutboxMessage, Role, User
from tests.conftest import EMAILS, PASSWORD, login, submit, user_by_email, visible_text
from tests.mailserver import MailServer, text_of

EMAIL = "quiet.user@test.example"
DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def the_app(app: Flask) -> Iterator[None]:
    """The app the sweeps run in (each in an app context of its own: one held across
    the test would share flask.g, and so the signed-in user, between requests)."""
    _apps.append(app)
    yield
    _apps.remove(app)


_apps: list[Flask] = []


def _t0() -> datetime:
    return clock.now().replace(microsecond=0)


def _quiet_user(created_at: datetime, last_login_at: datetime | None = None) -> int:
    audit.set_actor(db.session, audit.AuditActor.system("tests"))
    user = accounts.create_user(
        db.session, email=EMAIL, display_name="Quiet User", role=Role.VIEWER, password=PASSWORD
    )
    user.created_at = created_at
    user.last_login_at = last_login_at
    db.session.commit()
    return user.id


def _sweep(now: datetime) -> dormancy.Swept:
    with _apps[-1].app_context():
        audit.set_actor(db.session, dormancy.ACTOR)
        swept = dormancy.sweep(
            db.session,
            now=now,
            days=90,
            warning_days=14,
            login_url="http://rectrack.test/login",
            tz="America/New_York",
        )
        db.session.commit()
    return swept


def _user(user_id: int) -> User:
    db.session.expire_all()
    user = db.session.get(User, user_id)
    assert user is not None
    return user


def _events(action: str, user_id: int) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.action == action, AuditEvent.object_id == user_id)
            .order_by(AuditEvent.id)
        )
    )


def _warnings(user_id: int) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            sa.select(OutboxMessage).where(
                OutboxMessage.kind == "dormancy_warning", OutboxMessage.user_id == user_id
            )
        )
    )


@pytest.mark.parametrize(
    ("age", "warned"),
    [(75 * DAY, False), (76 * DAY - timedelta(seconds=1), False), (76 * DAY, True), (77 * DAY, True)],
    ids=["day 75", "day 76 less a second", "day 76", "day 77"],
)
def test_the_warning_comes_fourteen_days_before(age: timedelta, warned: bool) -> None:
    t0 = _t0()
    user_id = _quiet_user(created_at=t0)  # never signed in: counts from its creation
    _sweep(t0 + age)
    assert len(_warnings(user_id)) == (1 if warned else 0)
    assert len(_events("dormant account warned", user_id)) == (1 if warned else 0)
    assert _user(user_id).active is True


def test_the_warning_is_sent_once_per_dormancy_period() -> None:
    t0 = _t0()
    user_id = _quiet_user(created_at=t0)
    for day in (76, 77, 80, 89):
        _sweep(t0 + day * DAY)
    assert len(_warnings(user_id)) == 1
    assert len(_events("dormant account warned", user_id)) == 1
    # a sign-in starts a new period: a new warning 76 days after it
    user = _user(user_id)
    user.last_login_at = t0 + 89 * DAY
    db.session.commit()
    _sweep(t0 + (89 + 75) * DAY)
    assert len(_warnings(user_id)) == 1
    _sweep(t0 + (89 + 76) * DAY)
    assert len(_warnings(user_id)) == 2


@pytest.mark.parametrize(("days", "disabled"), [(89, False), (90, True), (91, True)])
def test_the_account_is_disabled_after_ninety_days(days: int, disabled: bool) -> None:
    t0 = _t0()
    user_id = _quiet_user(created_at=t0 - 400 * DAY, last_login_at=t0)  # counts from the sign-in
    version = _user(user_id).session_version
    swept = _sweep(t0 + days * DAY)
    user = _user(user_id)
    assert user.active is not disabled
    assert (user.session_version == version + 1) is disabled  # signed out everywhere
    events = _events("account disabled: dormant", user_id)
    assert len(events) == (1 if disabled else 0)
    if disabled:
        assert events[0].changes == {"last_used": t0.isoformat(), "days": 90}
        assert events[0].actor_label == "dormant accounts"
        assert swept.disabled >= 1


def test_a_disabled_account_cannot_sign_in_and_an_admin_re_enables_it(app: Flask) -> None:
    t0 = _t0()
    user_id = _quiet_user(created_at=t0 - 200 * DAY, last_login_at=t0 - 95 * DAY)
    _sweep(t0)
    assert _user(user_id).active is False
    client = app.test_client()
    assert client.post("/login", data={"email": EMAIL, "password": PASSWORD}).status_code == 200

    admin = app.test_client()
    login(admin, "admin")
    t1 = t0 + timedelta(minutes=1)  # forward only: a cookie signed later reads as forged
    with time_machine.travel(t1, tick=False):
        response = submit(
            admin,
            f"/admin/users/{user_id}/edit",
            {"display_name": "Quiet User", "role": "viewer", "active": "y"},
        )
    assert response.status_code == 302, visible_text(response)[-400:]
    assert response.headers["Location"] == "/admin/users"
    user = _user(user_id)
    assert user.active is True
    assert user.enabled_at == t1
    [enabled] = [e for e in _events("update", user_id) if "enabled_at" in e.changes]
    assert enabled.actor_label == EMAILS["admin"]
    # re-enabling restarts the count: not disabled the next night, nor 89 days later
    _sweep(t1 + DAY)
    _sweep(t1 + 89 * DAY)
    assert _user(user_id).active is True
    _sweep(t1 + 90 * DAY)
    assert _user(user_id).active is False
    assert client.post("/login", data={"email": EMAIL, "password": PASSWORD}).status_code == 200


def test_active_accounts_are_left_alone() -> None:
    t0 = _t0()
    user_id = _quiet_user(created_at=t0 - 365 * DAY, last_login_at=t0 - 10 * DAY)
    _sweep(t0)
    assert _user(user_id).active is True
    assert _warnings(user_id) == []


def test_the_scheduled_task_warns_by_mail_through_the_smtp_server(app: Flask, smtp: MailServer) -> None:
    t0 = _t0()
    user_id = _quiet_user(created_at=t0)
    with time_machine.travel(t0 + 76 * DAY, tick=False), app.app_context():
        # the task's body (the task object runs in whichever app made Celery last)
        swept = sweep_dormant()
    assert swept.warned >= 1
    [message] = smtp.to(EMAIL)
    assert message["Subject"] == "Your RecTrack account will be disabled if it stays unused"
    disable_on = (t0 + 90 * DAY).astimezone(ZoneInfo("America/New_York"))
    assert text_of(message).replace("\r\n", "\n").strip() == (
        "Your RecTrack account has not been used for a while. Unless you sign in, it will be "
        f"disabled on {disable_on:%B} {disable_on.day}, {disable_on.year}; an administrator can "
        "enable it again.\n\nhttp://rectrack.test/login"
    )
    assert len(_events("dormant account warned", user_id)) == 1


def test_a_sign_in_records_the_time_the_count_starts_from(app: Flask) -> None:
    client = app.test_client()
    t0 = _t0()
    with time_machine.travel(t0, tick=False):
        assert (
            client.post("/login", data={"email": EMAILS["viewer"], "password": PASSWORD}).status_code == 302
        )
    viewer = user_by_email(EMAILS["viewer"])
    assert dormancy.last_used(viewer) == t0


def test_beat_runs_the_sweep_daily(app: Flask) -> None:
    schedule = app.extensions["celery"].conf.beat_schedule["accounts-dormant"]
    assert schedule["task"] == "rectrack.accounts_dormant"
    assert schedule["schedule"].hour == {3}
    assert schedule["schedule"].minute == {30}
    assert "rectrack.accounts_dormant" in app.extensions["celery"].tasks


def test_the_command_runs_the_sweep_now(app: Flask) -> None:
    t0 = _t0()
    user_id = _quiet_user(created_at=t0 - 100 * DAY)
    result = app.test_cli_runner().invoke(args=["users", "dormant"])
    assert result.exit_code == 0, result.output
    assert "disabled" in result.output
    assert _user(user_id).active is False
