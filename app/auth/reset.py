"""Password reset by e-mail (README, "Password reset"). Services flush; the caller commits.

A request for an address writes, when an active account has it, a reset row holding
only the SHA-256 of a random token, and queues a message with the link to
/password/reset/<token>; for any other address it writes nothing but the audit event.
The page that asked says the same either way. The link works once, for
PASSWORD_RESET_MINUTES; using it sets a new password (the usual rules), ends every
session of the account and the run of failed sign-ins, and spends every other link
of the account.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from app import audit
from app.audit import AuditActor
from app.auth import throttle
from app.auth.passwords import hash_password
from app.auth.services import (
    AccountError,
    check_new_password,
    email_for_audit,
    normalize_email,
    user_by_email,
)
from app.mail import outbox
from app.models import PasswordResetToken, User

MAIL_KIND = "password_reset"
SUBJECT = "Reset your RecTrack password"
# What the link's page says when it cannot be used (the reason goes to the audit trail).
LINK_REFUSED = (
    "This password-reset link cannot be used: it has expired or was already used. "
    "Ask for a new one; the newest link works for an hour."
)

THROTTLED = "Too many requests for a reset link. Try again in {minutes}."


def throttled(email: str, source_ip: str | None) -> int | None:
    """Count a reset request per source address and per typed address (known or not, so
    the answer says nothing about the account): None if allowed, else the seconds to wait."""
    config = current_app.config
    store = throttle.current().store
    per_address = throttle.parse_rate(
        config["PASSWORD_RESET_LIMIT_PER_ADDRESS"], "PASSWORD_RESET_LIMIT_PER_ADDRESS"
    )
    per_email = throttle.parse_rate(
        config["PASSWORD_RESET_LIMIT_PER_EMAIL"], "PASSWORD_RESET_LIMIT_PER_EMAIL"
    )
    wait = throttle.hit_or_wait(store, per_address, "reset-address", throttle.source_key(source_ip))
    if wait is not None:
        return wait
    typed = normalize_email(email).encode()
    account = hmac.new(str(config["SECRET_KEY"]).encode(), typed, hashlib.sha256).hexdigest()[:32]
    return throttle.hit_or_wait(store, per_email, "reset-email", account)


def token_hash(token: str) -> str:
    """What is stored for a token: its SHA-256 (the token is 32 random bytes, so no salt
    or slow hash is needed to keep it from being guessed back)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Requested:
    """What a request did; the page shows none of it."""

    known: bool
    token: str | None = None  # for the message only; never stored or logged


def request_reset(
    session: Session,
    email: str,
    *,
    now: datetime,
    minutes: int,
    source_ip: str | None,
    link_for: Any,
) -> Requested:
    """Queue a reset link for the active account with this address, if there is one;
    audit the request either way. `link_for(token)` is the link's absolute address."""
    user = user_by_email(session, email)
    actor = AuditActor.for_user(user, source_ip) if user else AuditActor.anonymous(source_ip)
    if user is None or not user.active:
        audit.record(
            session,
            "password reset requested",
            actor=actor,
            object_type="users",
            object_id=user.id if user else None,
            changes={
                "email": email_for_audit(email, user),
                "known": False,
                "reason": "account disabled" if user else "unknown account",
            },
            outcome="denied",
        )
        session.flush()
        return Requested(known=False)
    token = secrets.token_urlsafe(32)
    row = PasswordResetToken(
        user_id=user.id,
        token_hash=token_hash(token),
        created_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )
    session.add(row)
    session.flush()
    link = link_for(token)
    outbox.enqueue_rendered(
        session,
        key=f"password-reset:{row.id}",
        user=user,
        kind=MAIL_KIND,
        subject=SUBJECT,
        template="mail/password_reset",
        context={"subject": SUBJECT, "url": link, "minutes": minutes},
    )
    audit.record(
        session,
        "password reset requested",
        actor=actor,
        object_type="users",
        object_id=user.id,
        changes={"email": user.email, "known": True, "reset_id": row.id, "expires_at": row.expires_at},
    )
    session.flush()
    return Requested(known=True, token=token)


def _refusal(row: PasswordResetToken | None, user: User | None, now: datetime) -> str | None:
    if row is None or user is None:
        return "unknown link"
    if row.used_at is not None:
        return "link already used"
    if now > row.expires_at:
        return "link expired"
    if not user.active:
        return "account disabled"
    return None


def usable(session: Session, token: str, *, now: datetime, source_ip: str | None) -> PasswordResetToken:
    """The reset row of a link that may still be used; else an audited AccountError."""
    row = session.scalar(
        sa.select(PasswordResetToken).where(PasswordResetToken.token_hash == token_hash(token))
    )
    user = session.get(User, row.user_id) if row is not None else None
    reason = _refusal(row, user, now)
    if reason is None:
        assert row is not None
        return row
    audit.record(
        session,
        "password reset refused",
        actor=AuditActor.for_user(user, source_ip) if user else AuditActor.anonymous(source_ip),
        object_type="users",
        object_id=user.id if user else None,
        changes={"reason": reason, **({"reset_id": row.id} if row is not None else {})},
        outcome="denied",
    )
    session.flush()
    raise AccountError(LINK_REFUSED, field=None)


def complete_reset(
    session: Session, token: str, password: str, confirm: str, *, now: datetime, source_ip: str | None
) -> User:
    """Set the account's new password through a usable link (AccountError otherwise):
    every session of the account ends, the failed sign-ins are forgotten, and every
    link of the account is spent."""
    row = usable(session, token, now=now, source_ip=source_ip)
    user = session.get(User, row.user_id)
    assert user is not None
    check_new_password(password, confirm, user.email, user.display_name)
    actor = AuditActor.for_user(user, source_ip)
    audit.set_actor(session, actor)  # the account's own change, by its owner
    user.password_hash = hash_password(password)
    user.session_version += 1
    user.failed_login_count = 0
    user.must_change_password = False
    session.execute(
        sa.update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    audit.record(
        session,
        "password reset",
        actor=actor,
        object_type="users",
        object_id=user.id,
        changes={"reset_id": row.id},
    )
    session.flush()
    return user
