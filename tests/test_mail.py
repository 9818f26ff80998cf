"""E-mail (issue 15): digests over a real SMTP server (aiosmtpd on 127.0.0.1), exactly
once per person per day, retries across an outage, permanent failures shown to admins,
preferences, and no restricted text in any message.

Expected contents are written out from the fixtures (tests/conftest.py): the FEMA
liaison's open parts are OIG-12-15 #3 (response due March 5, 2012) and the synthetic
restricted TEST-R-1 #2 (response due April 10, 2023); the I&A liaison's restricted part
is TEST-R-1 #1."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, current_app
from prometheus_client import REGISTRY

from app import clock
from app.auth import services as accounts
from app.extensions import db
from app.mail import delivery, digests, outbox, transport
from app.mail.compose import Links
from app.models import (
    Addressee,
    AuditEvent,
    Component,
    DigestFrequency,
    MailPreference,
    OutboxMessage,
    OutboxState,
    Recommendation,
    Report,
    Role,
)
from tests.conftest import PASSWORD, hidden_fields, login, rec, user_by_email, visible_text
from tests.mailserver import MailServer, html_of, notify, text_of

FEMA = "fema@test.example"
IA = "liaison@test.example"
PREFS_URL = "http://rectrack.test/account/notifications"
MONDAY = date(2026, 11, 16)


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


def all_texts() -> list[str]:
    """Every recommendation, response, plan and OIG note text in the database: none may
    appear in any message (identifiers, statuses, dates and links only)."""
    texts = list(db.session.scalars(sa.select(Recommendation.text)))
    for column in (Addressee.response, Addressee.corrective_action_plan, Addressee.closure_justification):
        texts += db.session.scalars(sa.select(column))
    return [t for t in texts if t and len(t.strip()) >= 12]


# --- the digest over SMTP -------------------------------------------------------------


def test_fema_liaison_digest_lists_fema_due_items_and_nothing_restricted(
    app: Flask, smtp: MailServer
) -> None:
    notify(app, MONDAY)
    [message] = smtp.to(FEMA)
    body = text_of(message)
    html = html_of(message)
    # FEMA's two overdue responses, by identifier, with the due dates the pages show
    assert "OIG-12-15 #3 (FEMA): Response was due March 5, 2012" in body
    assert "TEST-R-1 #2 (FEMA): Response was due April 10, 2023" in body
    fema_rec = rec("OIG-12-15", 3)
    fema_part = next(a for a in fema_rec.addressees if a.component.abbreviation == "FEMA")
    # each item links straight to FEMA's form for it (here: the response)
    respond = f"http://rectrack.test/recommendations/{fema_rec.id}/components/{fema_part.id}/respond"
    assert respond in body
    assert message["Subject"] == "RecTrack digest: 2 overdue"
    # nothing about I&A's restricted recommendation, no text at all
    assert "TEST-R-1 #1" not in body + html
    assert "SYNTHETIC-RESTRICTED" not in body + html
    for text in all_texts():
        assert text not in body
        assert text not in html
    # headers, accessible HTML, the preferences link
    assert message["List-Unsubscribe"] == f"<{PREFS_URL}>"
    assert PREFS_URL in body
    assert f'<a href="{PREFS_URL}">' in html
    assert "<h1>" in html
    assert "<h2>Overdue</h2>" in html
    assert 'lang="en"' in html
    assert "<img" not in html
    assert f'<a href="{respond}">OIG-12-15 #3 (FEMA)</a>' in html


def test_every_message_of_a_run_holds_no_text_and_only_what_its_reader_may_see(
    app: Flask, smtp: MailServer
) -> None:
    notify(app, MONDAY)
    by_recipient = {m["To"]: m for m in smtp.received}
    # liaisons and staff get a digest; the read-only account gets nothing
    assert set(by_recipient) == {"admin@test.example", "oig@test.example", IA, FEMA}
    texts = all_texts()
    for message in smtp.received:
        whole = text_of(message) + html_of(message)
        assert "SYNTHETIC-RESTRICTED" not in whole
        assert not [t for t in texts if t in whole]
    ia = text_of(by_recipient[IA])
    assert "TEST-R-1 #1 (I&A)" in ia
    assert "FEMA" not in ia  # not one of FEMA's parts
    staff = text_of(by_recipient["oig@test.example"])
    assert "RESOLUTIONS PAST 6 MONTHS" in staff


def test_running_the_scheduler_twice_the_same_day_sends_once(app: Flask, smtp: MailServer) -> None:
    notify(app, MONDAY)
    first = len(smtp.received)
    output = notify(app, MONDAY)
    assert "0 digests queued, 4 already queued" in output
    assert len(smtp.received) == first == 4
    assert len(smtp.to(FEMA)) == 1
    # the next day is a new digest
    notify(app, MONDAY + timedelta(days=1))
    assert len(smtp.to(FEMA)) == 2


def test_the_same_key_is_written_once(ctx: None) -> None:
    fema = user_by_email(FEMA)
    values = {
        "key": "digest:test:1",
        "user": fema,
        "kind": "digest",
        "subject": "s",
        "body_text": "t",
        "body_html": "h",
    }
    assert outbox.enqueue(db.session, **values) is True
    assert outbox.enqueue(db.session, **values) is False
    assert db.session.scalar(sa.select(sa.func.count()).where(OutboxMessage.key == "digest:test:1")) == 1


def test_two_workers_never_claim_the_same_row(ctx: None) -> None:
    fema = user_by_email(FEMA)
    outbox.enqueue(db.session, key="k1", user=fema, kind="digest", subject="s", body_text="t", body_html="h")
    now = clock.now()
    first = delivery.claim(db.session, now)
    second = delivery.claim(db.session, now)
    claimed = dict(db.session.execute(sa.select(OutboxMessage.key, OutboxMessage.claimed_by)).all())
    assert claimed["k1"] == first != second
    # a dead worker's claim runs out: a later run may take the row
    third = delivery.claim(db.session, now + delivery.CLAIM_FOR + timedelta(seconds=1))
    assert db.session.scalar(sa.select(OutboxMessage.claimed_by).where(OutboxMessage.key == "k1")) == third


def test_an_smtp_outage_mid_run_delivers_every_message_once(
    app: Flask, smtp: MailServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    notify(app, MONDAY, "--no-send")
    send = transport.SmtpTransport.send
    sent = []

    def send_then_stop_after_two(self: Any, message: Any) -> None:
        send(self, message)
        sent.append(message["To"])
        if len(sent) == 2:
            smtp.stop()  # the server goes away in the middle of the run

    monkeypatch.setattr(transport.SmtpTransport, "send", send_then_stop_after_two)
    with app.app_context():
        done = delivery.deliver_due(db.session)
        assert (done.sent, done.retry_later) == (2, 1)
        states = dict(db.session.execute(sa.select(OutboxMessage.recipient, OutboxMessage.state)).all())
        assert sorted(states.values()).count(OutboxState.PENDING) == 2
        failed_try = db.session.scalar(
            sa.select(OutboxMessage).where(
                OutboxMessage.last_error != "", OutboxMessage.state == OutboxState.PENDING
            )
        )
        assert failed_try is not None
        assert "could not be reached" in failed_try.last_error
        assert failed_try.attempts == 0  # the server was away: not a try of this message
        # nothing is due again before the backoff is over, even with the server back
        smtp.start()
        assert delivery.deliver_due(db.session).sent == 1  # the one never tried
        later = clock.now() + delivery.backoff(1) + timedelta(seconds=1)
        assert delivery.deliver_due(db.session, now=later).sent == 1
        assert delivery.deliver_due(db.session, now=later).sent == 0
        rows = db.session.scalars(sa.select(OutboxMessage)).all()
        assert {r.state for r in rows} == {OutboxState.SENT}
        audited = db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "mail sent"))
        assert audited == 4
    recipients = sorted(m["To"] for m in smtp.received)
    assert recipients == sorted(["admin@test.example", "oig@test.example", IA, FEMA])


def test_a_long_outage_never_gives_up_on_a_message(
    app: Flask, smtp: MailServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 3)
    notify(app, MONDAY, "--no-send")
    smtp.stop()
    with app.app_context():
        now = clock.now()
        for minute in range(10):  # ten runs, a minute apart, more than MAIL_MAX_ATTEMPTS
            done = delivery.deliver_due(db.session, now=now + timedelta(minutes=minute))
            assert (done.sent, done.failed) == (0, 0)
        states = set(db.session.scalars(sa.select(OutboxMessage.state)))
        assert states == {OutboxState.PENDING}
        smtp.start()
        assert delivery.deliver_due(db.session, now=now + timedelta(minutes=11)).sent == 4
        assert delivery.deliver_due(db.session, now=now + timedelta(minutes=12)).sent == 0
    assert sorted(m["To"] for m in smtp.received) == sorted(
        ["admin@test.example", "oig@test.example", IA, FEMA]
    )


def _mail_counter(which: str) -> float:
    value = REGISTRY.get_sample_value(f"rectrack_emails_{which}_total")
    return value or 0.0


def test_a_refused_recipient_is_a_permanent_failure_shown_to_admins(
    app: Flask, smtp: MailServer, client: Any
) -> None:
    smtp.handler.refuse[FEMA] = "550 5.1.1 No such mailbox"
    smtp.handler.refuse[IA] = "451 4.3.0 Try again later"
    sent_before, failed_before = _mail_counter("sent"), _mail_counter("failed")
    output = notify(app, MONDAY)
    assert "Sent 2; to retry later 1; failed 1." in output
    # /metrics counts what the server took and each try it refused, temporary or not
    assert (_mail_counter("sent") - sent_before, _mail_counter("failed") - failed_before) == (2, 2)
    assert smtp.to(FEMA) == []
    assert smtp.to(IA) == []
    failed = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == FEMA))
    assert failed.state == OutboxState.FAILED_PERMANENT
    assert "550" in failed.last_error
    waiting = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == IA))
    assert waiting.state == OutboxState.PENDING
    assert waiting.attempts == 1
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "mail failed"))
    assert event.object_label == FEMA
    assert event.outcome == "failure"
    login(client, "admin")
    page = client.get("/admin/outbox?state=failed_permanent")
    assert page.status_code == 200
    text = visible_text(page)
    assert FEMA in text
    assert "Failed: will not be retried" in text
    assert "550" in text
    assert IA not in text.split("E-mail settings of each account")[0]
    # only administrators
    login(client, "oig")
    assert client.get("/admin/outbox").status_code == 403


def test_a_message_gives_up_after_the_last_try(
    app: Flask, smtp: MailServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 2)
    smtp.handler.refuse[FEMA] = "452 4.2.2 Mailbox full"
    notify(app, MONDAY)
    with app.app_context():
        delivery.deliver_due(db.session, now=clock.now() + timedelta(hours=1))
        row = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == FEMA))
        assert row.state == OutboxState.FAILED_PERMANENT
        assert row.attempts == 2
        assert row.last_error.startswith("Gave up after 2 tries")


def test_backoff_doubles_up_to_six_hours() -> None:
    assert [delivery.backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert delivery.backoff(30) == timedelta(hours=6)


# --- who gets what ----------------------------------------------------------------------


def test_nothing_due_means_no_mail(app: Flask, smtp: MailServer) -> None:
    cbp = db.session.scalar(sa.select(Component).where(Component.abbreviation == "CBP"))
    accounts.create_user(
        db.session,
        email="cbp@test.example",
        display_name="CBP",
        role=Role.LIAISON,
        password=PASSWORD,
        components=[cbp],
    )
    output = notify(app, MONDAY)
    assert smtp.to("cbp@test.example") == []
    assert "1 with nothing due" in output


def test_a_deactivated_account_gets_nothing(app: Flask, smtp: MailServer) -> None:
    fema = user_by_email(FEMA)
    fema.active = False
    db.session.flush()
    notify(app, MONDAY)
    assert smtp.to(FEMA) == []
    assert db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == FEMA)) is None


def test_an_account_deactivated_after_queueing_is_not_sent_to(app: Flask, smtp: MailServer) -> None:
    notify(app, MONDAY, "--no-send")
    fema = user_by_email(FEMA)
    fema.active = False
    db.session.flush()
    notify(app, MONDAY)
    assert smtp.to(FEMA) == []
    row = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == FEMA))
    assert row.state == OutboxState.FAILED_PERMANENT
    assert row.last_error == delivery.DEACTIVATED


def test_an_invalid_address_fails_at_once_and_sends_nothing(
    app: Flask, smtp: MailServer, client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """An address that slipped in before addresses were checked (here: written by SQL):
    the message is kept, failed at once with a clear reason, logged, audited and shown to
    admins; the others go; a second run neither queues nor sends it again."""
    db.session.execute(
        sa.update(sa.table("users", sa.column("email")))
        .where(sa.column("email") == FEMA)
        .values(email="fema@")
    )
    db.session.expire_all()
    with caplog.at_level("WARNING", logger="app.mail.outbox"):
        notify(app, MONDAY)
    row = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == "fema@"))
    assert row.state == OutboxState.FAILED_PERMANENT
    assert row.last_error == outbox.INVALID_ADDRESS
    assert row.attempts == 0
    assert len(smtp.received) == 3
    assert [r.getMessage() for r in caplog.records if r.name == "app.mail.outbox"] == [
        f"mail {row.id} to user {row.user_id} failed permanently: {outbox.INVALID_ADDRESS}"
    ]
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "mail failed"))
    assert (event.object_id, event.outcome, event.actor_label) == (row.user_id, "failure", "mail")
    notify(app, MONDAY)
    assert db.session.scalar(sa.select(sa.func.count()).where(OutboxMessage.recipient == "fema@")) == 1
    assert len(smtp.received) == 3
    login(client, "admin")
    text = visible_text(client.get("/admin/outbox?state=failed_permanent"))
    assert "fema@" in text
    assert outbox.INVALID_ADDRESS in text


def test_an_account_cannot_be_given_an_invalid_address(client: Any) -> None:
    """Where an address comes in (the admin's form, the command line's service), an
    address RecTrack could not mail is refused with a clear message."""
    from app.auth.services import INVALID_EMAIL, AccountError

    for bad in ("fema@", "fema@agency", "two@at@agency.gov", "fema agency@dhs.gov"):
        with pytest.raises(AccountError) as refused:
            accounts.create_user(db.session, email=bad, display_name="F", role=Role.VIEWER, password=PASSWORD)
        assert (str(refused.value), refused.value.field) == (INVALID_EMAIL, "email"), bad
    login(client, "admin")
    page = client.get("/admin/users/new")
    response = client.post(
        "/admin/users/new",
        data={
            **hidden_fields(page.get_data(as_text=True)),
            "email": "fema@agency",
            "display_name": "F",
            "role": "viewer",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 200
    assert "Enter an e-mail address such as name@agency.gov." in visible_text(response)
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .where(sa.column("email") == "fema@agency")
            .select_from(sa.table("users"))
        )
        == 0
    )


def test_an_unreachable_server_keeps_every_message_until_it_is_back(
    app: Flask, smtp: MailServer, caplog: pytest.LogCaptureFixture
) -> None:
    """No server listening at all: the run says so, logs it, keeps every message pending
    (the first with the reason, to try again in a minute), and stops trying the others;
    once the server is back and the wait is over, each goes exactly once."""
    smtp.stop()
    with caplog.at_level("INFO", logger="app.mail.delivery"):
        output = notify(app, MONDAY)
    assert "Sent 0; to retry later 1; failed 0." in output
    rows = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [r.state for r in rows] == [OutboxState.PENDING] * 4
    assert [r.attempts for r in rows] == [0, 0, 0, 0]  # no try of a message was made
    assert rows[0].last_error == "the mail server could not be reached (ConnectionRefusedError)"
    assert [r.last_error for r in rows[1:]] == ["", "", ""]  # the others were not tried in vain
    assert any("could not be reached" in r.getMessage() for r in caplog.records)
    assert smtp.received == []
    smtp.start()
    assert "Sent 3;" in notify(app, MONDAY)  # the same day again: nothing new is queued
    with app.app_context():
        later = clock.now() + delivery.FIRST_RETRY + timedelta(seconds=1)
        assert delivery.deliver_due(db.session, now=later).sent == 1  # the one that waited
        assert delivery.deliver_due(db.session, now=later).sent == 0
    assert sorted(m["To"] for m in smtp.received) == sorted(
        ["admin@test.example", "oig@test.example", IA, FEMA]
    )
    sent = db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "mail sent"))
    assert sent == 4


def test_a_refused_recipient_is_logged_and_never_tried_again(
    app: Flask, smtp: MailServer, caplog: pytest.LogCaptureFixture
) -> None:
    """550: failed for good, logged, not sent by any later run; 451 (try later): sent
    once when the server takes it."""
    smtp.handler.refuse[FEMA] = "550 5.1.1 No such mailbox"
    smtp.handler.refuse[IA] = "451 4.3.0 Try again later"
    with caplog.at_level("INFO", logger="app.mail.delivery"):
        notify(app, MONDAY)
    messages = [r.getMessage() for r in caplog.records if r.name == "app.mail.delivery"]
    assert any("failed permanently: refused by the mail server (550)" in m for m in messages), messages
    assert any("the mail server asked to try later (451)" in m for m in messages), messages
    del smtp.handler.refuse[FEMA], smtp.handler.refuse[IA]  # the server would take both now
    with app.app_context():
        later = clock.now() + timedelta(hours=7)
        assert delivery.deliver_due(db.session, now=later).sent == 1
        assert delivery.deliver_due(db.session, now=later).sent == 0
    assert smtp.to(FEMA) == []
    assert len(smtp.to(IA)) == 1
    states = dict(db.session.execute(sa.select(OutboxMessage.recipient, OutboxMessage.state)).all())
    assert states[FEMA] == OutboxState.FAILED_PERMANENT
    assert states[IA] == OutboxState.SENT


def test_weekly_digest_goes_on_mondays_only(app: Flask, smtp: MailServer) -> None:
    db.session.add(MailPreference(user_id=user_by_email(FEMA).id, digest=DigestFrequency.WEEKLY, notices=[]))
    db.session.flush()
    notify(app, MONDAY + timedelta(days=1))
    assert smtp.to(FEMA) == []
    notify(app, MONDAY + timedelta(days=7))
    assert len(smtp.to(FEMA)) == 1


def test_the_scheduler_counts_days_in_the_oigs_time_zone(app: Flask, smtp: MailServer) -> None:
    import time_machine

    # 02:30 UTC on December 1 is still November 30 in Washington
    with time_machine.travel("2026-12-01T02:30:00+00:00", tick=False):
        notify(app)
    keys = set(db.session.scalars(sa.select(OutboxMessage.key)))
    assert f"digest:{user_by_email(FEMA).id}:2026-11-30" in keys


def test_beat_schedules_the_digests_in_the_oigs_time_zone(app: Flask) -> None:
    celery = app.extensions["celery"]
    entry = celery.conf.beat_schedule["mail-digests"]
    assert entry["task"] == "rectrack.mail_plan_digests"
    assert entry["schedule"].hour == {6}
    assert celery.conf.timezone == app.config["APP_TIMEZONE"]
    assert celery.conf.beat_schedule["mail-deliver"]["task"] == "rectrack.mail_deliver"


# --- the lookahead's boundaries -----------------------------------------------------------


def _fema_part() -> Addressee:
    part = db.session.scalar(
        sa.select(Addressee)
        .join(Recommendation)
        .join(Report)
        .where(
            Report.number == "OIG-12-15", Recommendation.number == 3, Addressee.component_id == Component.id
        )
        .where(Component.abbreviation == "FEMA")
    )
    assert part is not None
    return part


@pytest.mark.parametrize(
    ("offset", "section"),
    [(-1, "overdue"), (0, "due_soon"), (13, "due_soon"), (14, "due_soon"), (15, None)],
)
def test_target_dates_around_the_lookahead(ctx: None, today: date, offset: int, section: str | None) -> None:
    """Overdue: before today (the pages' comparison); due soon: today to today + 14."""
    part = _fema_part()
    part.target_date = today + timedelta(days=offset)
    db.session.flush()
    digest = digests.liaison_digest(db.session, user_by_email(FEMA), today, 14, Links(current_app))
    found = {
        name: [i for i in getattr(digest, name) if i.clock == "Target completion"]
        for name in ("overdue", "due_soon")
    }
    for name, items in found.items():
        assert len(items) == (1 if name == section else 0), (name, items)
    if section:
        assert found[section][0].due == today + timedelta(days=offset)


def test_the_lookahead_is_a_setting(
    app: Flask, smtp: MailServer, monkeypatch: pytest.MonkeyPatch, today: date
) -> None:
    monkeypatch.setitem(app.config, "MAIL_DIGEST_LOOKAHEAD_DAYS", 7)
    part = _fema_part()
    part.target_date = today + timedelta(days=8)
    db.session.flush()
    notify(app, today)
    assert "Target completion" not in text_of(smtp.to(FEMA)[0])
    part = _fema_part()  # the command's app context ended the session it was loaded in
    part.target_date = today + timedelta(days=7)
    db.session.flush()
    notify(app, today + timedelta(days=0))  # same day: already sent
    notify(app, today + timedelta(days=1))
    second = text_of(smtp.to(FEMA)[1])
    due = today + timedelta(days=7)
    assert f"OIG-12-15 #3 (FEMA): Target completion due {due:%B} {due.day}, {due.year}" in second


def test_a_returned_response_gives_the_reason_only_for_a_public_recommendation(
    ctx: None, today: date
) -> None:
    from app.models import ResponseState

    public = _fema_part()
    restricted = rec("TEST-R-1", 2).addressees[0]
    for part in (public, restricted):
        part.response_state = ResponseState.RETURNED
        part.evaluation_note = "OIG-REASON: the plan lacks milestones"
    db.session.flush()
    digest = digests.liaison_digest(db.session, user_by_email(FEMA), today, 14, Links(current_app))
    reasons = {r.name: r.reason for r in digest.returned}
    assert reasons == {
        "OIG-12-15 #3 (FEMA)": "OIG-REASON: the plan lacks milestones",
        "TEST-R-1 #2 (FEMA)": None,
    }


# --- preferences ----------------------------------------------------------------------


def test_preferences_page_saves_and_off_means_nothing_is_sent(
    app: Flask, smtp: MailServer, client: Any
) -> None:
    login(client, "fema")
    page = client.get("/account/notifications")
    assert page.status_code == 200
    fields = hidden_fields(page.get_data(as_text=True))
    assert fields["version"] == ""  # never saved: the defaults
    checked = re.findall(r'<input checked[^>]*name="digest"[^>]*value="(\w+)"', page.get_data(as_text=True))
    assert checked == ["daily"]  # a liaison's default
    response = client.post("/account/notifications", data={"digest": "off", "version": ""})
    assert response.status_code == 302
    pref = db.session.get(MailPreference, user_by_email(FEMA).id)
    assert pref.digest == DigestFrequency.OFF
    notify(app, MONDAY)
    assert smtp.to(FEMA) == []
    assert len(smtp.received) == 3
    # the administrators see it
    login(client, "admin")
    text = visible_text(client.get("/admin/outbox"))
    assert f"{FEMA} Active Never None" in " ".join(text.split())


def test_preferences_form_bad_input(client: Any) -> None:
    login(client, "fema")
    missing = client.post("/account/notifications", data={"version": ""})
    assert missing.status_code == 200
    assert "Choose how often to get the digest, or Never." in visible_text(missing)
    wrong = client.post("/account/notifications", data={"digest": "hourly", "version": ""})
    assert wrong.status_code == 200
    assert "Not a valid choice" in visible_text(wrong)
    tampered = client.post(
        "/account/notifications", data={"digest": "daily", "notices": "everything", "version": ""}
    )
    assert tampered.status_code == 400
    assert db.session.get(MailPreference, user_by_email(FEMA).id) is None  # nothing saved


def test_preferences_form_refuses_a_stale_save(client: Any) -> None:
    login(client, "fema")
    ok = client.post(
        "/account/notifications", data={"digest": "weekly", "notices": ["reopened"], "version": ""}
    )
    assert ok.status_code == 302
    # a second tab opened before that first save
    stale = client.post("/account/notifications", data={"digest": "off", "version": ""})
    assert stale.status_code == 409
    pref = db.session.get(MailPreference, user_by_email(FEMA).id)
    assert (pref.digest, pref.notices) == (DigestFrequency.WEEKLY, ["reopened"])
    version = pref.version
    current = client.post("/account/notifications", data={"digest": "off", "version": str(version)})
    assert current.status_code == 302
    old = client.post("/account/notifications", data={"digest": "daily", "version": str(version)})
    assert old.status_code == 409


def test_preferences_form_needs_its_csrf_token(app: Flask, client: Any) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        login(client, "fema")
        response = client.post("/account/notifications", data={"digest": "off", "version": ""})
        assert response.status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert db.session.get(MailPreference, user_by_email(FEMA).id) is None


# --- development: the folder backend --------------------------------------------------


def test_the_folder_backend_writes_files_the_outbox_page_lists(
    app: Flask, client: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "folder")
    monkeypatch.setitem(app.config, "MAIL_FOLDER", str(tmp_path))
    notify(app, MONDAY)
    files = sorted(tmp_path.glob("*.eml"))
    assert len(files) == 4
    login(client, "admin")
    text = visible_text(client.get("/admin/outbox"))
    assert "Files in the outbox folder" in text
    assert files[0].name in text
    assert "RecTrack digest: 2 overdue" in text


def test_a_new_recommendation_is_in_the_next_digest_only(app: Flask, smtp: MailServer) -> None:
    """Entered (tracked since) Sunday: in Monday's daily digest, not in Tuesday's."""
    new = rec("OIG-12-15", 3)
    new.tracked_since = MONDAY - timedelta(days=1)
    db.session.flush()
    notify(app, MONDAY)
    notify(app, MONDAY + timedelta(days=1))
    monday, tuesday = (text_of(m) for m in smtp.to(FEMA))
    assert (
        "NEW RECOMMENDATIONS ADDRESSED TO YOU\r\n- OIG-12-15 #3 (FEMA): entered November 15, 2026" in monday
    )
    assert "NEW RECOMMENDATIONS" not in tuesday
    # addressed to I&A too: its liaison hears of it, under I&A, once
    ia_monday, ia_tuesday = (text_of(m) for m in smtp.to(IA))
    assert (
        "NEW RECOMMENDATIONS ADDRESSED TO YOU\r\n- OIG-12-15 #3 (I&A): entered November 15, 2026\r\n"
        in ia_monday
    )
    assert "NEW RECOMMENDATIONS" not in ia_tuesday


def test_the_beat_tasks_queue_and_send(app: Flask, smtp: MailServer) -> None:
    """What beat runs: today's digests (the OIG's today), then the outbox. The tasks are
    taken from this app's Celery (a shared task runs in the app context of the Celery app
    made last, which in a full run is another test's app)."""
    importlib.import_module("app.mail.tasks")  # registers the tasks

    tasks = app.extensions["celery"].tasks
    assert tasks["rectrack.mail_plan_digests"]() == 4
    assert tasks["rectrack.mail_plan_digests"]() == 0  # again the same day: nothing new
    assert tasks["rectrack.mail_deliver"]() == 0
    assert sorted(m["To"] for m in smtp.received) == sorted(
        ["admin@test.example", "oig@test.example", IA, FEMA]
    )
    with app.app_context():
        keys = set(db.session.scalars(sa.select(OutboxMessage.key)))
    assert f"digest:{user_by_email(FEMA).id}:{clock.today().isoformat()}" in keys


# --- event notices ----------------------------------------------------------------------


def _return_femas_response() -> None:
    from app.lifecycle import steps, workflow
    from tests.states import ctx, fema_responded, row

    fema_responded()
    cpg = rec("OIG-12-15", 3)
    workflow.take(
        db.session, ctx("oig"), "return_response", cpg, row(cpg, "FEMA"), steps.ReasonData("OIG-REASON-X")
    )
    db.session.commit()


def test_a_returned_response_is_noticed_once_by_a_liaison_who_asked(app: Flask, smtp: MailServer) -> None:
    db.session.add(
        MailPreference(
            user_id=user_by_email(FEMA).id, digest=DigestFrequency.OFF, notices=["response_returned"]
        )
    )
    db.session.add(
        MailPreference(
            user_id=user_by_email(IA).id, digest=DigestFrequency.OFF, notices=["response_returned"]
        )
    )
    db.session.commit()
    _return_femas_response()
    notify(app, MONDAY)
    notify(app, MONDAY)  # a second run: nothing new
    [notice] = smtp.to(FEMA)
    assert notice["Subject"] == "RecTrack: OIG-12-15 #3 (FEMA): Response returned"
    body = text_of(notice)
    assert f"OIG-12-15 #3 (FEMA): Response returned on {clock.today():%B} {clock.today().day}" in body
    assert "OIG-REASON-X" not in body + html_of(notice)  # the OIG's note stays on the page
    assert "FEMA concurs." not in body  # the response text too
    assert smtp.to(IA) == []  # not I&A's part
    assert notice["List-Unsubscribe"] == f"<{PREFS_URL}>"


def test_no_notice_without_asking(app: Flask, smtp: MailServer) -> None:
    db.session.add(MailPreference(user_id=user_by_email(FEMA).id, digest=DigestFrequency.OFF, notices=[]))
    db.session.commit()
    _return_femas_response()
    notify(app, MONDAY)
    assert smtp.to(FEMA) == []


def test_development_keeps_mail_in_instance_outbox_and_unknown_backends_are_refused() -> None:
    from pathlib import Path

    from config import INSTANCE_DIR, BaseConfig, DevelopmentConfig, TestingConfig

    assert DevelopmentConfig.MAIL_BACKEND == "folder"
    assert Path(DevelopmentConfig.MAIL_FOLDER) == INSTANCE_DIR / "outbox"
    assert BaseConfig.MAIL_BACKEND == "smtp"  # production sends
    config = TestingConfig("sqlite://")
    config.MAIL_BACKEND = "carrier-pigeon"
    with pytest.raises(
        RuntimeError, match=re.escape("Unknown MAIL_BACKEND 'carrier-pigeon'; use smtp or folder.")
    ):
        config.validate()


# --- one digest per kind of reader (digests.Planner) ------------------------------------


def _lists(d: Any) -> Any:
    if isinstance(d, digests.StaffDigest):
        return (d.sections, d.updates_overdue)
    return (d.overdue, d.due_soon, d.returned, d.new)


def test_the_planner_gives_each_reader_the_digest_made_for_them_alone(ctx: None, today: date) -> None:
    """A liaison of FEMA and I&A gets both components' parts (the restricted TEST-R-1 #1
    of I&A, which the FEMA liaison never sees); each digest is the one liaison_digest and
    staff_digest make for that person, daily and weekly."""
    from sqlalchemy.orm import selectinload

    from app.demo.generator import generate
    from app.models import User

    generate(db.session.connection(), reports=40, recommendations=400, seed=5, today=today, allow_mixed=True)
    components = {c.abbreviation: c for c in db.session.scalars(sa.select(Component))}
    both = accounts.create_user(
        db.session,
        email="both@test.example",
        display_name="Both",
        role=Role.LIAISON,
        password=PASSWORD,
        components=[components["FEMA"], components["I&A"]],
    )
    db.session.flush()
    users = db.session.scalars(
        sa.select(User).where(User.active.is_(True)).options(selectinload(User.components))
    ).all()
    links = Links(current_app)
    planner = digests.Planner(db.session, today, current_app.config, links, users)
    for period in (1, 7):
        for user in users:
            shared = planner.digest_for(user, period)
            alone = digests.digest_for(db.session, user, today, current_app.config, links, period)
            assert (shared is None) == (alone is None), user.email
            if shared is not None:
                assert _lists(shared) == _lists(alone), (user.email, period)
    fema, mixed = planner.digest_for(user_by_email(FEMA), 1), planner.digest_for(both, 1)
    assert isinstance(fema, digests.LiaisonDigest)
    assert isinstance(mixed, digests.LiaisonDigest)
    fema_names = {i.name for i in fema.overdue + fema.due_soon}
    mixed_names = {i.name for i in mixed.overdue + mixed.due_soon}
    assert {"OIG-12-15 #3 (FEMA)", "TEST-R-1 #2 (FEMA)"} <= fema_names
    assert "TEST-R-1 #1 (I&A)" not in fema_names
    assert {"OIG-12-15 #3 (FEMA)", "OIG-12-15 #3 (I&A)", "TEST-R-1 #1 (I&A)"} <= mixed_names
    assert fema_names < mixed_names
    # Every staff member shares one digest.
    staff = [u for u in users if u.role in (Role.OIG, Role.ADMIN)]
    assert len(staff) >= 2
    assert len({id(planner.digest_for(u, 1)) for u in staff}) == 1
