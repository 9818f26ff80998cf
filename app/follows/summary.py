"""The weekly summary for followers: the status changes of the past week (the OIG's
Monday 00:00 to Monday 00:00) in the reports and components a user follows, only items
they may read (app.auth.policy), with identifiers, statuses, dates and links only. Sent
on Mondays, once per person per week (idempotency key), never when nothing changed, never
to a deactivated account or one that turned it off. A scheduler that was down on Monday
catches up on its next run that week (the latest week only: no flood of old summaries
after a long outage). Functions flush, never commit."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, selectinload

from app import clock
from app.auth import policy
from app.feeds import queries as feed_queries
from app.feeds.content import rec_heading, report_label
from app.lifecycle.clocks import long_date
from app.mail import compose, outbox
from app.models import Addressee, Follow, MailPreference, OutboxMessage, User

KIND = "follow_summary"


def week_of(monday: date) -> tuple[date, date]:
    """The week a Monday's summary covers: the seven days before it, [first, monday)."""
    return monday - timedelta(days=7), monday


def last_monday(day: date) -> date:
    """The most recent Monday on or before `day`: the summary a run on `day` plans."""
    return day - timedelta(days=day.weekday())


def summary_key(user_id: int, monday: date) -> str:
    """One summary per person per week: the ISO week the summary covers."""
    year, week, _ = week_of(monday)[0].isocalendar()
    return f"follow-summary:{user_id}:{year}-W{week:02d}"


@dataclass(frozen=True)
class Change:
    report: str
    rec: str
    status: str
    effective_on: date
    url: str


def _change(c: feed_queries.StatusChange, link: Any) -> Change:
    return Change(
        report=report_label(c.report_number, c.report_title),
        rec=rec_heading(c.rec_number),
        status=c.status_after.label,
        effective_on=c.effective_on,
        url=link("recommendations.detail", rec_id=c.rec_id),
    )


def _visible(user: Any) -> sa.ColumnElement[bool]:
    return sa.and_(policy.recommendation_visibility(user), policy.report_visibility(user))


def changes_for(
    session: Session, user: Any, report_ids: list[int], component_ids: list[int], monday: date, link: Any
) -> list[Change]:
    """The week's status changes in what the user follows and may read, oldest first."""
    first, last = week_of(monday)
    stmt = feed_queries.followed_status_changes(
        _visible(user), report_ids, component_ids, clock.start_of_day(first), clock.start_of_day(last)
    )
    rows = [feed_queries.StatusChange(*r) for r in session.execute(stmt)]
    rows.reverse()
    return [_change(c, link) for c in rows]


class _Changes:
    """The week's status changes for many followers with one query per reader scope
    (role and components: all that app.auth.policy's visibility depends on) instead of
    one per person: each scope's query covers everything its followers follow, and each
    follower keeps the rows of their own reports and components, as changes_for would."""

    def __init__(
        self,
        session: Session,
        users: list[Any],
        follows: dict[int, tuple[list[int], list[int]]],
        monday: date,
    ) -> None:
        first, last = week_of(monday)
        scopes: dict[tuple[Any, frozenset[int]], list[Any]] = defaultdict(list)
        for user in users:
            scopes[(user.role, user.component_ids)].append(user)
        self.rows: dict[tuple[Any, frozenset[int]], list[feed_queries.StatusChange]] = {}
        for scope, members in scopes.items():
            reports = sorted({r for u in members for r in follows[u.id][0]})
            components = sorted({c for u in members for c in follows[u.id][1]})
            stmt = feed_queries.followed_status_changes(
                _visible(members[0]), reports, components, clock.start_of_day(first), clock.start_of_day(last)
            )
            rows = [feed_queries.StatusChange(*r) for r in session.execute(stmt)]
            rows.reverse()
            self.rows[scope] = rows
        rec_ids = sorted({c.rec_id for rows in self.rows.values() for c in rows})
        self.addressed: dict[int, set[int]] = defaultdict(set)
        for rec_id, component_id in session.execute(
            sa.select(Addressee.recommendation_id, Addressee.component_id).where(
                Addressee.recommendation_id.in_(rec_ids)
            )
        ):
            self.addressed[rec_id].add(component_id)

    def of(self, user: Any, report_ids: list[int], component_ids: list[int], link: Any) -> list[Change]:
        reports, components = set(report_ids), set(component_ids)
        return [
            _change(c, link)
            for c in self.rows[(user.role, user.component_ids)]
            if c.report_id in reports or self.addressed[c.rec_id] & components
        ]


@dataclass
class Planned:
    queued: int = 0
    already: int = 0
    nothing_changed: int = 0


def plan_summaries(session: Session, day: date) -> Planned:
    """Queue each follower's summary of the week before the most recent Monday on or
    before `day` (the OIG's calendar): normally on Monday; if no run happened on Monday,
    on the first run after it that week. Once per person per week (its key); a week
    older than the latest is never planned."""
    planned = Planned()
    monday = last_monday(day)
    follows: dict[int, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for user_id, report_id, component_id in session.execute(
        sa.select(Follow.user_id, Follow.report_id, Follow.component_id).order_by(Follow.id)
    ):
        reports, components = follows[user_id]
        if report_id is not None:
            reports.append(report_id)
        if component_id is not None:
            components.append(component_id)
    if not follows:
        return planned
    turned_off = set(
        session.scalars(sa.select(MailPreference.user_id).where(MailPreference.follow_summary.is_(False)))
    )
    users = session.scalars(
        sa.select(User)
        .where(User.id.in_(list(follows)), User.active.is_(True))
        .options(selectinload(User.components))
        .order_by(User.id)
    ).all()
    # Runs later in the week skip, without a query each, those whose summary is written.
    existing = set(
        session.scalars(
            sa.select(OutboxMessage.key).where(
                OutboxMessage.key.in_([summary_key(u.id, monday) for u in users])
            )
        )
    )
    links = compose.Links(current_app)
    first, last = week_of(monday)
    wanted = [u for u in users if u.id not in turned_off and summary_key(u.id, monday) not in existing]
    changes_of = _Changes(session, wanted, follows, monday)
    for user in users:
        if user.id in turned_off:
            continue
        if summary_key(user.id, monday) in existing:
            planned.already += 1
            continue
        changes = changes_of.of(user, *follows[user.id], links)
        if not changes:
            planned.nothing_changed += 1
            continue
        n = len(changes)
        # Short enough for one header line (the week is in the body).
        subject = f"RecTrack: {n} status change{'s' if n != 1 else ''} in what you follow"
        context = {
            "changes": changes,
            "subject": subject,
            "first": first,
            "last": last - timedelta(days=1),
            "long_date": long_date,
            "preferences_url": links.preferences(),
        }
        written = outbox.enqueue_rendered(
            session,
            key=summary_key(user.id, monday),
            user=user,
            kind=KIND,
            subject=subject,
            template="follows/summary",
            context=context,
        )
        if written:
            planned.queued += 1
        else:
            planned.already += 1
    session.flush()
    return planned
