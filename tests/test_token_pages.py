"""The API token pages (issue 16): one's own tokens on the account page (made with a
name, a scope and an expiry date of at most a year; the secret shown once, in the answer
that made it, and stored only as its SHA-256), the administrators' list of every token,
and revocation by the owner or an administrator, audited, refused to anyone else."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.forms import DATE_MESSAGE
from app.models import ApiToken, AuditEvent, TokenScope
from app.tokens import services as tokens
from tests.conftest import EMAILS, hidden_fields, login, user_by_email, visible_text

# A Monday afternoon in Washington (EST, UTC-5): today there is 2026-11-16.
NOON = "2026-11-16T17:00:00+00:00"
SECRET = re.compile(r'value="(rt_[A-Za-z0-9_-]+)"')


def _mark() -> int:
    return db.session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0


def _events(since: int) -> list[AuditEvent]:
    stmt = sa.select(AuditEvent).where(AuditEvent.id > since).order_by(AuditEvent.id)
    return list(db.session.scalars(stmt.execution_options(populate_existing=True)))


def _tokens_of(role: str) -> list[ApiToken]:
    db.session.expire_all()
    owner = user_by_email(EMAILS[role])
    return list(db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == owner.id)))


@contextmanager
def signed_in_at(client: FlaskClient, role: str, when: str) -> Iterator[None]:
    """The clock stopped at `when`, the client signed in then (a session cookie signed
    later than the clock reads is refused as from the future)."""
    with time_machine.travel(when, tick=False):
        login(client, role)
        yield


def _make_page(client: FlaskClient, **data: str) -> tuple[int, str, str]:
    """Post the account page's form; the status, the page's text and its HTML."""
    form = {"name": "Tracker sync", "scope": "read", "expires_on": "2027-01-01", **data}
    response = client.post("/account/tokens", data=form)
    return response.status_code, visible_text(response), response.get_data(as_text=True)


class Made(NamedTuple):
    id: int
    secret: str


def _token(role: str, name: str = "Sync", **kw: object) -> Made:
    args: dict[str, object] = {
        "scope": TokenScope.READ,
        "now": datetime(2026, 11, 16, 17, 0, tzinfo=UTC),
        "expires_at": datetime(2027, 1, 2, 5, 0, tzinfo=UTC),
    }
    args.update(kw)
    new = tokens.create(db.session, user_by_email(EMAILS[role]), name=name, **args)  # type: ignore[arg-type]
    db.session.commit()
    return Made(new.token.id, new.secret)


# --- making a token -----------------------------------------------------------------------


def test_the_secret_is_shown_once_and_only_its_hash_is_stored(client: FlaskClient) -> None:
    since = _mark()
    with signed_in_at(client, "liaison", NOON):
        response = client.post(
            "/account/tokens",
            data={"name": "FEMA tracker sync", "scope": "write", "expires_on": "2027-01-01"},
        )
        again = client.get("/account/tokens")
    assert response.status_code == 200  # the answer itself, not a redirect to a page anyone could reload
    assert "no-store" in response.headers["Cache-Control"]
    page = response.get_data(as_text=True)
    [secret] = SECRET.findall(page)
    assert "Copy your new token now" in visible_text(response)
    assert secret not in response.headers.get("Set-Cookie", "")
    assert secret not in response.headers.get("Location", "")

    [row] = _tokens_of("liaison")
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in (row.name, row.prefix, row.secret_hash)
    assert (row.name, row.scope, row.prefix) == ("FEMA tracker sync", TokenScope.WRITE, secret[:10])
    # the end of January 1 in Washington (EST): 05:00 UTC on January 2
    assert row.expires_at == datetime(2027, 1, 2, 5, 0, tzinfo=UTC)
    assert row.created_at == datetime(2026, 11, 16, 17, 0, tzinfo=UTC)

    assert secret not in again.get_data(as_text=True)
    assert SECRET.findall(again.get_data(as_text=True)) == []
    assert "FEMA tracker sync" in visible_text(again)
    assert f"{secret[:10]}…" in visible_text(again)
    assert "no-store" in again.headers["Cache-Control"]

    [event] = [e for e in _events(since) if e.object_type == "api_tokens"]
    assert (event.action, event.actor_label, event.object_id) == ("create", EMAILS["liaison"], row.id)
    assert event.object_label == f"{EMAILS['liaison']}: token {secret[:10]}"
    assert event.changes["secret_hash"] == [None, "[redacted]"]
    assert event.changes["scope"] == [None, "write"]
    assert secret not in json.dumps(event.changes)
    assert row.secret_hash not in json.dumps(event.changes)


def test_the_form_proposes_read_and_ninety_days(client: FlaskClient) -> None:
    with signed_in_at(client, "oig", NOON):
        page = client.get("/account/tokens").get_data(as_text=True)
    # 2026-11-16 + 90 days: 14 left in November, 31 in December, 31 in January, 14 in February
    assert re.search(r'<input[^>]*id="expires_on"[^>]*value="2027-02-14"', page)
    assert re.search(r'<input[^>]*checked[^>]*value="read"|<input[^>]*value="read"[^>]*checked', page)
    assert 'value="write"' in page  # offered to OIG staff
    assert "until the end of this day, America/New_York time" in page
    assert "November 16, 2027 at the latest" in page


@pytest.mark.parametrize(
    ("now", "day", "expires_at"),
    [
        (NOON, "2027-07-01", datetime(2027, 7, 2, 4, 0, tzinfo=UTC)),  # summer: EDT, UTC-4
        (NOON, "2027-01-01", datetime(2027, 1, 2, 5, 0, tzinfo=UTC)),  # winter: EST, UTC-5
        # 21:30 on November 30 in Washington: "today" is still the 30th there
        ("2026-12-01T02:30:00+00:00", "2026-11-30", datetime(2026, 12, 1, 5, 0, tzinfo=UTC)),
        # 01:45 EDT on the day the clocks go back: that day ends at midnight EST
        ("2026-11-01T05:45:00+00:00", "2026-11-01", datetime(2026, 11, 2, 5, 0, tzinfo=UTC)),
    ],
)
def test_the_expiry_is_the_end_of_the_day_in_washington(
    client: FlaskClient, now: str, day: str, expires_at: datetime
) -> None:
    with signed_in_at(client, "oig", now):
        status, text, _page = _make_page(client, expires_on=day)
    assert status == 200
    [row] = _tokens_of("oig")
    assert row.expires_at == expires_at, text[-600:]


def test_a_viewer_is_offered_read_only_and_a_forged_write_is_refused(client: FlaskClient) -> None:
    login(client, "viewer")
    page = client.get("/account/tokens").get_data(as_text=True)
    assert 'value="read"' in page
    assert 'value="write"' not in page
    assert "Your account reads only" in page
    response = client.post(
        "/account/tokens", data={"name": "Forged", "scope": "write", "expires_on": "2027-01-01"}
    )
    assert response.status_code == 400
    assert _tokens_of("viewer") == []
    assert _make_page(client)[0] == 200
    assert [t.scope for t in _tokens_of("viewer")] == [TokenScope.READ]


@pytest.mark.parametrize(
    ("now", "day", "made"),
    [
        (NOON, "2027-11-16", True),  # a year exactly
        (NOON, "2027-11-17", False),  # a year and a day
        (NOON, "2026-11-16", True),  # today: until midnight
        (NOON, "2026-11-15", False),  # yesterday
        # 21:30 on November 30 in Washington, already December 1 in UTC
        ("2026-12-01T02:30:00+00:00", "2027-11-30", True),
        ("2026-12-01T02:30:00+00:00", "2027-12-01", False),
        ("2026-12-01T02:30:00+00:00", "2026-11-30", True),
        # on 29 February a year later is 28 February
        ("2028-02-29T15:00:00+00:00", "2029-02-28", True),
        ("2028-02-29T15:00:00+00:00", "2029-03-01", False),
    ],
)
def test_expiry_date_boundaries(client: FlaskClient, now: str, day: str, made: bool) -> None:
    with signed_in_at(client, "liaison", now):
        status, text, _page = _make_page(client, expires_on=day)
    assert status == 200
    assert (len(_tokens_of("liaison")) == 1) is made, text[-600:]
    if not made:
        assert "Please correct the fields marked below" in text


def test_the_expiry_stays_within_366_days_across_a_leap_day(client: FlaskClient) -> None:
    """1 March 2027 to 1 March 2028 is 366 days: the end of that day would be 366 days
    and 9 hours away, so the token ends 366 days after it was made, on that day."""
    with signed_in_at(client, "liaison", "2027-03-01T15:00:00+00:00"):
        assert _make_page(client, expires_on="2028-03-01")[0] == 200
        page = client.get("/account/tokens")
    [row] = _tokens_of("liaison")
    assert row.expires_at == datetime(2028, 3, 1, 15, 0, tzinfo=UTC)
    assert "2028-03-01 15:00 UTC" in visible_text(page)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, "Give the token a name, so you can tell it apart later."),
        ({"name": "   "}, "Give the token a name, so you can tell it apart later."),
        ({"name": "x" * 101}, "Field cannot be longer than 100 characters."),
        ({"expires_on": "2026-11-15"}, "The expiry date is in the past. Choose today or a later day."),
        (
            {"expires_on": "2027-11-17"},
            "A token lasts at most a year: choose November 16, 2027, or an earlier day.",
        ),
        ({"expires_on": "2027-02-30"}, DATE_MESSAGE),
        ({"expires_on": "next spring"}, DATE_MESSAGE),
        ({"expires_on": ""}, "Choose the day the token expires."),
    ],
)
def test_bad_input_gets_a_message_next_to_its_field(
    client: FlaskClient, data: dict[str, str], message: str
) -> None:
    with signed_in_at(client, "oig", NOON):
        status, _text, page = _make_page(client, **data)
    assert status == 200
    field = next(iter(data))
    error = re.search(rf'<span class="usa-error-message" id="{field}-error">([^<]*)</span>', page)
    assert error is not None, page[-3000:]
    assert error.group(1).replace("&#39;", "'") == message
    assert _tokens_of("oig") == []


def test_every_field_gets_its_message_at_once(client: FlaskClient) -> None:
    with signed_in_at(client, "liaison", NOON):
        status, _text, page = _make_page(client, name="", expires_on="2026-11-15")
    assert status == 200
    assert 'id="name-error">Give the token a name' in page
    assert 'id="expires_on-error">The expiry date is in the past.' in page


def test_the_service_checks_the_day_as_well() -> None:
    """A caller other than the form (the form's check aside) cannot pass a day out of range."""
    now, today, zone = datetime(2026, 11, 16, 17, 0, tzinfo=UTC), date(2026, 11, 16), "America/New_York"
    for day in (date(2026, 11, 15), date(2027, 11, 17)):
        with pytest.raises(tokens.TokenError) as refused:
            tokens.expiry_at_end_of(day, today=today, now=now, tz=zone)
        assert refused.value.field == "expires_on"
    assert tokens.expiry_at_end_of(date(2027, 11, 16), today=today, now=now, tz=zone) == datetime(
        2027, 11, 17, 5, 0, tzinfo=UTC
    )


# --- the lists ------------------------------------------------------------------------------


def test_the_list_shows_the_last_use_and_its_address(client: FlaskClient) -> None:
    new = _token("fema", "Nightly export")
    tokens.authenticate(
        db.session, new.secret, now=datetime(2026, 11, 16, 18, 5, tzinfo=UTC), address="192.0.2.7"
    )
    db.session.commit()
    login(client, "fema")
    text = visible_text(client.get("/account/tokens"))
    assert "Nightly export" in text
    assert "2026-11-16 18:05 UTC, from 192.0.2.7" in text
    assert "End of January 1, 2027" in text
    login(client, "admin")
    text = visible_text(client.get("/admin/tokens"))
    assert "fema@test.example Nightly export" in text
    assert "2026-11-16 18:05 UTC, from 192.0.2.7" in text


def test_each_user_sees_only_their_own_tokens(client: FlaskClient) -> None:
    _token("fema", "FEMA only")
    _token("liaison", "I&A only")
    login(client, "liaison")
    text = visible_text(client.get("/account/tokens"))
    assert "I&A only" in text
    assert "FEMA only" not in text


def test_the_admin_page_lists_every_token_with_its_state(client: FlaskClient) -> None:
    past = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    _token("fema", "Old one", now=past, expires_at=past + timedelta(days=30))
    revoked = _token("viewer", "Withdrawn")
    tokens.revoke(
        db.session,
        db.session.get(ApiToken, revoked.id),
        by=user_by_email(EMAILS["viewer"]),
        now=datetime(2026, 11, 2, tzinfo=UTC),
    )
    db.session.commit()
    _token("liaison", "Live one")
    login(client, "admin")
    response = client.get("/admin/tokens")
    text = visible_text(response)
    assert "fema@test.example Old one" in text
    assert (text.count("Expired"), text.count("Active"), text.count("Revoked")) == (1, 1, 1)
    assert "viewer@test.example Withdrawn" in text
    assert "Revoked 2026-11-02 00:00 UTC by viewer@test.example" in text
    assert "liaison@test.example Live one" in text
    assert text.index("Live one") < text.index("Withdrawn") < text.index("Old one")  # newest first
    html = response.get_data(as_text=True)
    assert 'href="/admin/tokens" aria-current="page">API tokens</a>' in html  # in the admin navigation


def test_the_account_page_is_in_the_header_menu(client: FlaskClient) -> None:
    login(client, "viewer")
    page = client.get("/dashboard").get_data(as_text=True)
    assert '<a href="/account/tokens">API tokens</a>' in page


# --- revoking -------------------------------------------------------------------------------


def _revoke(client: FlaskClient, token_id: int, **data: str):  # type: ignore[no-untyped-def]
    return client.post(f"/account/tokens/{token_id}/revoke", data=data)


def test_the_owner_revokes_after_confirming(client: FlaskClient) -> None:
    new = _token("liaison")
    since = _mark()
    with signed_in_at(client, "liaison", "2026-11-20T14:00:00+00:00"):
        confirm = client.get(f"/account/tokens/{new.id}/revoke")
        response = _revoke(client, new.id, next="/account/tokens")
        text = visible_text(client.get("/account/tokens"))
    assert confirm.status_code == 200
    assert "Revoke the token “Sync”?" in visible_text(confirm)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/tokens"
    [row] = _tokens_of("liaison")
    assert row.revoked_at == datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    assert row.revoked_by_id == user_by_email(EMAILS["liaison"]).id
    [event] = [e for e in _events(since) if e.object_type == "api_tokens"]
    assert (event.action, event.actor_label, event.object_label) == (
        "update",
        EMAILS["liaison"],
        f"{EMAILS['liaison']}: token {new.secret[:10]}",
    )
    assert set(event.changes) == {"revoked_at", "revoked_by_id"}
    assert "The token “Sync” was revoked: it no longer works." in text
    assert "Revoked 2026-11-20 14:00 UTC by liaison@test.example" in text
    with pytest.raises(tokens.TokenRefused):
        tokens.authenticate(
            db.session, new.secret, now=datetime(2026, 11, 20, 14, 1, tzinfo=UTC), address=None
        )


def test_an_administrator_revokes_anyones_token_from_the_admin_page(client: FlaskClient) -> None:
    new = _token("fema")
    login(client, "admin")
    admin_page = client.get("/admin/tokens").get_data(as_text=True)
    link = f"/account/tokens/{new.id}/revoke?next=/admin/tokens"
    assert f'href="{link}"' in admin_page
    assert client.get(link).status_code == 200
    since = _mark()
    response = _revoke(client, new.id, next="/admin/tokens")
    assert response.headers["Location"] == "/admin/tokens"
    [row] = _tokens_of("fema")
    assert row.revoked_by_id == user_by_email(EMAILS["admin"]).id
    [event] = [e for e in _events(since) if e.object_type == "api_tokens"]
    assert (event.actor_label, event.object_label) == (
        EMAILS["admin"],
        f"{EMAILS['fema']}: token {new.secret[:10]}",
    )


def test_another_users_token_is_refused_and_the_refusal_audited(client: FlaskClient) -> None:
    new = _token("liaison")
    login(client, "fema")
    since = _mark()
    assert client.get(f"/account/tokens/{new.id}/revoke").status_code == 403
    response = _revoke(client, new.id)
    assert response.status_code == 403
    assert "Only the token's owner or an administrator can revoke it." in visible_text(response)
    [row] = _tokens_of("liaison")
    assert row.revoked_at is None
    events = _events(since)
    assert [(e.action, e.outcome, e.object_type, e.object_id) for e in events] == [
        ("request", "denied", "api_tokens", new.id),
        ("request", "denied", "api_tokens", new.id),
    ]
    assert events[1].actor_label == EMAILS["fema"]
    assert events[1].object_label == f"{EMAILS['liaison']}: token {new.secret[:10]}"
    assert events[1].changes["method"] == "POST"
    assert events[1].changes["reason"] == "Only the token's owner or an administrator can revoke it."


def test_revoking_twice_changes_nothing_and_says_so(client: FlaskClient) -> None:
    new = _token("fema")
    with signed_in_at(client, "fema", "2026-11-20T14:00:00+00:00"):
        assert _revoke(client, new.id).status_code == 302
    since = _mark()
    # an administrator, on a page opened before the owner revoked it
    with signed_in_at(client, "admin", "2026-11-21T09:00:00+00:00"):
        response = _revoke(client, new.id, next="/admin/tokens")
        text = visible_text(client.get("/admin/tokens"))
        page = client.get(f"/account/tokens/{new.id}/revoke")
    assert response.status_code == 302
    [row] = _tokens_of("fema")
    assert row.revoked_at == datetime(2026, 11, 20, 14, 0, tzinfo=UTC)  # not overwritten
    assert row.revoked_by_id == user_by_email(EMAILS["fema"]).id
    assert "was already revoked on 2026-11-20 14:00 UTC by fema@test.example. Nothing changed." in text
    [event] = _events(since)
    assert (event.action, event.outcome, event.object_id) == ("revoke", "failure", new.id)
    assert event.changes == {"reason": "already revoked", "revoked_at": "2026-11-20T14:00:00+00:00"}
    # its page says so and offers no button
    assert "Revoking it again changes nothing." in visible_text(page)
    assert "Revoke the token</button>" not in page.get_data(as_text=True)


def test_an_unknown_token_is_404(client: FlaskClient) -> None:
    login(client, "admin")
    assert client.get("/account/tokens/987654/revoke").status_code == 404
    assert _revoke(client, 987654).status_code == 404


def test_a_foreign_next_address_is_ignored(client: FlaskClient) -> None:
    new = _token("viewer")
    login(client, "viewer")
    response = _revoke(client, new.id, next="https://evil.example/")
    assert response.headers["Location"] == "/account/tokens"


def test_csrf_is_required_to_make_and_to_revoke(app: Flask, client: FlaskClient) -> None:
    new = _token("oig")
    login(client, "oig")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert _make_page(client)[0] == 400
        assert len(_tokens_of("oig")) == 1
        assert _revoke(client, new.id).status_code == 400
        assert [t.revoked_at for t in _tokens_of("oig")] == [None]
        # with the page's own token both work
        form = hidden_fields(client.get("/account/tokens").get_data(as_text=True))
        assert _make_page(client, csrf_token=form["csrf_token"])[0] == 200
        assert len(_tokens_of("oig")) == 2
        confirm = hidden_fields(client.get(f"/account/tokens/{new.id}/revoke").get_data(as_text=True))
        assert _revoke(client, new.id, **confirm).status_code == 302
        assert [t.revoked_at is not None for t in _tokens_of("oig") if t.id == new.id] == [True]
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
