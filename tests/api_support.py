"""Tokens for the API tests: one per role's test account (tests/conftest.py EMAILS),
made with the token service and committed (a savepoint of the test's transaction) so
the requests that follow see them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from app import clock
from app.extensions import db
from app.models import TokenScope
from app.tokens import services as tokens
from tests.conftest import EMAILS, user_by_email


def make_token(role: str, scope: TokenScope = TokenScope.WRITE, **kw: Any) -> tokens.NewToken:
    """A token of the role's test account (a viewer's is read-only, as the service requires)."""
    user = user_by_email(EMAILS[role])
    if role == "viewer":
        scope = TokenScope.READ
    args: dict[str, Any] = {"name": f"{role} test token", "scope": scope, "now": clock.now()}
    args["expires_at"] = kw.pop("expires_at", clock.now() + timedelta(days=30))
    args.update(kw)
    new = tokens.create(db.session, user, **args)
    db.session.commit()
    return new


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def headers_for(role: str, scope: TokenScope = TokenScope.WRITE) -> dict[str, str]:
    return bearer(make_token(role, scope).secret)
