"""Deadline clocks for recommendations: in words on pages, and as SQL criteria for lists.

Both read the same rules in app.lifecycle.clocks, so a list filtered on "response
overdue" holds exactly the recommendations whose page says "Response overdue by ...".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from app.lifecycle import clocks
from app.lifecycle.clocks import AgeBucket, Clock
from app.models import Addressee, ClosureState, Concurrence, Recommendation, RecStatus, Report, ResponseState

AWAITING_RESPONSE = (ResponseState.NONE, ResponseState.RETURNED)
NO_UPDATES_NON_CONCUR = "No progress updates due: did not concur and has no corrective action plan"


@dataclass(frozen=True)
class RecommendationClocks:
    resolution: Clock | None  # while Open–Unresolved (OMB A-50)
    gao_ig_act: bool  # open one year or more after issuance
    age: AgeBucket
    response_due: date
    resolution_due: date


@dataclass(frozen=True)
class AddresseeClocks:
    response: Clock | None  # while no acceptable response is in
    update: Clock | None  # while Open–Resolved, for an addressee that owes updates
    target: Clock | None  # while open with a target date
    no_update: str = ""  # why an Open–Resolved addressee has no update clock, in words


def issue_date_approximate(rec: Recommendation) -> bool:
    """Whether the clocks counted from the issue date are approximate (a Recommendation
    or a RecSnapshot, whose report is loaded)."""
    return bool(rec.report.issued_on_approximate)


def recommendation_clocks(rec: Recommendation, issued: date, today: date) -> RecommendationClocks:
    open_ = rec.status.is_open
    resolution = None
    if rec.status == RecStatus.OPEN_UNRESOLVED:
        resolution = Clock("Resolution", clocks.resolution_due(issued), today, issue_date_approximate(rec))
    return RecommendationClocks(
        resolution=resolution,
        gao_ig_act=clocks.is_gao_ig_act(issued, open_, today),
        age=clocks.age_bucket(issued, today if open_ or rec.closed_on is None else rec.closed_on),
        response_due=clocks.response_due(issued),
        resolution_due=clocks.resolution_due(issued),
    )


def owes_updates(addressee: Addressee) -> bool:
    """Whether a resolved addressee reports progress. One that did not concur and has no
    corrective action plan (none is asked of a non-concurrence) has nothing to report on.
    The same rule in SQL: owes_updates_criterion()."""
    return not (addressee.concurrence == Concurrence.NON_CONCUR and not addressee.corrective_action_plan)


def owes_updates_criterion() -> sa.ColumnElement[bool]:
    """owes_updates() in SQL, on Addressee."""
    return sa.or_(Addressee.concurrence != Concurrence.NON_CONCUR, Addressee.corrective_action_plan != "")


def response_clock(rec: Recommendation, addressee: Addressee, issued: date, today: date) -> Clock | None:
    """While Open–Unresolved and no acceptable response is in: due 90 days after the issue
    date, or, once the OIG returned a response or reopened the recommendation, on the
    revised response's own due date (`response_due_on`, set by that step)."""
    if rec.status != RecStatus.OPEN_UNRESOLVED or addressee.response_state not in AWAITING_RESPONSE:
        return None
    if addressee.response_due_on is not None:
        return Clock("Revised response", addressee.response_due_on, today)
    return Clock("Response", clocks.response_due(issued), today, issue_date_approximate(rec))


def update_resumed_on(addressee: Addressee) -> date | None:
    """The day a returned closure request restarted the update clock."""
    return addressee.closure_state_on if addressee.closure_state == ClosureState.RETURNED else None


def updates_paused(addressee: Addressee) -> str:
    """Why the update clock is paused, in words ("" when it runs)."""
    if addressee.closure_state != ClosureState.REQUESTED:
        return ""
    if addressee.closure_state_on is None:
        return "Progress updates paused: closure requested, awaiting the OIG's decision"
    return f"Progress updates paused: closure requested on {clocks.long_date(addressee.closure_state_on)}"


def addressee_clocks(
    rec: Recommendation, addressee: Addressee, issued: date, today: date, interval_days: int
) -> AddresseeClocks:
    update = target = None
    no_update = ""
    response = response_clock(rec, addressee, issued, today)
    if rec.status == RecStatus.OPEN_RESOLVED and rec.resolved_on:
        paused = updates_paused(addressee)
        if paused:
            no_update = paused
        elif owes_updates(addressee):
            due = clocks.next_update_due(
                rec.resolved_on, addressee.last_update_on, interval_days, update_resumed_on(addressee)
            )
            update = Clock("Update", due, today)
        else:
            no_update = NO_UPDATES_NON_CONCUR
    if rec.status.is_open and addressee.target_date:
        target = Clock("Target completion", addressee.target_date, today)
    return AddresseeClocks(response=response, update=update, target=target, no_update=no_update)


# --- SQL criteria for lists ---------------------------------------------------------

# The clocks that count as "running late" on the dashboard and in status reports.
LATE_CLOCKS = ("response_overdue", "resolution_overdue", "target_overdue", "update_overdue")

CLOCK_FILTERS = {
    "response_overdue": "Response overdue",
    "resolution_overdue": "Resolution past 6 months",
    "target_overdue": "Target date passed",
    "update_due": "Update due within 30 days or overdue",
    "update_overdue": "Update overdue",
    "gao_ig_act": "Open 1 year or more (GAO-IG Act)",
}


def clock_matches(name: str, rec_clocks: RecommendationClocks, parts: list[AddresseeClocks]) -> bool:
    """The same filters as clock_criterion, on clocks already computed (for a state
    rebuilt as of a past date, which SQL cannot see)."""
    if name == "response_overdue":
        return any(p.response and p.response.overdue for p in parts)
    if name == "resolution_overdue":
        return bool(rec_clocks.resolution and rec_clocks.resolution.overdue)
    if name == "target_overdue":
        return any(p.target and p.target.overdue for p in parts)
    if name == "update_due":
        return any(p.update and p.update.days_left <= clocks.UPDATE_DUE_SOON_DAYS for p in parts)
    if name == "update_overdue":
        return any(p.update and p.update.overdue for p in parts)
    if name == "gao_ig_act":
        return rec_clocks.gao_ig_act
    raise ValueError(f"unknown clock filter {name!r}")


def _later(
    first: sa.SQLColumnExpression[date | None], other: sa.SQLColumnExpression[date | None]
) -> sa.ColumnElement[date]:
    return sa.case((sa.and_(other.is_not(None), other > first), other), else_=first)


def update_clock_start() -> sa.ColumnElement[date]:
    """next_update_due's start in SQL: the latest of the resolution, the addressee's last
    update and the return of its closure request (update_resumed_on)."""
    resumed = sa.case((Addressee.closure_state == ClosureState.RETURNED, Addressee.closure_state_on))
    return _later(_later(Recommendation.resolved_on, Addressee.last_update_on), resumed)


def more_than_6_months_criterion(today: date) -> sa.ColumnElement[bool]:
    """clocks.more_than_6_months in SQL, on Report (joined)."""
    return Report.issued_on <= clocks.latest_issue_date_due_before(today, clocks.resolution_due)


# The clocks that run on each addressee's part (`addressee_scope` narrows them); the
# others run on the recommendation as a whole.
ADDRESSEE_CLOCKS = frozenset({"response_overdue", "target_overdue", "update_due", "update_overdue"})

# The clocks counted from the report's issue date: their criteria need Report joined.
CLOCKS_ON_ISSUE_DATE = frozenset({"response_overdue", "resolution_overdue", "gao_ig_act"})


def clock_criterion(
    name: str, today: date, interval_days: int, addressee_scope: sa.ColumnElement[bool] | None = None
) -> sa.ColumnElement[bool]:
    """Recommendations whose clock `name` is running late (Report joined for those in
    CLOCKS_ON_ISSUE_DATE).
    `addressee_scope` narrows the addressee-level clocks to some addressees (one
    component's part, say)."""

    def _any_addressee(*criteria: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
        scope = (addressee_scope,) if addressee_scope is not None else ()
        return Recommendation.addressees.any(sa.and_(*criteria, *scope))

    is_open = Recommendation.status.in_(RecStatus.open_values())
    unresolved = Recommendation.status == RecStatus.OPEN_UNRESOLVED
    resolved = Recommendation.status == RecStatus.OPEN_RESOLVED
    if name == "response_overdue":
        # response_clock in SQL: counted from the issue date, or a revised response's own date
        cutoff = clocks.latest_issue_date_due_before(today, clocks.response_due)
        awaiting = Addressee.response_state.in_(AWAITING_RESPONSE)
        return sa.and_(
            unresolved,
            sa.or_(
                sa.and_(
                    Report.issued_on <= cutoff, _any_addressee(awaiting, Addressee.response_due_on.is_(None))
                ),
                _any_addressee(awaiting, Addressee.response_due_on < today),
            ),
        )
    if name == "resolution_overdue":
        return sa.and_(unresolved, more_than_6_months_criterion(today))
    if name == "target_overdue":
        return sa.and_(is_open, _any_addressee(Addressee.target_date < today))
    if name in ("update_due", "update_overdue"):
        horizon = today + timedelta(days=clocks.UPDATE_DUE_SOON_DAYS) if name == "update_due" else today
        # due = start + interval; overdue when due < today, due soon when due <= today + 30
        limit = horizon - timedelta(days=interval_days)
        start = update_clock_start()
        late = start <= limit if name == "update_due" else start < limit
        return sa.and_(
            resolved,
            Recommendation.resolved_on.is_not(None),
            _any_addressee(Addressee.closure_state != ClosureState.REQUESTED, owes_updates_criterion(), late),
        )
    if name == "gao_ig_act":
        cutoff = clocks.latest_issue_date_due_before(
            today + timedelta(days=1), lambda d: clocks.add_months(d, clocks.GAO_IG_ACT_MONTHS)
        )
        return sa.and_(is_open, Report.issued_on <= cutoff)
    raise ValueError(f"unknown clock filter {name!r}")
