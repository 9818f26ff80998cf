"""What the three status reports say: recommendations as they stood on the "as of" date,
their clocks, summary counts, and the tables an IG's semiannual report needs.

Visibility follows the pages, through the pages' own query (recommendation_list): where
a page keeps a recommendation the reader may not see in full as a placeholder line (the
report page, the list), so does its PDF, with none of its text, addressees or money;
where a page leaves it out (the component page), so does its PDF, and it is not counted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from app.auth import policy
from app.filters import RecFilters
from app.lifecycle import clocks, deadlines
from app.lifecycle.history import RecSnapshot, replay
from app.models import Component, Recommendation, RecStatus, Report
from app.recommendations import repeats
from app.recommendations.queries import recommendation_list


class TooManyRecommendations(ValueError):
    """More recommendations match than one PDF may hold."""


@dataclass
class RecLine:
    """One recommendation in a status report."""

    snap: RecSnapshot
    visible: bool
    rec_clocks: deadlines.RecommendationClocks
    addressee_clocks: dict[int, deadlines.AddresseeClocks]

    @property
    def rec(self) -> Any:
        return self.snap.rec

    @property
    def status(self) -> RecStatus:
        assert self.snap.status is not None
        return self.snap.status

    @property
    def before_tracking(self) -> bool:
        """Whether it rests on history from before RecTrack (issued before tracking began)."""
        return deadlines.has_history_before_tracking(self.rec)

    @property
    def parts(self) -> list[deadlines.AddresseeClocks]:
        return list(self.addressee_clocks.values())

    def matches_clock(self, name: str, component_id: int | None = None) -> bool:
        """As the list's clock filter; with a component, its own part's clocks only."""
        parts = self.parts
        if component_id is not None:
            parts = [
                self.addressee_clocks[a.id] for a in self.snap.addressees if a.component.id == component_id
            ]
        return self.visible and deadlines.clock_matches(name, self.rec_clocks, parts, self.snap.as_of)


@dataclass
class Summary:
    total: int = 0
    hidden: int = 0
    by_status: dict[RecStatus, int] = field(default_factory=dict)
    by_component: list[tuple[str, int, int]] = field(default_factory=list)  # (abbr, open, total)
    age_buckets: dict[clocks.AgeBucket, int] = field(default_factory=dict)  # open ones
    age_not_known: int = 0  # open ones whose report's issue date is not known
    overdue: dict[str, int] = field(default_factory=dict)
    questioned_open: Decimal = Decimal(0)
    funds_open: Decimal = Decimal(0)
    questioned_total: Decimal = Decimal(0)
    funds_total: Decimal = Decimal(0)
    before_tracking_open: int = 0  # open ones with history from before RecTrack

    @property
    def open(self) -> int:
        return sum(n for s, n in self.by_status.items() if s.is_open)


OVERDUE_KINDS = deadlines.LATE_CLOCKS


def _line(user: Any, snap: RecSnapshot, as_of: date, interval: int) -> RecLine:
    rec = snap.rec
    issued = rec.report.issued_on
    return RecLine(
        snap=snap,
        visible=policy.can_view_recommendation(user, rec),
        rec_clocks=deadlines.recommendation_clocks(snap, issued, as_of),  # type: ignore[arg-type]
        addressee_clocks={
            a.id: deadlines.addressee_clocks(snap, a, issued, as_of, interval)  # type: ignore[arg-type]
            for a in snap.addressees
        },
    )


def lines_for(session: Session, user: Any, stmt: sa.Select[Any], as_of: date, interval: int) -> list[RecLine]:
    """Run a recommendation query with their histories; replay each as of the date and
    drop those not yet issued then."""
    stmt = stmt.options(selectinload(Recommendation.events))
    out = []
    for rec in session.scalars(stmt).unique():
        snap = replay(rec, as_of)
        if snap.status is not None:
            out.append(_line(user, snap, as_of, interval))
    return out


def summarize(lines: list[RecLine]) -> Summary:
    summary = Summary(total=len(lines))
    summary.by_status = dict(Counter(line.status for line in lines))
    per_component: dict[str, list[int]] = {}
    for line in lines:
        if not line.visible:
            summary.hidden += 1
            continue
        is_open = line.status.is_open
        for part in line.snap.addressees:
            counts = per_component.setdefault(part.component.abbreviation, [0, 0])
            counts[1] += 1
            counts[0] += int(is_open)
        rec = line.rec
        summary.questioned_total += rec.questioned_costs or 0
        summary.funds_total += rec.funds_put_to_better_use or 0
        if is_open:
            summary.questioned_open += rec.questioned_costs or 0
            summary.funds_open += rec.funds_put_to_better_use or 0
    summary.by_component = sorted(
        ((k, v[0], v[1]) for k, v in per_component.items()), key=lambda t: (-t[1], t[0])
    )
    summary.age_buckets = dict.fromkeys(clocks.AgeBucket, 0)
    for line in lines:
        if line.status.is_open and line.rec_clocks.age is None:
            summary.age_not_known += 1
        elif line.status.is_open and line.rec_clocks.age is not None:
            summary.age_buckets[line.rec_clocks.age] += 1
    summary.before_tracking_open = sum(1 for line in lines if line.status.is_open and line.before_tracking)
    summary.overdue = {kind: sum(1 for line in lines if line.matches_clock(kind)) for kind in OVERDUE_KINDS}
    return summary


@dataclass
class SemiannualTables:
    """What an IG's semiannual report to Congress lists, as of the date."""

    open_over_6_months: list[RecLine]
    significant_without_final_action: list[RecLine]
    gao_ig_act: list[RecLine]


def semiannual_tables(lines: list[RecLine], as_of: date) -> SemiannualTables:
    return SemiannualTables(
        open_over_6_months=[line for line in lines if line.rec_clocks.open_over_6_months],
        significant_without_final_action=[
            line for line in lines if line.visible and line.rec.significant and line.status.is_open
        ],
        gao_ig_act=[line for line in lines if line.rec_clocks.gao_ig_act],
    )


# --- the three reports --------------------------------------------------------------


@dataclass
class ReportStatus:
    report: Report
    lines: list[RecLine]
    summary: Summary


def _base(user: Any, filters: RecFilters, as_of: date, interval: int) -> sa.Select[Any]:
    """The recommendations the page with these filters lists, issued by the date: the
    pages' query, so a PDF never shows (or counts) what its page hides."""
    # a report of unknown issue date: its periods begin when RecTrack began tracking it
    return recommendation_list(user, filters, as_of, interval).where(
        sa.or_(Report.issued_on.is_(None), Report.issued_on <= as_of)
    )


def report_status(session: Session, user: Any, report: Report, as_of: date, interval: int) -> ReportStatus:
    """One OIG report: its facts, then every recommendation as of the date."""
    stmt = _base(user, RecFilters(report_id=report.id), as_of, interval)
    lines = sorted(
        lines_for(session, user, stmt, as_of, interval),
        key=lambda line: (line.rec.number is None, line.rec.number or 0, line.rec.id),  # not known: last
    )
    return ReportStatus(report=report, lines=lines, summary=summarize(lines))


@dataclass
class ComponentStatus:
    component: Component
    groups: list[tuple[Report, list[RecLine]]]
    summary: Summary


def component_status(
    session: Session, user: Any, component: Component, as_of: date, interval: int
) -> ComponentStatus:
    """Every recommendation addressed to one component that the component page lists
    (those the reader may read in full), grouped by report."""
    stmt = _base(user, RecFilters(component_id=component.id), as_of, interval)
    lines = lines_for(session, user, stmt, as_of, interval)
    groups: dict[int, tuple[Report, list[RecLine]]] = {}
    for line in lines:
        groups.setdefault(line.rec.report.id, (line.rec.report, []))[1].append(line)
    # newest report first; reports of unknown issue date last
    ordered = sorted(
        groups.values(),
        key=lambda g: (g[0].issued_on is not None, g[0].issued_on or date.min, g[0].id),
        reverse=True,
    )
    return ComponentStatus(component=component, groups=ordered, summary=summarize(lines))


@dataclass
class Portfolio:
    filters: RecFilters
    lines: list[RecLine]
    summary: Summary
    tables: SemiannualTables
    # Open (as of the date) and flagged priority now, shown in full; the flag has no history.
    priority_open: list[RecLine] = field(default_factory=list)
    unique_open: int = 0  # open ones, a repeat chain counted once (app/recommendations/repeats.py)


def portfolio(
    session: Session, user: Any, filters: RecFilters, as_of: date, interval: int, limit: int
) -> Portfolio:
    """Every recommendation matching the list filters, as of the date: the list's own
    query (`filters.as_of` set for a past date, so status and clock filters read the
    state of that day in SQL, as the list does); each line is then replayed for its
    details."""
    stmt = _base(user, filters, as_of, interval)
    total = session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())) or 0
    if total > limit:
        raise TooManyRecommendations(
            f"{total:,} recommendations match these filters; one PDF holds at most {limit:,}. "
            "Narrow the filters."
        )
    lines = lines_for(session, user, stmt, as_of, interval)
    open_lines = [line for line in lines if line.status.is_open]
    return Portfolio(
        filters=filters,
        lines=lines,
        summary=summarize(lines),
        tables=semiannual_tables(lines, as_of),
        priority_open=[line for line in open_lines if line.visible and line.rec.priority],
        unique_open=repeats.unique_count((line.rec.id for line in open_lines), repeats.chain_roots(session)),
    )
