"""The dashboard's numbers, each one the count of a list filter, computed by GROUP BY
and FILTER aggregates in SQL: a handful of queries whatever the number of rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.auth import policy
from app.lifecycle import clocks, deadlines
from app.lifecycle.periods import AsOf
from app.models import Addressee, Component, Recommendation, RecStatus, Report, Role
from app.recommendations import repeats

OVERDUE = deadlines.LATE_CLOCKS


@dataclass
class Dashboard:
    by_status: dict[RecStatus, int]
    by_component: list[tuple[int, str, int]]  # (component id, abbreviation, open)
    ages: dict[clocks.AgeBucket, int]
    overdue: dict[str, int]
    closed_this_period: int
    closed_last_period: int
    period: clocks.Period
    questioned_open: Decimal
    funds_open: Decimal
    # open recommendations with history from before RecTrack (issued before tracking began)
    before_tracking: int = 0
    mine: list[dict[str, Any]] = field(default_factory=list)  # a liaison's components
    priority_open: int = 0  # open, flagged priority, readable in full
    unique_open: int = 0  # open, a repeat chain counted once (app/recommendations/repeats.py)
    # A liaison's late clocks on their own components' parts (`overdue` counts every
    # recommendation they may see, any component's part).
    overdue_mine: dict[str, int] | None = None

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def open(self) -> int:
        return sum(n for s, n in self.by_status.items() if s.is_open)


def _base(
    user: Any,
    *,
    with_report: bool = False,
    as_of: AsOf | None = None,
    own_reports: frozenset[int] | None = None,
) -> sa.Select[Any]:
    """Recommendations in the user's scope (issued by the day, with `as_of`). Staff see
    every report, so the reports table is joined only when a number needs it.
    `own_reports`: policy.own_report_ids, read once for all the dashboard's queries."""
    stmt = sa.select().select_from(Recommendation)
    if as_of is not None:
        stmt = as_of.join(stmt)
    if with_report or not policy.is_staff(user):
        stmt = stmt.join(Report, Report.id == Recommendation.report_id)
    if not policy.is_staff(user):
        stmt = stmt.where(policy.report_visibility(user, own_reports))
    return stmt


def build(
    session: Session, user: Any, today: date, interval_days: int, as_of: date | None = None
) -> Dashboard:
    """Everything on the dashboard, scoped to what the user may see: five aggregate
    queries (six for a liaison), each over only the rows its numbers concern. With `as_of`
    (a past day, then also `today`), as things stood at the end of that day: each query is written on
    the live columns and read on that day's state periods (AsOf.adapt)."""
    at = AsOf(as_of) if as_of is not None else None

    def run(stmt: sa.Select[Any]) -> Any:
        return session.execute(at.adapt(stmt) if at is not None else stmt)

    is_open = Recommendation.status.in_(RecStatus.open_values())
    visible = policy.recommendation_visibility(user)
    # A liaison's own reports, read once rather than in each query (today's: as of a past
    # day the queries read that day's addressees, so each reads them itself).
    own_reports = policy.own_report_ids(session, user) if at is None else None
    by_status: dict[RecStatus, int] = dict(
        run(
            _base(user, as_of=at, own_reports=own_reports)
            .add_columns(Recommendation.status, sa.func.count())
            .group_by(Recommendation.status)
        ).all()
    )
    by_component = [
        (cid, abbreviation, n)
        for cid, abbreviation, n in run(
            _base(user, as_of=at, own_reports=own_reports)
            .join(Addressee, Addressee.recommendation_id == Recommendation.id)
            .join(Component, Component.id == Addressee.component_id)
            .where(is_open, visible)  # whom a recommendation is addressed to is restricted content
            # One addressee row per (recommendation, component): count() needs no DISTINCT.
            .add_columns(Component.id, Component.abbreviation, sa.func.count())
            .group_by(Component.id, Component.abbreviation)
            .order_by(sa.func.count().desc(), Component.abbreviation)
        )
    ]
    # Each late clock as an uncorrelated IN of the recommendations with a late part (one
    # read of the due date's index, then a hash probe per open row).
    late = [deadlines.late_recommendations(name, today) for name in OVERDUE]
    liaison = getattr(user, "role", None) == Role.LIAISON
    component_ids = sorted(user.component_ids) if liaison else []
    # A liaison of several components: the same clocks on their own parts, in the same
    # query (of one component, the component's own counts below are the same numbers).
    mine = len(component_ids) > 1
    if mine:
        own = Addressee.component_id.in_(component_ids)
        theirs = Recommendation.id.in_(sa.select(Addressee.recommendation_id).where(own).correlate(None))
        late += [
            sa.and_(
                deadlines.late_recommendations(name, today, own),
                # a clock of the recommendation as a whole: addressed to one of theirs
                sa.true() if name in deadlines.ADDRESSEE_CLOCKS else theirs,
            )
            for name in OVERDUE
        ]
    # Open recommendations only, in one pass: ages, history before tracking, money, the
    # late clocks and priority (the last three only where the user may read them).
    columns: list[sa.ColumnElement[Any]] = []
    for bucket in clocks.AgeBucket:
        first, after = clocks.age_bucket_bounds(bucket, today)
        criteria: list[sa.ColumnElement[bool]] = [sa.true()]
        if first is not None:
            criteria.append(Report.issued_on >= first)
        if after is not None:
            criteria.append(Report.issued_on < after)
        columns.append(sa.func.count().filter(sa.and_(*criteria)))
    columns.append(sa.func.count().filter(deadlines.history_before_tracking_criterion()))
    columns.append(sa.func.coalesce(sa.func.sum(Recommendation.questioned_costs).filter(visible), 0))
    columns.append(sa.func.coalesce(sa.func.sum(Recommendation.funds_put_to_better_use).filter(visible), 0))
    columns.append(sa.func.count().filter(visible, Recommendation.priority.is_(True)))
    columns += [sa.func.count().filter(visible, criterion) for criterion in late]
    row = run(
        _base(user, with_report=True, as_of=at, own_reports=own_reports).where(is_open).add_columns(*columns)
    ).one()
    n_ages = len(clocks.AgeBucket)
    overdue = row[n_ages + 4 :]
    # Closed in the last two semiannual periods: an index range on closed_on.
    period = clocks.semiannual_period(today)
    last = period.previous()
    closed = run(
        _base(user, as_of=at, own_reports=own_reports)
        .where(
            Recommendation.status.in_(RecStatus.closed_values()),
            Recommendation.closed_on >= last.start,
            visible,  # a closing date is restricted content
        )
        .add_columns(
            *(
                sa.func.count().filter(Recommendation.closed_on.between(p.start, p.end))
                for p in (period, last)
            )
        )
    ).one()
    dashboard = Dashboard(
        by_status={s: by_status.get(s, 0) for s in RecStatus},
        by_component=by_component,
        ages=dict(zip(clocks.AgeBucket, row[:n_ages], strict=True)),
        overdue=dict(zip(OVERDUE, overdue[: len(OVERDUE)], strict=True)),
        overdue_mine=dict(zip(OVERDUE, overdue[len(OVERDUE) :], strict=True)) if mine else None,
        closed_this_period=closed[0],
        closed_last_period=closed[1],
        period=period,
        questioned_open=Decimal(str(row[n_ages + 1] or 0)),
        funds_open=Decimal(str(row[n_ages + 2] or 0)),
        before_tracking=row[n_ages],
    )
    # Priority and repeats are today's flags, on today's open recommendations (as of a
    # past day too); today, the priority count came with the open row above.
    live_open = _base(user, own_reports=own_reports).where(is_open)
    dashboard.unique_open = repeats.unique_count_sql(session, live_open.add_columns(Recommendation.id))
    if at is None:
        dashboard.priority_open = row[n_ages + 3]
    else:
        dashboard.priority_open = priority_count(session, live_open, visible)
    if liaison:
        dashboard.mine = component_summaries(
            session, user, user.component_ids, today, interval_days, as_of, own_reports
        )
        if len(dashboard.mine) == 1:
            dashboard.overdue_mine = dict(dashboard.mine[0]["overdue"])
    return dashboard


def priority_count(session: Session, open_scope: sa.Select[Any], visible: Any) -> int:
    """Open priority recommendations the user may read in full."""
    priority = open_scope.where(visible, Recommendation.priority.is_(True))
    return session.scalar(priority.add_columns(sa.func.count())) or 0


def component_summaries(
    session: Session,
    user: Any,
    component_ids: Any,
    today: date,
    interval_days: int,
    as_of: date | None = None,
    own_reports: frozenset[int] | None = None,
) -> list[dict[str, Any]]:
    """For each component: open recommendations, and those whose clocks for that
    component's own part are running late (among those the user may read)."""
    at = AsOf(as_of) if as_of is not None else None
    is_open = Recommendation.status.in_(RecStatus.open_values())
    in_scope = Report.id.is_not(None)  # the outer join keeps only reports the user may open
    visible = policy.recommendation_visibility(user)
    own_part = Addressee.component_id == Component.id
    late = [
        sa.func.count(sa.distinct(Recommendation.id)).filter(
            in_scope, visible, deadlines.clock_criterion(name, today, interval_days, own_part)
        )
        for name in OVERDUE
    ]
    stmt = (
        sa.select(
            Component.id,
            Component.abbreviation,
            Component.name,
            sa.func.count(sa.distinct(Recommendation.id)).filter(in_scope, visible, is_open),
            *late,
        )
        .select_from(Component)
        .outerjoin(Addressee, Addressee.component_id == Component.id)
        .outerjoin(Recommendation, Recommendation.id == Addressee.recommendation_id)
        .outerjoin(
            Report,
            sa.and_(Report.id == Recommendation.report_id, policy.report_visibility(user, own_reports)),
        )
        .where(Component.id.in_(component_ids))
        .group_by(Component.id, Component.abbreviation, Component.name)
        .order_by(Component.abbreviation)
    )
    if at is not None:  # the addressees become that day's (only those issued by then)
        state = at.recommendations
        stmt = at.adapt(stmt.outerjoin(state, state.c.recommendation_id == Recommendation.id))
    rows = session.execute(stmt)
    return [
        {
            "id": r[0],
            "abbreviation": r[1],
            "name": r[2],
            "open": r[3],
            "overdue": dict(zip(OVERDUE, r[4:], strict=True)),
        }
        for r in rows
    ]
