"""The scheduler's daily look for dormant accounts (Celery beat, at ACCOUNT_DORMANT_HOUR
in APP_TIMEZONE; app/jobs/celery_app.py)."""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from app import audit, clock
from app.auth import dormancy
from app.extensions import db
from app.mail import delivery
from app.mail.compose import Links


def sweep_dormant() -> dormancy.Swept:
    """Warn and disable (committed), then send the warnings."""
    config = current_app.config
    audit.set_actor(db.session, dormancy.ACTOR)
    swept = dormancy.sweep(
        db.session,
        now=clock.now(),
        days=int(config["ACCOUNT_DORMANT_DAYS"]),
        warning_days=int(config["ACCOUNT_DORMANT_WARNING_DAYS"]),
        login_url=Links(current_app)("auth.login"),
        tz=config["APP_TIMEZONE"],
    )
    db.session.commit()
    if swept.warned:
        audit.set_actor(db.session, delivery.ACTOR)
        delivery.deliver_due(db.session)
    return swept


@shared_task(name="rectrack.accounts_dormant")
def dormant() -> int:
    """The number of accounts warned or disabled."""
    swept = sweep_dormant()
    return swept.warned + swept.disabled
