"""Personal access tokens (issue 16), the service: made once and shown once, stored as a
hash, refused when unknown, revoked, expired (from the expiry instant on) or when the
account is deactivated; at most a year; a viewer gets read scope only."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import ApiToken, Role, TokenScope
from app.tokens import services as tokens
from tests.factories import make_user

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def make(role: Role = Role.LIAISON, **kw: object) -> tokens.NewToken:
    user = make_user(role)
    args = {
        "name": "Tracker sync",
        "scope": TokenScope.WRITE,
        "expires_at": NOW + timedelta(days=30),
        "now": NOW,
    }
    args.update(kw)
    return tokens.create(db.session, user, **args)  # type: ignore[arg-type]


def test_the_secret_is_stored_only_as_its_sha256() -> None:
    new = make()
    assert new.secret.startswith("rt_")
    assert len(new.secret) >= 40
    row = db.session.scalar(sa.select(ApiToken).where(ApiToken.id == new.token.id))
    assert row is not None
    assert row.secret_hash == hashlib.sha256(new.secret.encode()).hexdigest()
    assert new.secret not in (row.secret_hash, row.prefix, row.name)
    assert row.prefix == new.secret[:10]


def test_authenticate_records_last_use_and_address() -> None:
    new = make()
    later = NOW + timedelta(hours=2)
    token = tokens.authenticate(db.session, new.secret, now=later, address="192.0.2.7")
    assert token.id == new.token.id
    assert token.last_used_at == later
    assert token.last_used_address == "192.0.2.7"


@pytest.mark.parametrize(
    ("offset", "usable"),
    [(timedelta(seconds=-1), True), (timedelta(0), False), (timedelta(seconds=1), False)],
)
def test_expiry_boundary(offset: timedelta, usable: bool) -> None:
    expires = NOW + timedelta(days=30)
    new = make(expires_at=expires)
    if usable:
        tokens.authenticate(db.session, new.secret, now=expires + offset, address=None)
    else:
        with pytest.raises(tokens.TokenRefused) as refused:
            tokens.authenticate(db.session, new.secret, now=expires + offset, address=None)
        assert refused.value.reason == "expired"


def test_unknown_malformed_revoked_and_inactive_are_refused() -> None:
    new = make()
    for secret, reason in (
        ("rt_" + "x" * 43, "unknown"),
        ("Bearer nonsense", "malformed"),
        ("", "malformed"),
    ):
        with pytest.raises(tokens.TokenRefused) as refused:
            tokens.authenticate(db.session, secret, now=NOW, address=None)
        assert refused.value.reason == reason
    owner = new.token.user
    tokens.revoke(db.session, new.token, by=owner, now=NOW + timedelta(minutes=1))
    with pytest.raises(tokens.TokenRefused) as refused:
        tokens.authenticate(db.session, new.secret, now=NOW + timedelta(minutes=1), address=None)
    assert refused.value.reason == "revoked"
    other = make()
    other.token.user.active = False
    db.session.flush()
    with pytest.raises(tokens.TokenRefused) as refused:
        tokens.authenticate(db.session, other.secret, now=NOW, address=None)
    assert refused.value.reason == "inactive"


def test_lifetime_at_most_a_year_and_in_the_future() -> None:
    make(expires_at=NOW + timedelta(days=366))
    with pytest.raises(tokens.TokenError) as refused:
        make(expires_at=NOW + timedelta(days=366, seconds=1))
    assert refused.value.field == "expires_on"
    with pytest.raises(tokens.TokenError):
        make(expires_at=NOW)


def test_name_required_and_viewer_read_only() -> None:
    with pytest.raises(tokens.TokenError) as refused:
        make(name="   ")
    assert refused.value.field == "name"
    with pytest.raises(tokens.TokenError) as refused:
        make(Role.VIEWER)
    assert refused.value.field == "scope"
    assert make(Role.VIEWER, scope=TokenScope.READ).token.scope == TokenScope.READ


def test_only_owner_or_admin_revokes() -> None:
    new = make()
    stranger = make_user(Role.LIAISON)
    with pytest.raises(tokens.TokenError) as refused:
        tokens.revoke(db.session, new.token, by=stranger, now=NOW)
    assert refused.value.status == 403
    assert new.token.revoked_at is None
    admin = make_user(Role.ADMIN)
    tokens.revoke(db.session, new.token, by=admin, now=NOW)
    assert new.token.revoked_at == NOW
    assert new.token.revoked_by_id == admin.id
