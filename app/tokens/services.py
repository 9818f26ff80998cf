"""Making, checking and revoking personal access tokens. Services flush, never commit,
and take the acting user and `now` explicitly."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from app.models import ApiToken, Role, TokenScope
from app.service_errors import ServiceError

PREFIX = "rt_"
MAX_LIFETIME = timedelta(days=366)  # "at most a year": a year from today, leap day included
NAME_LENGTH = 100


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
    if token.revoked_at is not None:
        raise TokenRefused("revoked", token)
    if now >= token.expires_at:
        raise TokenRefused("expired", token)
    if not token.user.active:
        raise TokenRefused("inactive", token)
    token.last_used_at = now
    token.last_used_address = (address or "")[:45] or None
    session.flush()
    return token


def revoke(session: Session, token: ApiToken, *, by: Any, now: datetime) -> None:
    """Revoke a token (its owner, or an administrator). Revoking twice changes nothing."""
    if token.user_id != by.id and by.role != Role.ADMIN:
        raise TokenError("Only the token's owner or an administrator can revoke it.", status=403)
    if token.revoked_at is None:
        token.revoked_at = now
        token.revoked_by_id = by.id
        session.flush()


def tokens_of(user: Any) -> sa.Select[Any]:
    """A user's tokens, newest first."""
    return sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())


def all_tokens() -> sa.Select[Any]:
    """Every token with its owner, newest first (administrators)."""
    return sa.select(ApiToken).options(joinedload(ApiToken.user)).order_by(ApiToken.id.desc())
