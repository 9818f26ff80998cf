"""The Celery tasks of e-mail: thin, they call the outbox and delivery services."""

from __future__ import annotations

from celery import shared_task

from app import audit, clock
from app.database import writing
from app.extensions import db
from app.follows import summary as follow_summary
from app.mail import delivery, notices, outbox


@shared_task(name="rectrack.mail_plan_digests")
def plan_digests() -> int:
    """Queue today's digests (the OIG's today) and the followers' weekly summaries (on
    Mondays, or the first run after a missed Monday), then send them."""
    today = clock.today()
    with writing():  # reads, then writes the outbox: on SQLite, the write lock from the start
        audit.set_actor(db.session, delivery.ACTOR)
        planned = outbox.plan_digests(db.session, today)
        follow_summary.plan_summaries(db.session, today)
        db.session.commit()
    delivery.deliver_due(db.session)
    return planned.queued


@shared_task(name="rectrack.mail_deliver")
def deliver() -> int:
    """Queue the notices of recent events, then send what is due in the outbox (new
    messages, and retries whose wait is over)."""
    with writing():
        audit.set_actor(db.session, delivery.ACTOR)
        notices.plan_notices(db.session)
        db.session.commit()
    return delivery.deliver_due(db.session).sent
