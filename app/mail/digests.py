"""What a digest says: for a liaison, their components' overdue and soon-due items and
what the OIG returned; for OIG staff, what waits on them. Identifiers, statuses, dates
and links only: never recommendation, response, plan or update text, and only items the
recipient may read (app.auth.policy). Due dates are the stored ones the pages show, and
"overdue" is the pages' own comparison (app.lifecycle.deadlines)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, contains_eager, joinedload

from app.auth import policy
from app.lifecycle import deadlines
from app.lifecycle.clocks import long_date
from app.lifecycle.queries import count_of, queues_for
from app.models import (
    Addressee,
    ClosureState,
    Component,
    Recommendation,
    RecStatus,
    Report,
    ResponseState,
    Role,
    Sensitivity,
)

LinkFor = Callable[..., str]
STAFF_LIST_LIMIT = 25  # rows per section of the staff digest; the rest are on the work page


@dataclass(frozen=True)
class Item:
    """One clock of one component's part of a recommendation."""

    report_number: str
    rec_tag: str  # "#3"
    component: str  # abbreviation
    clock: str  # "Response", "Revised response", "Update", "Target completion"
    due: date
    url: str

    @property
    def name(self) -> str:
        return f"{self.report_number} {self.rec_tag} ({self.component})"


@dataclass(frozen=True)
class Returned:
    """A response or closure request the OIG returned. The reason is given for public
    recommendations only: a restricted one's reason stays on its page."""

    report_number: str
    rec_tag: str
    component: str
    what: str  # "Response returned", "Closure request returned"
    on: date | None
    reason: str | None
    url: str

    @property
    def name(self) -> str:
        return f"{self.report_number} {self.rec_tag} ({self.component})"


@dataclass(frozen=True)
class NewRec:
    """A recommendation addressed to one of the liaison's components, entered in the
    digest's period."""

    report_number: str
    rec_tag: str
    component: str
    tracked_since: date
    url: str

    @property
    def name(self) -> str:
        return f"{self.report_number} {self.rec_tag} ({self.component})"


@dataclass
class LiaisonDigest:
    today: date
    lookahead_days: int
    overdue: list[Item] = field(default_factory=list)
    due_soon: list[Item] = field(default_factory=list)
    returned: list[Returned] = field(default_factory=list)
    new: list[NewRec] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.overdue or self.due_soon or self.returned or self.new)

    @property
    def horizon(self) -> date:
        return self.today + timedelta(days=self.lookahead_days)


def _clocks(part: Addressee) -> list[tuple[str, date | None, str]]:
    """(label, due date, the slug of the step that answers it: its form is the link)."""
    response = "Revised response" if part.response_due_on is not None else "Response"
    return [
        (response, part.response_due, "respond"),
        ("Update", part.update_due, "update"),
        ("Target completion", part.target_due, "update"),
    ]


def _form_link(link: LinkFor, part: Addressee, slug: str) -> str:
    """The addressee's form for the step (sign-in comes back to it: `next`)."""
    return link("lifecycle.step", rec_id=part.recommendation_id, addressee_id=part.id, slug=slug)


# Overdue: the pages' comparison (a due date before today), the same for each clock.
_LATE = deadlines.CLOCK_FILTERS_BY_NAME["response_overdue"]


def liaison_digest(
    session: Session, user: Any, today: date, lookahead_days: int, link: LinkFor, period_days: int = 1
) -> LiaisonDigest:
    """The liaison's components' parts: clocks overdue or due by today + lookahead_days
    (inclusive), responses and closure requests the OIG returned, and recommendations
    entered in the `period_days` days before today (a daily digest: yesterday's; every
    day is in exactly one digest when they run each period)."""
    digest = LiaisonDigest(today=today, lookahead_days=lookahead_days)
    component_ids = user.component_ids
    if not component_ids:
        return digest
    horizon = digest.horizon
    first_new = today - timedelta(days=period_days)
    parts = session.scalars(
        sa.select(Addressee)
        .join(Addressee.recommendation)
        .join(Recommendation.report)
        .where(
            Addressee.component_id.in_(component_ids),
            Recommendation.status.in_(RecStatus.open_values()),
            policy.recommendation_visibility(user),
            sa.or_(
                Addressee.response_due <= horizon,
                Addressee.update_due <= horizon,
                Addressee.target_due <= horizon,
                Addressee.response_state == ResponseState.RETURNED,
                Addressee.closure_state == ClosureState.RETURNED,
                Recommendation.tracked_since.between(first_new, today - timedelta(days=1)),
            ),
        )
        .options(
            contains_eager(Addressee.recommendation).contains_eager(Recommendation.report),
            joinedload(Addressee.component),
        )
        .order_by(Report.number, Recommendation.number.nulls_last(), Recommendation.id, Addressee.id)
    ).all()
    for part in parts:
        rec = part.recommendation
        url = link("recommendations.detail", rec_id=rec.id)
        where = (rec.report.display_number, rec.tag, part.component.abbreviation)
        for label, due, slug in _clocks(part):
            if due is None:
                continue
            if _LATE.matches(due, today):
                digest.overdue.append(Item(*where, label, due, _form_link(link, part, slug)))
            elif due <= horizon:
                digest.due_soon.append(Item(*where, label, due, _form_link(link, part, slug)))
        if first_new <= rec.tracked_since < today:
            digest.new.append(NewRec(*where, rec.tracked_since, url))
        public = rec.sensitivity == Sensitivity.PUBLIC
        if part.response_state == ResponseState.RETURNED and rec.status == RecStatus.OPEN_UNRESOLVED:
            reason = part.evaluation_note if public else None
            respond = _form_link(link, part, "respond")
            digest.returned.append(Returned(*where, "Response returned", None, reason, respond))
        if part.closure_state == ClosureState.RETURNED:
            reason = part.closure_note if public else None
            digest.returned.append(
                Returned(
                    *where,
                    "Closure request returned",
                    part.closure_state_on,
                    reason,
                    _form_link(link, part, "request-closure"),
                )
            )
    digest.overdue.sort(key=lambda i: (i.due, i.name))
    digest.due_soon.sort(key=lambda i: (i.due, i.name))
    return digest


@dataclass
class StaffSection:
    key: str
    title: str
    count: int
    rows: list[tuple[str, str]]  # (name, address)


@dataclass
class StaffDigest:
    today: date
    work_url: str
    sections: list[StaffSection] = field(default_factory=list)
    updates_overdue: list[tuple[str, int]] = field(default_factory=list)  # (component, count)

    @property
    def empty(self) -> bool:
        return not (any(s.count for s in self.sections) or self.updates_overdue)


def _row_name(row: Any) -> tuple[str, int]:
    if isinstance(row, Addressee):
        rec = row.recommendation
        return f"{rec.report.display_number} {rec.tag} ({row.component.abbreviation})", rec.id
    return f"{row.report.display_number} {row.tag}", row.id


def staff_digest(session: Session, user: Any, today: date, interval_days: int, link: LinkFor) -> StaffDigest:
    """OIG staff: the work page's queues (responses awaiting evaluation, closure requests
    awaiting decision, resolutions past 6 months), and overdue updates by component."""
    digest = StaffDigest(today=today, work_url=link("lifecycle.work"))
    for queue in queues_for(user, today, interval_days):
        count = session.scalar(count_of(queue.stmt)) or 0
        rows = session.scalars(queue.stmt.limit(STAFF_LIST_LIMIT)).unique().all() if count else []
        named = [_row_name(r) for r in rows]
        digest.sections.append(
            StaffSection(
                queue.key,
                queue.title,
                count,
                [(name, link("recommendations.detail", rec_id=rec_id)) for name, rec_id in named],
            )
        )
    digest.updates_overdue = [
        (abbreviation, n)
        for abbreviation, n in session.execute(
            sa.select(Component.abbreviation, sa.func.count())
            .select_from(Addressee)
            .join(Component, Component.id == Addressee.component_id)
            .join(Recommendation, Recommendation.id == Addressee.recommendation_id)
            .where(
                Recommendation.status.in_(RecStatus.open_values()),
                deadlines.addressee_late("update_overdue", today),
            )
            .group_by(Component.abbreviation)
            .order_by(Component.abbreviation)
        )
    ]
    return digest


def subject_of(digest: LiaisonDigest | StaffDigest) -> str:
    """Counts and a date only."""
    if isinstance(digest, StaffDigest):
        waiting = sum(s.count for s in digest.sections)
        return f"RecTrack: {waiting} items await the OIG ({long_date(digest.today)})"
    parts = []
    if digest.overdue:
        parts.append(f"{len(digest.overdue)} overdue")
    if digest.due_soon:
        parts.append(f"{len(digest.due_soon)} due by {long_date(digest.horizon)}")
    if digest.returned:
        parts.append(f"{len(digest.returned)} returned")
    if digest.new:
        parts.append(f"{len(digest.new)} new")
    return f"RecTrack digest: {', '.join(parts)}"


def digest_for(
    session: Session, user: Any, today: date, config: Any, link: LinkFor, period_days: int = 1
) -> LiaisonDigest | StaffDigest | None:
    """The digest of the user's role (None: read-only accounts get none)."""
    if user.role == Role.LIAISON:
        lookahead = int(config["MAIL_DIGEST_LOOKAHEAD_DAYS"])
        return liaison_digest(session, user, today, lookahead, link, period_days)
    if policy.is_staff(user):
        return staff_digest(session, user, today, int(config["UPDATE_INTERVAL_DAYS"]), link)
    return None
