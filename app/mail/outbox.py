"""Writing messages to the outbox, exactly once per key, and planning the day's digests.

A message is written once under its idempotency key (recipient, kind, period): the
INSERT does nothing when the key is already there (ON CONFLICT DO NOTHING on both
databases), so a second run of the scheduler the same day, a retried task, a restarted
worker or two schedulers at once add nothing. These functions flush, never commit."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from app import audit, clock
from app.mail import compose, digests
from app.models import DigestFrequency, MailPreference, OutboxMessage, OutboxState, User
from app.models.mail import default_notices, preference_defaults

log = logging.getLogger(__name__)

INVALID_ADDRESS = "The account's e-mail address is not a valid address; nothing was sent."
MAIL_ACTOR = audit.AuditActor.system("mail")  # as app.mail.delivery.ACTOR


def digest_key(user_id: int, day: date) -> str:
    """One digest per person per day, whatever the frequency: daily and weekly share it."""
    return f"digest:{user_id}:{day.isoformat()}"


def address_problem(address: str) -> str | None:
    """Why an address cannot be mailed, or None."""
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return INVALID_ADDRESS
    return None


def enqueue(
    session: Session, *, key: str, user: Any, kind: str, subject: str, body_text: str, body_html: str
) -> bool:
    """Write one message unless its key is already in the outbox; True if written. An
    account whose address is not valid gets a row that failed at once (admins see it)."""
    now = clock.now()
    problem = address_problem(user.email)
    values = {
        "key": key,
        "user_id": user.id,
        "recipient": user.email,
        "kind": kind,
        "subject": subject,
        "body_text": body_text,
        "body_html": body_html,
        "state": OutboxState.FAILED_PERMANENT if problem else OutboxState.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": problem or "",
        "created_at": now,
    }
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    # RETURNING says whether a row went in (an ORM-enabled INSERT's rowcount may be -1).
    stmt = insert(OutboxMessage).values(**values).on_conflict_do_nothing(index_elements=["key"])
    written = session.execute(stmt.returning(OutboxMessage.id)).scalar()
    if written is not None and problem:
        # As a refused recipient: in the log, the audit trail and the admins' Outbox page.
        log.warning("mail %s to user %s failed permanently: %s", written, user.id, problem)
        audit.record(
            session,
            "mail failed",
            actor=MAIL_ACTOR,
            object_type="users",
            object_id=user.id,
            changes={"outbox_id": written, "kind": kind, "key": key, "attempts": 0},
            outcome="failure",
        )
    return written is not None


def preference_of(session: Session, user: Any) -> DigestFrequency:
    pref = session.get(MailPreference, user.id)
    return pref.digest if pref is not None else preference_defaults(user.role)


def wants_digest_on(frequency: DigestFrequency, day: date) -> bool:
    """Daily: every day; weekly: Mondays (in the OIG's calendar); off: never."""
    if frequency == DigestFrequency.DAILY:
        return True
    return frequency == DigestFrequency.WEEKLY and day.weekday() == 0


FREQUENCY_WORDS = {DigestFrequency.DAILY: "each day something is due", DigestFrequency.WEEKLY: "each Monday"}


def enqueue_rendered(
    session: Session, *, key: str, user: Any, kind: str, subject: str, template: str, context: dict[str, Any]
) -> bool:
    """`enqueue` with its plain and HTML bodies rendered from `template`.txt and .html."""
    env = current_app.jinja_env
    return enqueue(
        session,
        key=key,
        user=user,
        kind=kind,
        subject=subject,
        body_text=env.get_template(f"{template}.txt").render(context),
        body_html=env.get_template(f"{template}.html").render(context),
    )


@dataclass
class Planned:
    queued: int = 0
    already: int = 0  # an earlier run had queued them
    nothing_due: int = 0


def plan_digests(session: Session, day: date, config: Any | None = None) -> Planned:
    """Queue `day`'s digests: one for each active user who wants one that day and has
    something in it (nothing due: no mail). Deactivated accounts get nothing. Everyone
    whose digest is the same (digests.Planner) shares one made and rendered once."""
    config = config if config is not None else current_app.config
    links = compose.Links(current_app)
    planned = Planned()
    users = session.scalars(
        sa.select(User).where(User.active.is_(True)).options(selectinload(User.components)).order_by(User.id)
    ).all()
    prefs = {p.user_id: p.digest for p in session.scalars(sa.select(MailPreference))}
    existing = set(
        session.scalars(
            sa.select(OutboxMessage.key).where(OutboxMessage.key.in_([digest_key(u.id, day) for u in users]))
        )
    )
    planner = digests.Planner(session, day, config, links, users)
    rendered: dict[tuple[int, DigestFrequency], tuple[str, str, str]] = {}
    env = current_app.jinja_env
    for user in users:
        frequency = prefs.get(user.id) or preference_defaults(user.role)
        if not wants_digest_on(frequency, day):
            continue
        key = digest_key(user.id, day)
        if key in existing:
            planned.already += 1
            continue
        period_days = 7 if frequency == DigestFrequency.WEEKLY else 1
        digest = planner.digest_for(user, period_days)
        if digest is None or digest.empty:
            planned.nothing_due += 1
            continue
        shared = (id(digest), frequency)  # the planner keeps each digest for the whole run
        if shared not in rendered:
            name = "staff_digest" if isinstance(digest, digests.StaffDigest) else "liaison_digest"
            subject = digests.subject_of(digest)
            context = {
                "d": digest,
                "subject": subject,
                "frequency": FREQUENCY_WORDS[frequency],
                "preferences_url": links.preferences(),
                "long_date": digests.long_date,
            }
            rendered[shared] = (
                subject,
                env.get_template(f"mail/{name}.txt").render(context),
                env.get_template(f"mail/{name}.html").render(context),
            )
        subject, body_text, body_html = rendered[shared]
        written = enqueue(
            session,
            key=key,
            user=user,
            kind="digest",
            subject=subject,
            body_text=body_text,
            body_html=body_html,
        )
        if written:
            planned.queued += 1
        else:
            planned.already += 1
    session.flush()
    return planned


def delivery_log(session: Session, state: OutboxState | None = None, limit: int = 200) -> list[OutboxMessage]:
    """The newest messages (of one state), for the admin Outbox page."""
    stmt = sa.select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    if state is not None:
        stmt = stmt.where(OutboxMessage.state == state)
    return list(session.scalars(stmt.limit(limit)))


def state_counts(session: Session) -> dict[OutboxState, int]:
    counts = dict(
        session.execute(sa.select(OutboxMessage.state, sa.func.count()).group_by(OutboxMessage.state)).all()
    )
    return {s: counts.get(s, 0) for s in OutboxState}


def everyone_settings(session: Session) -> list[tuple[User, DigestFrequency, list[str]]]:
    """Each account with its digest frequency (the default when never chosen) and notices."""
    prefs = {p.user_id: p for p in session.scalars(sa.select(MailPreference))}
    users = session.scalars(sa.select(User).order_by(User.email)).all()
    return [
        (
            u,
            prefs[u.id].digest if u.id in prefs else preference_defaults(u.role),
            list(prefs[u.id].notices) if u.id in prefs else default_notices(u.role),
        )
        for u in users
    ]
