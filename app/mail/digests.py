"""What a digest says: for a liaison, their components' overdue and soon-due items and
what the OIG returned; for OIG staff, what waits on them. Identifiers, statuses, dates
and links only: never recommendation, response, plan or update text, and only items the
recipient may read (app.auth.policy). Due dates are the stored ones the pages show, and
"overdue" is the pages' own comparison (app.lifecycle.deadlines)."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
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


def _liaison_parts(
    session: Session,
    component_ids: Any,
    visible: sa.ColumnElement[bool],
    horizon: date,
    new_from: date,
    today: date,
) -> list[Addressee]:
    """The open parts of the components that a liaison digest may list: a clock due by the
    horizon, something returned, or entered between new_from and yesterday."""
    return list(
        session.scalars(
            sa.select(Addressee)
            .join(Addressee.recommendation)
            .join(Recommendation.report)
            .where(
                Addressee.component_id.in_(component_ids),
                Recommendation.status.in_(RecStatus.open_values()),
                visible,
                sa.or_(
                    Addressee.response_due <= horizon,
                    Addressee.update_due <= horizon,
                    Addressee.target_due <= horizon,
                    Addressee.response_state == ResponseState.RETURNED,
                    Addressee.closure_state == ClosureState.RETURNED,
                    Recommendation.tracked_since.between(new_from, today - timedelta(days=1)),
                ),
            )
            .options(
                contains_eager(Addressee.recommendation).contains_eager(Recommendation.report),
                joinedload(Addressee.component),
            )
            .order_by(Report.number, Recommendation.number.nulls_last(), Recommendation.id, Addressee.id)
        ).all()
    )


def _fill(
    digest: LiaisonDigest, parts: Iterable[Addressee], link: LinkFor, period_days: int
) -> LiaisonDigest:
    """The digest's lists from the parts (in the parts' order). Each list checks its own
    condition, so parts fetched for a longer period or more components than this
    digest's are only those it lists."""
    today, horizon = digest.today, digest.horizon
    first_new = today - timedelta(days=period_days)
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
    first_new = today - timedelta(days=period_days)
    visible = policy.recommendation_visibility(user)
    parts = _liaison_parts(session, component_ids, visible, digest.horizon, first_new, today)
    return _fill(digest, parts, link, period_days)


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


class Planner:
    """The digests of a whole run (app.mail.outbox.plan_digests), with one query per kind
    instead of one per person: a liaison's digest depends only on their components and
    its period, a staff digest on nothing personal, so each is made once and shared.

    Liaisons: one query for the parts of every component any liaison serves, over the
    longest period asked for; each set of components takes its own components' parts
    (in the query's order) and its own period (_fill checks each condition again). The
    visibility rule needs no query of its own here: every part listed is addressed to
    one of the reader's components, and a liaison reads every recommendation addressed
    to one of theirs (app.auth.policy.recommendation_visibility)."""

    def __init__(
        self, session: Session, today: date, config: Any, link: LinkFor, users: Iterable[Any]
    ) -> None:
        self.session, self.today, self.config, self.link = session, today, config, link
        self.lookahead = int(config["MAIL_DIGEST_LOOKAHEAD_DAYS"])
        self.components: frozenset[int] = frozenset(
            c for u in users if u.role == Role.LIAISON for c in u.component_ids
        )
        self._parts: dict[int, list[tuple[int, Addressee]]] | None = None
        self._period = 0
        self._liaison: dict[tuple[frozenset[int], int], LiaisonDigest] = {}
        self._staff: StaffDigest | None = None

    def _parts_by_component(self, period_days: int) -> dict[int, list[tuple[int, Addressee]]]:
        if self._parts is None or period_days > self._period:
            self._period = max(period_days, 7)  # a weekly digest's week: one query serves both
            horizon = self.today + timedelta(days=self.lookahead)
            parts = _liaison_parts(
                self.session,
                self.components,
                sa.true(),  # see the class's note on visibility
                horizon,
                self.today - timedelta(days=self._period),
                self.today,
            )
            self._parts = {}
            for n, part in enumerate(parts):
                self._parts.setdefault(part.component_id, []).append((n, part))
        return self._parts

    def liaison(self, component_ids: frozenset[int], period_days: int) -> LiaisonDigest:
        key = (component_ids, period_days)
        if key not in self._liaison:
            digest = LiaisonDigest(today=self.today, lookahead_days=self.lookahead)
            if component_ids:
                by_component = self._parts_by_component(period_days)
                mine = heapq.merge(*(by_component.get(c, []) for c in sorted(component_ids)))
                _fill(digest, (part for _n, part in mine), self.link, period_days)
            self._liaison[key] = digest
        return self._liaison[key]

    def staff(self, user: Any) -> StaffDigest:
        """The staff digest: the same for every administrator and OIG staff member (their
        queues are the role's, and they read everything)."""
        if self._staff is None:
            self._staff = staff_digest(
                self.session, user, self.today, int(self.config["UPDATE_INTERVAL_DAYS"]), self.link
            )
        return self._staff

    def digest_for(self, user: Any, period_days: int = 1) -> LiaisonDigest | StaffDigest | None:
        """As digest_for (below), shared with everyone whose digest is the same."""
        if user.role == Role.LIAISON:
            return self.liaison(user.component_ids, period_days)
        if policy.is_staff(user):
            return self.staff(user)
        return None


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
