"""Making, checking and revoking personal access tokens. Services flush, never commit,
and take the acting user and `now` explicitly."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, selectinload

from app import clock
from app.models import ApiToken, Role, TokenScope
from app.service_errors import ServiceError

PREFIX = "rt_"
MAX_LIFETIME = timedelta(days=366)  # "at most a year": a year from today, leap day included
NAME_LENGTH = 100
DEFAULT_LIFETIME_DAYS = 90  # the expiry date the account page proposes
ACTIVE, EXPIRED, REVOKED = "active", "expired", "revoked"


class TokenError(ServiceError):
    """A token that cannot be made or changed as asked."""


class TokenRefused(Exception):
    """A bearer token that does not authenticate: `reason` is one of "malformed",
    "unknown", "revoked", "expired", "inactive" (the account is deactivated)."""

    def __init__(self, reason: str, token: ApiToken | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.token = token


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once, never stored


def create(
    session: Session, user: Any, *, name: str, scope: TokenScope, expires_at: datetime, now: datetime
) -> NewToken:
    """A new token for `user`. A read-only account (viewer) gets read scope only."""
    name = (name or "").strip()
    if not name:
        raise TokenError("Give the token a name, so you can tell it apart later.", "name")
    if len(name) > NAME_LENGTH:
        raise TokenError(f"A token's name has at most {NAME_LENGTH} characters.", "name")
    if expires_at <= now:
        raise TokenError("The expiry date must be in the future.", "expires_on")
    if expires_at > now + MAX_LIFETIME:
        raise TokenError("A token expires within a year of its creation.", "expires_on")
    if scope == TokenScope.WRITE and user.role == Role.VIEWER:
        raise TokenError("A read-only account can make read tokens only.", "scope")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        prefix=secret[:10],
        secret_hash=hash_secret(secret),
        scope=scope,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    return NewToken(token, secret)


def authenticate(session: Session, secret: str, *, now: datetime, address: str | None) -> ApiToken:
    """The usable token whose secret this is, its user loaded, its last use recorded;
    TokenRefused otherwise."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        raise TokenRefused("malformed")
    digest = hash_secret(secret)
    token = session.scalar(
        sa.select(ApiToken).where(ApiToken.secret_hash == digest).options(joinedload(ApiToken.user))
    )
    if token is None or not hmac.compare_digest(token.secret_hash, digest):
        raise TokenRefused("unknown")
    state = state_of(token, now)
    if state != ACTIVE:
        raise TokenRefused(state, token)  # "revoked" or "expired"
    if not token.user.active:
        raise TokenRefused("inactive", token)
    token.last_used_at = now
    token.last_used_address = (address or "")[:45] or None
    session.flush()
    return token


REVOKE_REFUSED = "Only the token's owner or an administrator can revoke it."


def may_revoke(user: Any, token: ApiToken) -> bool:
    return token.user_id == user.id or user.role == Role.ADMIN


def revoke(session: Session, token: ApiToken, *, by: Any, now: datetime) -> bool:
    """Revoke a token (its owner, or an administrator). Revoking twice changes nothing:
    the first revocation's time and author stay; False says it was revoked already."""
    if not may_revoke(by, token):
        raise TokenError(REVOKE_REFUSED, status=403)
    if token.revoked_at is not None:
        return False
    token.revoked_at = now
    token.revoked_by_id = by.id
    session.flush()
    return True


def token_to_revoke(session: Session, token_id: int, *, lock: bool) -> ApiToken | None:
    """A token with its owner and who revoked it. With `lock`, its row is locked until the
    transaction ends (PostgreSQL; SQLite takes the write lock when a POST begins), so of
    two revocations at once the second waits, reads the first's and changes nothing."""
    stmt = (
        sa.select(ApiToken)
        .where(ApiToken.id == token_id)
        .options(joinedload(ApiToken.user, innerjoin=True), selectinload(ApiToken.revoked_by))
    )
    if lock:
        stmt = stmt.with_for_update(of=ApiToken)
    return session.scalar(stmt)


def state_of(token: ApiToken, now: datetime) -> str:
    """ "revoked", "expired" (from the expiry instant on) or "active"."""
    if token.revoked_at is not None:
        return REVOKED
    return EXPIRED if now >= token.expires_at else ACTIVE


def last_expiry_day(today: date) -> date:
    """The latest expiry date a token made today may have: the same date a year later
    (29 February: 28 February of the next year)."""
    try:
        return today.replace(year=today.year + 1)
    except ValueError:
        return today.replace(year=today.year + 1, day=28)


def default_expiry_day(today: date) -> date:
    return today + timedelta(days=DEFAULT_LIFETIME_DAYS)


def check_expiry_day(day: date, today: date) -> None:
    """TokenError unless `day` is from today to a year later (`last_expiry_day`)."""
    if day < today:
        raise TokenError("The expiry date is in the past. Choose today or a later day.", "expires_on")
    last = last_expiry_day(today)
    if day > last:
        raise TokenError(
            f"A token lasts at most a year: choose {last:%B} {last.day}, {last.year}, or an earlier day.",
            "expires_on",
        )


def expiry_at_end_of(day: date, *, today: date, now: datetime, tz: str | None = None) -> datetime:
    """The instant a token chosen to expire on `day` stops working: the end of that day
    where the OIG works (APP_TIMEZONE), that is the start of the next. `day` may be today,
    and at most a year later (`last_expiry_day`). Should the end of that day come more than
    MAX_LIFETIME after `now` (a year that spans 29 February, a daylight-saving shift),
    the token ends MAX_LIFETIME after `now`, on that same day."""
    check_expiry_day(day, today)
    return min(clock.start_of_day(day + timedelta(days=1), tz), now + MAX_LIFETIME)


def expiry_day(token: ApiToken, tz: str | None = None) -> date | None:
    """The day a token was chosen to expire on when its expiry is the end of a day where
    the OIG works (the start of the next); None when it ends at another instant."""
    utc_day = token.expires_at.date()
    for day in (utc_day - timedelta(days=2), utc_day - timedelta(days=1), utc_day):
        if clock.start_of_day(day + timedelta(days=1), tz) == token.expires_at:
            return day
    return None


def tokens_of(user: Any) -> sa.Select[Any]:
    """A user's tokens, newest first, with who revoked them."""
    return (
        sa.select(ApiToken)
        .where(ApiToken.user_id == user.id)
        .options(joinedload(ApiToken.revoked_by))
        .order_by(ApiToken.id.desc())
    )


def all_tokens() -> sa.Select[Any]:
    """Every token with its owner and who revoked it, newest first (administrators)."""
    return (
        sa.select(ApiToken)
        .options(joinedload(ApiToken.user), joinedload(ApiToken.revoked_by))
        .order_by(ApiToken.id.desc())
    )
