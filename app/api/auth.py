"""Who is calling the API: a personal access token in `Authorization: Bearer <token>`,
and nothing else. The session cookie never counts here (so /api needs no CSRF token and
a signed-in browser cannot be made to write through it), and a token never signs anyone
in to the pages. Each token has its own rate limit (API_RATE_LIMIT), counted in the
store the sign-in throttle uses (RATELIMIT_STORAGE_URI)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, abort, current_app, g, request
from limits import RateLimitItem
from werkzeug.exceptions import TooManyRequests, Unauthorized

from app import audit, clock
from app.auth import throttle
from app.auth.throttle import FallbackStore
from app.database import writing
from app.extensions import db
from app.models import ApiToken, TokenScope
from app.tokens import services as tokens
from app.web import client_ip

LIMITER_KEY = "rectrack_api_limiter"

REFUSED = {
    "missing": "Send a personal access token: Authorization: Bearer <token>.",
    "malformed": "The Authorization header does not hold a RecTrack token.",
    "unknown": "That token is not known.",
    "revoked": "That token was revoked.",
    "expired": "That token has expired.",
    "inactive": "The token's account is deactivated.",
}


@dataclass(frozen=True)
class Caller:
    """The token of this request and its user (the one the policy functions read)."""

    token: ApiToken
    user: Any

    @property
    def can_write(self) -> bool:
        return self.token.scope == TokenScope.WRITE


class ApiLimiter:
    """One moving window per token, in the sign-in throttle's store."""

    def __init__(self, store: FallbackStore, rate: str) -> None:
        self.store = store
        self.item: RateLimitItem = throttle.parse_rate(rate, "API_RATE_LIMIT", "600 per minute")

    def hit(self, token: ApiToken) -> int | None:
        """Count one request; the seconds to wait when the token has none left."""
        return throttle.hit_or_wait(self.store, self.item, "api-token", str(token.id), token.prefix)

    def reset(self) -> None:
        self.store.reset()


def init_app(app: Flask) -> None:
    """The API's limiter (after throttle.init_app: it counts in the same store)."""
    store = app.extensions[throttle.EXTENSION_KEY].store
    app.extensions[LIMITER_KEY] = ApiLimiter(store, app.config["API_RATE_LIMIT"])


def limiter() -> ApiLimiter:
    return current_app.extensions[LIMITER_KEY]


def _refuse(reason: str, token: ApiToken | None = None) -> None:
    g.api_refusal = {"token_refused": reason} | ({"token_id": token.id} if token is not None else {})
    raise Unauthorized(REFUSED[reason])


def bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if not header:
        return None
    if scheme.lower() != "bearer" or not secret.strip():
        return ""
    return secret.strip()


def authenticate() -> Caller:
    """The caller of this request, from its bearer token; 401 (recorded in the audit
    trail) without a usable one, 429 past the token's rate limit. The token's last use is
    saved at once, in its own commit: a refused or failed request still used it."""
    secret = bearer_secret()
    if secret is None:
        _refuse("missing")
    # Every call writes the token's last use, a GET's too. On SQLite its transaction takes
    # the write lock when it begins: a deferred one failed at once with "database is
    # locked" when another worker wrote in between (3% of API reads from two clients).
    with writing():
        try:
            token = tokens.authenticate(db.session, secret or "", now=clock.now(), address=client_ip())
        except tokens.TokenRefused as refused:
            _refuse(refused.reason, refused.token)
            raise  # unreachable: _refuse raises
        caller = Caller(token, token.user)
        audit.set_actor(db.session, audit.AuditActor.for_token(caller.user, token, client_ip()))
        db.session.commit()  # the last use (bookkeeping, not an audited change)
    g.api_refusal = {"token_id": token.id}
    wait = limiter().hit(token)
    if wait is not None:
        raise TooManyRequests(f"This token may make {limiter().item} requests.", retry_after=wait)
    return caller


def require_write(caller: Caller) -> None:
    """A change needs a token with write scope (403 otherwise)."""
    if not caller.can_write:
        abort(403, description="This token may only read. Make a token with read and write scope.")
