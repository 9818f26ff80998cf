"""Sending what is due in the outbox: run by a background job (Celery beat, or the
`notify run` command), never by a web request.

A run claims the due pending rows with one UPDATE ... WHERE state = 'pending' AND the
row is not claimed (or its claim ran out), stamping its own token: a second worker's
UPDATE skips rows the first one claimed (PostgreSQL re-checks the WHERE after waiting
for the row lock; SQLite runs one writer at a time), so no row is sent by two workers.
Each message is marked sent, and audited, in a commit of its own right after the server
accepts it. The only window for a repeat is a worker dying between the server's answer
and that commit; the claim then runs out and the message goes again with the same
Message-ID, so a receiver can tell.

A server that cannot be reached is tried again a minute later, however long it stays
away (no try of the message was made); a 4xx answer to a message is tried again later with
exponential backoff, up to MAIL_MAX_ATTEMPTS tries; a 5xx refusal of the recipient or
message is permanent, shown on the admin Outbox page. Like a job runner, this commits its
own work."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, joinedload

from app import audit, clock
from app.mail import compose
from app.mail.transport import PermanentFailure, TemporaryFailure, transport_for
from app.models import OutboxMessage, OutboxState
from app.observability import metrics

log = logging.getLogger(__name__)

CLAIM_FOR = timedelta(minutes=5)
BATCH = 200
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=6)
ACTOR = audit.AuditActor.system("mail")
DEACTIVATED = "The account was deactivated before the message was sent; nothing was sent."
# Kinds whose body holds a secret (a single-use link): emptied once sent or given up, so
# the outbox table keeps no usable link (app/auth/reset.py).
SECRET_KINDS = frozenset({"password_reset"})
SCRUBBED = "(removed once sent: it held a single-use link)"


def _scrub(row: OutboxMessage) -> None:
    if row.kind in SECRET_KINDS:
        row.body_text = row.body_html = SCRUBBED


def backoff(attempts: int) -> timedelta:
    """The wait before try number attempts + 1: 1, 2, 4, 8 ... minutes, at most 6 hours."""
    return min(FIRST_RETRY * (2 ** max(0, attempts - 1)), LONGEST_WAIT)


@dataclass
class Delivered:
    sent: int = 0
    retry_later: int = 0
    failed: int = 0


def claim(session: Session, now: datetime, limit: int = BATCH) -> str:
    """Claim the due pending rows for this run and commit; returns the run's token."""
    token = uuid.uuid4().hex
    free = sa.or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now)
    due = (
        sa.select(OutboxMessage.id)
        .where(OutboxMessage.state == OutboxState.PENDING, OutboxMessage.next_attempt_at <= now, free)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id.in_(due.scalar_subquery()), OutboxMessage.state == OutboxState.PENDING, free)
        .values(claimed_by=token, claimed_until=now + CLAIM_FOR)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return token


def _audit(session: Session, row: OutboxMessage, action: str, outcome: str = "success") -> None:
    audit.record(
        session,
        action,
        actor=ACTOR,
        object_type="users",
        object_id=row.user_id,
        changes={"outbox_id": row.id, "kind": row.kind, "key": row.key, "attempts": row.attempts},
        outcome=outcome,
    )


def _release(row: OutboxMessage) -> None:
    row.claimed_by = None
    row.claimed_until = None


def _fail(session: Session, row: OutboxMessage, reason: str) -> None:
    row.state = OutboxState.FAILED_PERMANENT
    row.last_error = reason
    _release(row)
    _scrub(row)
    _audit(session, row, "mail failed", "failure")
    log.warning("mail %s to user %s failed permanently: %s", row.id, row.user_id, reason)


def _wait_for_server(row: OutboxMessage, reason: str, now: datetime) -> None:
    row.attempts -= 1  # not a try of this message
    row.last_error = reason
    row.next_attempt_at = now + FIRST_RETRY
    _release(row)
    log.info("mail %s to user %s: %s; next try at %s", row.id, row.user_id, reason, row.next_attempt_at)


def _retry(session: Session, row: OutboxMessage, reason: str, now: datetime, max_attempts: int) -> bool:
    """Count a temporary failure; give up after max_attempts. True if it will be retried."""
    if row.attempts >= max_attempts:
        _fail(session, row, f"Gave up after {row.attempts} tries: {reason}")
        return False
    row.last_error = reason
    row.next_attempt_at = now + backoff(row.attempts)
    _release(row)
    log.info("mail %s to user %s: %s; next try at %s", row.id, row.user_id, reason, row.next_attempt_at)
    return True


def deliver_due(session: Session, now: datetime | None = None, limit: int = BATCH) -> Delivered:
    """Send every due pending message (up to `limit`), one commit per message."""
    app: Any = current_app._get_current_object()  # type: ignore[attr-defined]
    config = app.config
    now = now or clock.now()
    token = claim(session, now, limit)
    rows = session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.claimed_by == token, OutboxMessage.state == OutboxState.PENDING)
        .options(joinedload(OutboxMessage.user))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
    ).all()
    done = Delivered()
    links = compose.Links(app)
    transport = transport_for(config)
    try:
        for index, row in enumerate(rows):
            if not row.user.active:
                _fail(session, row, DEACTIVATED)
                done.failed += 1
                session.commit()
                continue
            row.attempts += 1
            try:
                transport.send(compose.build(row, config, links))
            except TemporaryFailure as exc:
                metrics.EMAILS_FAILED.inc()
                if exc.connection:
                    # The server is unreachable: that says nothing about this message, so
                    # it is not a try that counts towards giving up (an outage of a day
                    # must not fail the messages at the head of the queue); try again in
                    # a minute, and leave the rest for the next run, unclaimed.
                    _wait_for_server(row, str(exc), now)
                    done.retry_later += 1
                    for rest in rows[index + 1 :]:
                        _release(rest)
                    session.commit()
                    break
                if _retry(session, row, str(exc), now, int(config["MAIL_MAX_ATTEMPTS"])):
                    done.retry_later += 1
                else:
                    done.failed += 1
            except PermanentFailure as exc:
                metrics.EMAILS_FAILED.inc()
                _fail(session, row, str(exc))
                done.failed += 1
            else:
                metrics.EMAILS_SENT.inc()  # the server took it
                row.state = OutboxState.SENT
                row.sent_at = clock.now()
                row.last_error = ""
                _release(row)
                _scrub(row)
                _audit(session, row, "mail sent")
                done.sent += 1
            session.commit()
    finally:
        transport.close()
    return done
