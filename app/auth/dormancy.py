"""Dormant accounts (README, "Dormant accounts"; NIST SP 800-53 AC-2(3)). Services flush;
the caller (the scheduler's task, app/auth/tasks.py) commits.

An account's dormancy counts from its last use: the latest of its last sign-in, the day an
administrator last re-enabled it, and its creation (for one never signed in to). With
ACCOUNT_DORMANT_DAYS = 90 and ACCOUNT_DORMANT_WARNING_DAYS = 14:

- warned once the last use is 76 days (90 - 14) old or more, once per dormancy period (a
  sign-in or re-enabling starts a new period, and a new warning then);
- disabled once the last use is 90 days old or more (its sessions end).

Days are whole 24-hour periods of the instant: used at 09:00 on day 0, the account is
warned by the first run at or after 09:00 on day 76 and disabled by the first run at or
after 09:00 on day 90. The scheduler runs daily, so in practice both happen within a day
of those instants. Admins re-enable an account on its form (services.update_user).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from app import audit
from app.mail import outbox
from app.models import User

ACTOR = audit.AuditActor.system("dormant accounts")
MAIL_KIND = "dormancy_warning"
SUBJECT = "Your RecTrack account will be disabled if it stays unused"


def last_used(user: User) -> datetime:
    """When the account was last used: the latest of sign-in, re-enabling and creation."""
    return max(t for t in (user.last_login_at, user.enabled_at, user.created_at) if t is not None)


@dataclass
class Swept:
    warned: int = 0
    disabled: int = 0


def sweep(session: Session, *, now: datetime, days: int, warning_days: int, login_url: str, tz: str) -> Swept:
    """Warn the accounts close to dormancy and disable the dormant ones (audited)."""
    done = Swept()
    warn_after = timedelta(days=days - warning_days)
    disable_after = timedelta(days=days)
    # Only accounts at least warn_after old can be concerned; the rule itself is in Python.
    oldest = now - warn_after
    users = session.scalars(
        sa.select(User)
        .where(User.active.is_(True), User.created_at <= oldest)
        .options(selectinload(User.components))
        .order_by(User.id)
    ).all()
    for user in users:
        since = last_used(user)
        idle = now - since
        if idle >= disable_after:
            _disable(session, user, since, days)
            done.disabled += 1
        elif idle >= warn_after and (user.dormancy_warned_at is None or user.dormancy_warned_at < since):
            _warn(session, user, since, now, (since + disable_after).astimezone(ZoneInfo(tz)), login_url)
            done.warned += 1
    session.flush()
    return done


def _disable(session: Session, user: User, since: datetime, days: int) -> None:
    user.active = False
    user.session_version += 1  # signed out everywhere
    audit.record(
        session,
        "account disabled: dormant",
        actor=ACTOR,
        object_type="users",
        object_id=user.id,
        changes={"last_used": since, "days": days},
    )


def _warn(
    session: Session, user: User, since: datetime, now: datetime, disable_at: datetime, login_url: str
) -> None:
    user.dormancy_warned_at = now
    context: dict[str, Any] = {
        "subject": SUBJECT,
        "url": login_url,
        "disable_on": f"{disable_at:%B} {disable_at.day}, {disable_at.year}",
    }
    outbox.enqueue_rendered(
        session,
        key=f"dormancy-warning:{user.id}:{since.isoformat()}",
        user=user,
        kind=MAIL_KIND,
        subject=SUBJECT,
        template="mail/dormancy_warning",
        context=context,
    )
    audit.record(
        session,
        "dormant account warned",
        actor=ACTOR,
        object_type="users",
        object_id=user.id,
        changes={"last_used": since, "disable_at": disable_at},
    )
