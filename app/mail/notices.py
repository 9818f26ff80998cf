"""Event notices: a short message when something happens to an item the reader may see
and has asked to hear about (a response or closure request returned, a decision, a
reopening, a new recommendation for their component, a target date moved).

Read from the recommendations' history (RecommendationEvent), so no step has to remember
to send anything: each run looks at the events of the last NOTICE_WINDOW and writes one
outbox row per (reader, event), keyed "notice:<user>:<event>", so an event is noticed
once however many runs see it. Identifiers, the event's kind and date, and a link only:
never its note."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, joinedload, selectinload

from app import clock
from app.auth import policy
from app.lifecycle.clocks import long_date
from app.mail import compose
from app.mail.outbox import enqueue
from app.models import (
    Addressee,
    EventKind,
    MailPreference,
    NoticeKind,
    Recommendation,
    RecommendationEvent,
    Role,
    User,
)
from app.models.mail import default_notices

# Events this recent are noticed; the keys keep a second look from sending twice.
NOTICE_WINDOW = timedelta(days=2)

LIAISON_NOTICES = {
    EventKind.RESPONSE_RETURNED: NoticeKind.RESPONSE_RETURNED,
    EventKind.CLOSURE_RETURNED: NoticeKind.RESPONSE_RETURNED,
    EventKind.RESOLVED: NoticeKind.DECISION_MADE,
    EventKind.CLOSED: NoticeKind.DECISION_MADE,
    EventKind.REOPENED: NoticeKind.REOPENED,
    EventKind.CREATED: NoticeKind.NEW_RECOMMENDATION,
}


@dataclass
class NoticePlan:
    queued: int = 0


def _wanted(user: User, prefs: dict[int, MailPreference]) -> set[str]:
    pref = prefs.get(user.id)
    return set(pref.notices) if pref is not None else set(default_notices(user.role))


def _target_moved(session: Session, event: RecommendationEvent) -> bool:
    """Whether the event changed a target date the history already held for the part."""
    if event.target_date_after is None or event.addressee_id is None:
        return False
    before = session.scalar(
        sa.select(RecommendationEvent.target_date_after)
        .where(
            RecommendationEvent.addressee_id == event.addressee_id,
            RecommendationEvent.id < event.id,
            RecommendationEvent.target_date_after.is_not(None),
        )
        .order_by(RecommendationEvent.id.desc())
        .limit(1)
    )
    return before is not None and before != event.target_date_after


def _notice_kind(session: Session, event: RecommendationEvent) -> NoticeKind | None:
    if event.kind in LIAISON_NOTICES:
        return LIAISON_NOTICES[event.kind]
    return NoticeKind.TARGET_MOVED if _target_moved(session, event) else None


def plan_notices(session: Session) -> NoticePlan:
    """Queue a notice for each recent event to each active reader who wants its kind,
    may see the recommendation, and did not cause it."""
    plan = NoticePlan()
    links = compose.Links(current_app)
    events = (
        session.scalars(
            sa.select(RecommendationEvent)
            .where(RecommendationEvent.occurred_at >= clock.now() - NOTICE_WINDOW)
            .options(
                joinedload(RecommendationEvent.recommendation).joinedload(Recommendation.report),
                joinedload(RecommendationEvent.recommendation)
                .selectinload(Recommendation.addressees)
                .joinedload(Addressee.component),
                joinedload(RecommendationEvent.addressee).joinedload(Addressee.component),
            )
            .order_by(RecommendationEvent.id)
        )
        .unique()
        .all()
    )
    if not events:
        return plan
    users = session.scalars(
        sa.select(User).where(User.active.is_(True)).options(selectinload(User.components))
    ).all()
    prefs = {p.user_id: p for p in session.scalars(sa.select(MailPreference))}
    env = current_app.jinja_env
    for event in events:
        kind = _notice_kind(session, event)
        if kind is None:
            continue
        rec = event.recommendation
        parts = [event.addressee] if event.addressee is not None else list(rec.addressees)
        for user in users:
            if user.id == event.actor_id or kind.value not in _wanted(user, prefs):
                continue
            if user.created_at > event.occurred_at:
                continue  # an account made after the event: it happened before their time
            if kind == NoticeKind.TARGET_MOVED:
                if not policy.is_staff(user):
                    continue
                mine = parts
            else:
                if user.role != Role.LIAISON:
                    continue
                mine = [p for p in parts if p is not None and p.component_id in user.component_ids]
                if not mine:
                    continue
            if not policy.can_view_recommendation(user, rec):
                continue
            components = ", ".join(sorted({p.component.abbreviation for p in mine if p is not None}))
            name = f"{rec.report.display_number} {rec.tag}" + (f" ({components})" if components else "")
            context = {
                "name": name,
                "what": event.kind.label,
                "on": long_date(event.effective_on),
                "target": long_date(event.target_date_after)
                if kind == NoticeKind.TARGET_MOVED and event.target_date_after is not None
                else None,
                "url": links("recommendations.detail", rec_id=rec.id),
                "preferences_url": links.preferences(),
            }
            subject = f"RecTrack: {name}: {event.kind.label}"
            written = enqueue(
                session,
                key=f"notice:{user.id}:{event.id}",
                user=user,
                kind=f"notice:{kind.value}",
                subject=subject[:300],
                body_text=env.get_template("mail/notice.txt").render(context),
                body_html=env.get_template("mail/notice.html").render({**context, "subject": subject}),
            )
            plan.queued += int(written)
    session.flush()
    return plan
