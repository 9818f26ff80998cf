"""Every deadline clock, defined once: the registry.

Each clock's rule is written here once, as a due date computed from a recommendation's
and its addressees' state by `rec_due_dates` and `addressee_due_dates` (pure functions of
plain values, so they run on model rows, on states rebuilt from history and on rows read
with SQL). The due dates are stored on the rows (app.lifecycle.due_dates keeps them
fresh); a clock "runs late" when its due date is before a cut-off derived from today
(`ClockFilter`), the same comparison in SQL (list filters, queues, dashboard) and in
Python (PDFs as of a past date, which run the same functions on the replayed state).
The pages' clocks in words (`Clock`) are built from the same due dates.

The date arithmetic itself (90 days, six calendar months, ...) is in app.lifecycle.clocks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

import sqlalchemy as sa

from app.lifecycle import clocks
from app.lifecycle.clocks import AgeBucket, Clock
from app.models import (
    Addressee,
    ClosureState,
    Concurrence,
    Recommendation,
    RecStatus,
    Report,
    ResponseState,
)

AWAITING_RESPONSE = (ResponseState.NONE, ResponseState.RETURNED)
NO_UPDATES_NON_CONCUR = "No progress updates due: did not concur and has no corrective action plan"


@dataclass(frozen=True)
class DeadlinePolicy:
    """The configurable parts of the clocks (app config UPDATE_INTERVAL_DAYS and
    REVISED_RESPONSE_DAYS), passed explicitly to whatever computes due dates."""

    update_interval_days: int = clocks.UPDATE_INTERVAL_DAYS
    revised_response_days: int = clocks.REVISED_RESPONSE_DAYS

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DeadlinePolicy:
        return cls(
            update_interval_days=int(config.get("UPDATE_INTERVAL_DAYS", clocks.UPDATE_INTERVAL_DAYS)),
            revised_response_days=int(config.get("REVISED_RESPONSE_DAYS", clocks.REVISED_RESPONSE_DAYS)),
        )


# --- the due dates: one function per level ---------------------------------------------


@dataclass(frozen=True)
class RecDueDates:
    """A recommendation's own deadlines (None: the clock does not run in this state).
    Stored on Recommendation under the same names (REC_DUE_COLUMNS)."""

    resolution_due: date | None  # while Open–Unresolved: six months after issuance (OMB A-50)
    gao_ig_act_from: date | None  # while open: one year after issuance (GAO-IG Act)


@dataclass(frozen=True)
class AddresseeDueDates:
    """One addressee's deadlines (None: the clock does not run in this state). Stored on
    Addressee under the same names (ADDRESSEE_DUE_COLUMNS)."""

    response_due: date | None  # while Open–Unresolved and no acceptable response is in
    update_due: date | None  # while Open–Resolved, owing updates, no closure request pending
    target_due: date | None  # while open: the target completion date


REC_DUE_COLUMNS = ("resolution_due", "gao_ig_act_from")
ADDRESSEE_DUE_COLUMNS = ("response_due", "update_due", "target_due")


# --- tracked since: obligations that fell due before RecTrack began tracking -------------
#
# A recommendation's `tracked_since` is the day RecTrack began tracking it. RecTrack
# cannot know whether an obligation that fell due before that day was met, so such a
# deadline is not a running clock: its due date is None (NULL in the stored column, so no
# filter, queue, dashboard count or PDF counts it as late) and the page says why
# (`not_recorded`). Deadlines on or after `tracked_since` run normally. The update clock
# is the one exception to "not running": an Open–Resolved addressee whose next update fell
# due before tracking owes its first update one update interval after `tracked_since`.
# tracked_since None: no tracking date is known (the database before migration 0013): the
# clocks run as they always did.


def before_tracking(due: date | None, tracked_since: date | None) -> bool:
    """Whether `due` fell before RecTrack began tracking (the day itself runs normally)."""
    return due is not None and tracked_since is not None and due < tracked_since


def _since_tracking(due: date | None, tracked_since: date | None) -> date | None:
    """`due`, or None when it fell before tracking began (the clock does not run)."""
    return None if before_tracking(due, tracked_since) else due


def update_due_since_tracking(due: date, tracked_since: date | None, interval_days: int) -> date:
    """The next update's due date: `due`, or, when that fell before tracking began, one
    update interval after tracked_since (the updates owed before are not recorded)."""
    if tracked_since is not None and due < tracked_since:
        return tracked_since + timedelta(days=interval_days)
    return due


def rec_due_dates(
    status: RecStatus | str | None, issued: date | None, tracked_since: date | None = None
) -> RecDueDates:
    """Resolution: six months after issuance, while Open–Unresolved, unless that fell
    before `tracked_since`. GAO-IG Act: a recommendation still open one year after
    issuance (a fact about the issue date: kept whatever the tracking date). `status` may
    be the enum's value (a row read with SQL); None: not issued (yet, as of a past date).
    issued None: the issue date is not known, so neither date is (None: not running)."""
    rec_status = RecStatus(status) if status is not None else None
    if rec_status is None or not rec_status.is_open or issued is None:
        return RecDueDates(resolution_due=None, gao_ig_act_from=None)
    resolution = clocks.resolution_due(issued) if rec_status == RecStatus.OPEN_UNRESOLVED else None
    return RecDueDates(
        resolution_due=_since_tracking(resolution, tracked_since),
        gao_ig_act_from=clocks.gao_ig_act_from(issued),
    )


def owes_updates_values(concurrence: Concurrence, has_plan: bool) -> bool:
    """Whether a resolved addressee reports progress. One that did not concur and has no
    corrective action plan (none is asked of a non-concurrence) has nothing to report on."""
    return not (concurrence == Concurrence.NON_CONCUR and not has_plan)


def addressee_due_dates(
    *,
    status: RecStatus | str | None,
    issued: date | None,
    resolved_on: date | None,
    response_state: ResponseState | str,
    response_due_on: date | None,
    concurrence: Concurrence | str,
    has_plan: bool,
    last_update_on: date | None,
    closure_state: ClosureState | str,
    closure_state_on: date | None,
    target_date: date | None,
    interval_days: int,
    tracked_since: date | None = None,
) -> AddresseeDueDates:
    """One addressee's due dates from plain state values.

    Response: while Open–Unresolved and no acceptable response is in (none yet, or the
    last one returned): 90 days after the issue date, or, once the OIG returned a response
    or reopened the recommendation, the revised response's own due date (`response_due_on`,
    which those steps set: REVISED_RESPONSE_DAYS after a return, 90 days after a reopening).
    Update: while Open–Resolved, `interval_days` after the latest of the resolution, the
    last update and the return of a closure request; none while a closure request is
    pending (paused) or for a non-concurrence without a corrective action plan.
    Target completion: the target date, while the recommendation is open.
    Tracked since: a response or target date before `tracked_since` does not run (None);
    an update due before it is due one interval after it (see before_tracking).
    Issued None (not known): the first response's due date is not known either (None).

    The enums may be given as their values (a row read with SQL)."""
    rec_status = RecStatus(status) if status is not None else None
    closure = ClosureState(closure_state)
    is_open = rec_status is not None and rec_status.is_open
    response = None
    if rec_status == RecStatus.OPEN_UNRESOLVED and ResponseState(response_state) in AWAITING_RESPONSE:
        if response_due_on is not None:
            response = response_due_on
        elif issued is not None:
            response = clocks.response_due(issued)
    update = None
    if (
        rec_status == RecStatus.OPEN_RESOLVED
        and resolved_on is not None
        and closure != ClosureState.REQUESTED
        and owes_updates_values(Concurrence(concurrence), has_plan)
    ):
        resumed = closure_state_on if closure == ClosureState.RETURNED else None
        update = update_due_since_tracking(
            clocks.next_update_due(resolved_on, last_update_on, interval_days, resumed),
            tracked_since,
            interval_days,
        )
    return AddresseeDueDates(
        response_due=_since_tracking(response, tracked_since),
        update_due=update,
        target_due=_since_tracking(target_date if is_open else None, tracked_since),
    )


def rec_due_dates_of(rec: Any, issued: date | None, *, tracked: bool = True) -> RecDueDates:
    """rec_due_dates of a Recommendation or a RecSnapshot (the same attribute names).
    tracked=False: the obligations as if tracked from issuance (the page's explanation
    of what fell due before tracking)."""
    return rec_due_dates(rec.status, issued, rec.tracked_since if tracked else None)


def addressee_due_dates_of(
    rec: Any, addressee: Any, issued: date | None, interval_days: int, *, tracked: bool = True
) -> AddresseeDueDates:
    """addressee_due_dates of an Addressee (or AddresseeSnapshot) of `rec` (a
    Recommendation or RecSnapshot); tracked=False as in rec_due_dates_of."""
    return addressee_due_dates(
        status=rec.status,
        issued=issued,
        resolved_on=rec.resolved_on,
        response_state=addressee.response_state,
        response_due_on=addressee.response_due_on,
        concurrence=addressee.concurrence,
        has_plan=bool(addressee.corrective_action_plan),
        last_update_on=addressee.last_update_on,
        closure_state=addressee.closure_state,
        closure_state_on=addressee.closure_state_on,
        target_date=addressee.target_date,
        interval_days=interval_days,
        tracked_since=rec.tracked_since if tracked else None,
    )


def due_dates_of(
    rec: Any, issued: date | None, interval_days: int
) -> tuple[RecDueDates, dict[int, AddresseeDueDates]]:
    """A recommendation's due dates and each addressee's (by id): of a Recommendation with
    its addressees loaded, or of a RecSnapshot (a state as of a past date)."""
    return rec_due_dates_of(rec, issued), {
        a.id: addressee_due_dates_of(rec, a, issued, interval_days) for a in rec.addressees
    }


# --- the clocks in words, on pages and in PDFs -------------------------------------------


@dataclass(frozen=True)
class RecommendationClocks:
    resolution: Clock | None  # while Open–Unresolved (OMB A-50)
    gao_ig_act: bool  # open one year or more after issuance
    open_over_6_months: bool  # open, more than six months after issuance (semiannual tables)
    age: AgeBucket | None  # None: the issue date is not known
    due: RecDueDates
    not_recorded: tuple[str, ...] = ()  # deadlines that fell before tracking, in words
    not_known: tuple[str, ...] = ()  # deadlines the unknown issue date leaves unknown, in words

    @property
    def notes(self) -> tuple[str, ...]:
        """The deadlines that do not run, in words: not recorded, then not known."""
        return self.not_recorded + self.not_known


@dataclass(frozen=True)
class AddresseeClocks:
    response: Clock | None  # while no acceptable response is in
    update: Clock | None  # while Open–Resolved, for an addressee that owes updates
    target: Clock | None  # while open with a target date
    no_update: str = ""  # why an Open–Resolved addressee has no update clock, in words
    due: AddresseeDueDates | None = None
    not_recorded: tuple[str, ...] = ()  # deadlines that fell before tracking, in words
    not_known: tuple[str, ...] = ()  # deadlines the unknown issue date leaves unknown, in words

    @property
    def notes(self) -> tuple[str, ...]:
        """The deadlines that do not run, in words: not recorded, then not known."""
        return self.not_recorded + self.not_known


def issue_date_approximate(rec: Recommendation) -> bool:
    """Whether the clocks counted from the issue date are approximate (a Recommendation
    or a RecSnapshot, whose report is loaded): the date was inferred, or only its month
    or fiscal year is known (Report.issue_date_imprecise)."""
    return bool(rec.report.issue_date_imprecise)


def not_recorded_text(label: str, due: date, tracked_since: date, approximate: bool = False) -> str:
    """ "Response was due March 4, 2022, before RecTrack began tracking this
    recommendation on June 1, 2026: not recorded"."""
    when = f"about {due:%B} {due.year}" if approximate else clocks.long_date(due)
    return (
        f"{label} was due {when}, before RecTrack began tracking this recommendation on "
        f"{clocks.long_date(tracked_since)}: not recorded"
    )


def _not_recorded(rec: Any, pairs: tuple[tuple[str, date | None, bool], ...]) -> tuple[str, ...]:
    """The sentences for the (label, due date as if tracked from issuance, approximate)
    whose due date fell before tracking began."""
    tracked_since = rec.tracked_since
    return tuple(
        not_recorded_text(label, due, tracked_since, approx)
        for label, due, approx in pairs
        if due is not None and before_tracking(due, tracked_since)
    )


NOT_KNOWN_SUFFIX = "is not known: the report's issue date, which it counts from, is not known"


def not_known_text(label: str) -> str:
    """ "Resolution due date is not known: the report's issue date ... is not known"."""
    return f"{label} due date {NOT_KNOWN_SUFFIX}"


def has_history_before_tracking(rec: Any) -> bool:
    """Whether the recommendation rests on history from before RecTrack: it was issued
    before RecTrack began tracking it (tracked_since later than the issue date), or its
    issue date is not known (a report entered at issuance has a known date). The SQL
    criterion is history_before_tracking_criterion."""
    if rec.tracked_since is None:
        return False
    return rec.report.issued_on is None or rec.tracked_since > rec.report.issued_on


def history_before_tracking_criterion() -> sa.ColumnElement[bool]:
    """has_history_before_tracking in SQL (Report joined)."""
    return sa.and_(
        Recommendation.tracked_since.is_not(None),
        sa.or_(Report.issued_on.is_(None), Recommendation.tracked_since > Report.issued_on),
    )


def recommendation_clocks(rec: Recommendation, issued: date | None, today: date) -> RecommendationClocks:
    open_ = rec.status.is_open
    due = rec_due_dates_of(rec, issued)
    resolution = None
    approx = issue_date_approximate(rec)
    if due.resolution_due is not None:
        resolution = Clock("Resolution", due.resolution_due, today, approx)
    untracked = rec_due_dates_of(rec, issued, tracked=False)
    return RecommendationClocks(
        resolution=resolution,
        gao_ig_act=CLOCK_FILTERS_BY_NAME["gao_ig_act"].matches(due.gao_ig_act_from, today),
        open_over_6_months=open_ and issued is not None and clocks.more_than_6_months(issued, today),
        age=None
        if issued is None
        else clocks.age_bucket(issued, today if open_ or rec.closed_on is None else rec.closed_on),
        due=due,
        not_recorded=_not_recorded(rec, (("Resolution", untracked.resolution_due, approx),)),
        not_known=(not_known_text("Resolution"),)
        if issued is None and rec.status == RecStatus.OPEN_UNRESOLVED
        else (),
    )


def _response_clock(rec: Any, addressee: Any, due: date | None, today: date) -> Clock | None:
    if due is None:
        return None
    if addressee.response_due_on is not None:
        return Clock("Revised response", due, today)
    return Clock("Response", due, today, issue_date_approximate(rec))


def updates_paused(addressee: Addressee) -> str:
    """Why the update clock is paused, in words ("" when it runs)."""
    if addressee.closure_state != ClosureState.REQUESTED:
        return ""
    if addressee.closure_state_on is None:
        return "Progress updates paused: closure requested, awaiting the OIG's decision"
    return f"Progress updates paused: closure requested on {clocks.long_date(addressee.closure_state_on)}"


def addressee_clocks(
    rec: Recommendation, addressee: Addressee, issued: date | None, today: date, interval_days: int
) -> AddresseeClocks:
    due = addressee_due_dates_of(rec, addressee, issued, interval_days)
    no_update = ""
    if rec.status == RecStatus.OPEN_RESOLVED and rec.resolved_on and due.update_due is None:
        no_update = updates_paused(addressee) or NO_UPDATES_NON_CONCUR
    untracked = addressee_due_dates_of(rec, addressee, issued, interval_days, tracked=False)
    response_approx = addressee.response_due_on is None and issue_date_approximate(rec)
    not_recorded = _not_recorded(
        rec,
        (
            (
                "Response" if addressee.response_due_on is None else "Revised response",
                untracked.response_due,
                response_approx,
            ),
            ("An update", untracked.update_due, False),
            ("Target completion", untracked.target_due, False),
        ),
    )
    return AddresseeClocks(
        response=_response_clock(rec, addressee, due.response_due, today),
        update=Clock("Update", due.update_due, today) if due.update_due is not None else None,
        target=Clock("Target completion", due.target_due, today) if due.target_due is not None else None,
        no_update=no_update,
        due=due,
        not_recorded=not_recorded,
        not_known=(not_known_text("Response"),)
        if issued is None
        and rec.status == RecStatus.OPEN_UNRESOLVED
        and addressee.response_due_on is None
        and addressee.response_state in AWAITING_RESPONSE
        else (),
    )


# --- running late: one comparison of a due date with today, in Python and in SQL ---------


@dataclass(frozen=True)
class ClockFilter:
    """A list filter on a clock: the rows whose due date `field` is before
    today + `days_after_today` (0: overdue, the due date has passed)."""

    name: str
    label: str
    level: Literal["recommendation", "addressee"]
    field: str  # a RecDueDates / AddresseeDueDates field and the stored column of that name
    days_after_today: int = 0

    def cutoff(self, today: date) -> date:
        return today + timedelta(days=self.days_after_today)

    def matches(self, due: date | None, today: date) -> bool:
        return due is not None and due < self.cutoff(today)

    def column(self) -> Any:
        model = Recommendation if self.level == "recommendation" else Addressee
        return getattr(model, self.field)


_FILTERS = (
    ClockFilter("response_overdue", "Response overdue", "addressee", "response_due"),
    ClockFilter("resolution_overdue", "Resolution past 6 months", "recommendation", "resolution_due"),
    ClockFilter("target_overdue", "Target date passed", "addressee", "target_due"),
    # due within 30 days or overdue: due <= today + 30
    ClockFilter(
        "update_due",
        "Update due within 30 days or overdue",
        "addressee",
        "update_due",
        clocks.UPDATE_DUE_SOON_DAYS + 1,
    ),
    ClockFilter("update_overdue", "Update overdue", "addressee", "update_due"),
    # open one year or more: the anniversary itself counts
    ClockFilter("gao_ig_act", "Open 1 year or more (GAO-IG Act)", "recommendation", "gao_ig_act_from", 1),
)
CLOCK_FILTERS_BY_NAME = {f.name: f for f in _FILTERS}
CLOCK_FILTERS = {f.name: f.label for f in _FILTERS}

# The clocks that count as "running late" on the dashboard and in status reports.
LATE_CLOCKS = ("response_overdue", "resolution_overdue", "target_overdue", "update_overdue")

# The clocks that run on each addressee's part (`addressee_scope` narrows them); the
# others run on the recommendation as a whole.
ADDRESSEE_CLOCKS = frozenset(f.name for f in _FILTERS if f.level == "addressee")

# The clocks whose criteria need Report joined: none, the due dates are stored.
CLOCKS_ON_ISSUE_DATE: frozenset[str] = frozenset()


def _clock_filter(name: str) -> ClockFilter:
    try:
        return CLOCK_FILTERS_BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown clock filter {name!r}") from None


def due_dates_match(name: str, rec_due: RecDueDates, parts: list[AddresseeDueDates], today: date) -> bool:
    """Whether clock `name` runs late on these due dates (any of the parts, for a clock
    of the addressees): clock_criterion's comparison, in Python."""
    spec = _clock_filter(name)
    if spec.level == "recommendation":
        return spec.matches(getattr(rec_due, spec.field), today)
    return any(spec.matches(getattr(p, spec.field), today) for p in parts)


def clock_matches(
    name: str, rec_clocks: RecommendationClocks, parts: list[AddresseeClocks], today: date
) -> bool:
    """The same filters as clock_criterion, on clocks already computed (for a state
    rebuilt as of a past date, which SQL cannot see)."""
    return due_dates_match(name, rec_clocks.due, [p.due for p in parts if p.due is not None], today)


def clock_criterion(
    name: str,
    today: date,
    interval_days: int | None = None,
    addressee_scope: sa.ColumnElement[bool] | None = None,
) -> sa.ColumnElement[bool]:
    """Recommendations whose clock `name` is running late, from the stored due dates.
    `addressee_scope` narrows the addressee-level clocks to some addressees (one
    component's part, say). `interval_days` is not used: the update clock's interval is
    in the stored date (`flask --app app deadlines recompute` after changing it)."""
    spec = _clock_filter(name)
    late = spec.column() < spec.cutoff(today)
    if spec.level == "recommendation":
        return late
    scope = (addressee_scope,) if addressee_scope is not None else ()
    return Recommendation.addressees.any(sa.and_(late, *scope))


def late_recommendations(
    name: str, today: date, addressee_scope: sa.ColumnElement[bool] | None = None
) -> sa.ColumnElement[bool]:
    """clock_criterion for counting: for a clock of the addressees, an uncorrelated IN of
    the recommendations with a late part, which reads only the due date's index (with the
    recommendation id in it) instead of probing every row's addressees. `addressee_scope`
    must not refer to the enclosing query."""
    spec = _clock_filter(name)
    if spec.level == "recommendation":
        return clock_criterion(name, today)
    scope = (addressee_scope,) if addressee_scope is not None else ()
    late = sa.select(Addressee.recommendation_id).where(addressee_late(name, today), *scope)
    return Recommendation.id.in_(late.correlate(None))


def addressee_late(name: str, today: date) -> sa.ColumnElement[bool]:
    """On Addressee: this addressee's clock `name` runs late (work queues)."""
    spec = _clock_filter(name)
    assert spec.level == "addressee", name
    return spec.column() < spec.cutoff(today)


def more_than_6_months_criterion(today: date) -> sa.ColumnElement[bool]:
    """Open–Unresolved more than six months after issuance (the resolution clock)."""
    return clock_criterion("resolution_overdue", today)
