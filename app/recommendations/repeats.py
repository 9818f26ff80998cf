"""Repeat recommendations: a recommendation that repeats or rolls forward an earlier one.

Each recommendation may name one earlier recommendation it repeats (`repeats_id`); several
may repeat the same one. The recommendations joined by such links, directly or through
others, form a chain. Rules for a link: the earlier recommendation exists, is not the
recommendation itself, does not already repeat it (directly or through others: no
cycles), and belongs to a report issued before this one's report ("earlier" is required).

Unique open count: the open recommendations counted, with all the open members of one
chain counted once. A recommendation with no link is a chain of its own; a chain with no
open member among those counted is not counted. So "N open (M unique)" has M <= N, and
M == N when no two open recommendations counted share a chain.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from app.lifecycle.workflow import check_version
from app.locking import UNCHECKED, Expected
from app.models import Addressee, Recommendation, Report
from app.models.recommendation import NUMBER_NOT_KNOWN
from app.recommendations.services import RecommendationError

NOTE_MAX = 2000
NUMBER_RE = re.compile(r"^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$")


@dataclass
class RepeatData:
    """The earlier recommendation by its report (number, or exact title when the report has
    no number) and its number; both blank to remove the link."""

    report: str
    number: int | None
    note: str = ""
    version: Expected = UNCHECKED


def _name(report: Report, number: int | None) -> str:
    return (
        f"{report.display_number} #{number}"
        if number is not None
        else f"{report.display_number}, {NUMBER_NOT_KNOWN}"
    )


def _find_report(session: Session, text: str) -> Report | None:
    text = text.strip()
    if NUMBER_RE.match(text):
        found = session.scalar(sa.select(Report).where(Report.number == text.upper()))
        if found is not None:
            return found
    return session.scalar(sa.select(Report).where(Report.number.is_(None), Report.title == text))


def find_target(session: Session, report_text: str, number: int | None) -> Recommendation:
    """The recommendation a link names; RecommendationError (fields repeats_report,
    repeats_number) when either part is missing or names nothing."""
    if not report_text.strip():
        raise RecommendationError(
            "Write the number of the earlier report, such as OIG-12-15.", field="repeats_report"
        )
    if number is None:
        raise RecommendationError(
            "Write the number of the earlier recommendation in that report.", field="repeats_number"
        )
    report = _find_report(session, report_text)
    if report is None:
        raise RecommendationError(
            f"There is no report {report_text.strip()} in RecTrack.", field="repeats_report"
        )
    target = session.scalar(
        sa.select(Recommendation)
        .where(Recommendation.report_id == report.id, Recommendation.number == number)
        .options(joinedload(Recommendation.report))
    )
    if target is None:
        raise RecommendationError(
            f"{report.display_number} has no recommendation {number} entered.", field="repeats_number"
        )
    return target


def earlier_of(session: Session, rec: Recommendation) -> Recommendation | None:
    """The recommendation this one repeats, with its report; None without a link."""
    if rec.repeats_id is None:
        return None
    return session.scalar(
        sa.select(Recommendation)
        .where(Recommendation.id == rec.repeats_id)
        .options(joinedload(Recommendation.report))
    )


def _ancestors(session: Session, start: int | None) -> list[int]:
    """The ids up the chain from `start` (included), stopping at a repeated id."""
    out: list[int] = []
    current = start
    while current is not None and current not in out:
        out.append(current)
        current = session.scalar(sa.select(Recommendation.repeats_id).where(Recommendation.id == current))
    return out


def check_link(session: Session, rec: Recommendation, target: Recommendation) -> None:
    """Refuse a link to itself, a cycle, or a recommendation of a report not issued earlier.
    `target` has its report loaded."""
    report = session.get(Report, rec.report_id)
    assert report is not None
    if target.id == rec.id:
        raise RecommendationError("A recommendation cannot repeat itself.", field="repeats_number")
    up = _ancestors(session, target.id)
    if rec.id in up:
        names = {
            i: f"{number or 'Number not known'} #{k}"
            if k is not None
            else f"{number or 'Number not known'}, {NUMBER_NOT_KNOWN}"
            for i, number, k in session.execute(
                sa.select(Recommendation.id, Report.number, Recommendation.number)
                .join(Report, Report.id == Recommendation.report_id)
                .where(Recommendation.id.in_(up))
            )
        }
        path = " → ".join(names[i] for i in up[: up.index(rec.id) + 1])
        raise RecommendationError(
            f"That would make a circle of repeats: {_name(report, rec.number)} → {path}. "
            "A recommendation cannot repeat one that already repeats it, directly or through others.",
            field="repeats_number",
        )
    if target.report_id == rec.report_id:
        raise RecommendationError(
            "A recommendation can only repeat one from an earlier report, not one of the same report.",
            field="repeats_report",
        )
    # When either issue date is not known, which report came first cannot be checked.
    earlier, later = target.report.issued_on, report.issued_on
    if earlier is not None and later is not None and earlier >= later:
        raise RecommendationError(
            f"A recommendation can only repeat one from an earlier report: {target.report.display_number} "
            f"was issued {target.report.issued_text}, not before "
            f"{report.display_number} ({report.issued_text}).",
            field="repeats_report",
        )


def set_repeat(session: Session, rec: Recommendation, data: RepeatData) -> bool:
    """Link the recommendation to the earlier one it repeats, change the link, or remove
    it (both blank). Returns whether anything changed; flushes."""
    check_version(rec, data.version)
    note = data.note.strip()
    if len(note) > NOTE_MAX:
        raise RecommendationError(f"Keep the note under {NOTE_MAX:,} characters.", field="note")
    if not data.report.strip() and data.number is None:
        if rec.repeats_id is None and not rec.repeat_note:
            return False
        rec.repeats_id, rec.repeat_note = None, ""
        session.flush()
        return True
    target = find_target(session, data.report, data.number)
    check_link(session, rec, target)
    if rec.repeats_id == target.id and rec.repeat_note == note:
        return False
    rec.repeats_id, rec.repeat_note = target.id, note
    session.flush()
    return True


# --- reading chains ---------------------------------------------------------------------


@dataclass
class Chain:
    """The recommendations this one repeats (nearest first) and those repeating it,
    directly or through others (oldest report first)."""

    earlier: list[Recommendation]
    later: list[Recommendation]

    def __bool__(self) -> bool:
        return bool(self.earlier or self.later)


def _loaded(session: Session, ids: Iterable[int]) -> dict[int, Recommendation]:
    ids = list(ids)
    if not ids:
        return {}
    stmt = (
        sa.select(Recommendation)
        .where(Recommendation.id.in_(ids))
        .options(
            joinedload(Recommendation.report),
            selectinload(Recommendation.addressees).joinedload(Addressee.component),
        )
    )
    return {r.id: r for r in session.scalars(stmt)}


def chain(session: Session, rec: Recommendation) -> Chain:
    """The whole chain around a recommendation, members loaded with their report and
    addressees (for the visibility checks)."""
    up = _ancestors(session, rec.repeats_id)
    up = [i for i in up if i != rec.id]
    seen, down, frontier = {rec.id, *up}, [], [rec.id]
    while frontier:
        found = [
            i
            for i in session.scalars(
                sa.select(Recommendation.id).where(Recommendation.repeats_id.in_(frontier))
            )
            if i not in seen
        ]
        seen.update(found)
        down.extend(found)
        frontier = found
    members = _loaded(session, [*up, *down])
    later = sorted(
        (members[i] for i in down if i in members),
        key=lambda r: (r.report.issued_on is None, r.report.issued_on or date.min, r.report.id, r.number),
    )
    return Chain(earlier=[members[i] for i in up if i in members], later=later)


# --- unique counts ----------------------------------------------------------------------


def chain_roots(session: Session) -> dict[int, int]:
    """For every recommendation in a chain, the chain's first (earliest) member."""
    links = sa.select(Recommendation.id, Recommendation.repeats_id).where(
        Recommendation.repeats_id.is_not(None)
    )
    parent = {rec_id: earlier for rec_id, earlier in session.execute(links) if earlier is not None}
    roots: dict[int, int] = {}
    for start in parent:
        path, current = [start], parent[start]
        while current in parent and current not in path:
            path.append(current)
            current = parent[current]
        # A cycle is never saved by the rules; if one were, its smallest id stands for it.
        root = min(path[path.index(current) :]) if current in path else current
        for member in path:
            roots.setdefault(member, root)
        roots.setdefault(root, root)
    return roots


def unique_count(ids: Iterable[int], roots: dict[int, int]) -> int:
    """How many chains the recommendations belong to (each unlinked one is its own)."""
    return len({roots.get(i, i) for i in ids})


def unique_count_sql(session: Session, ids: sa.Select[Any]) -> int:
    """As unique_count, in SQL, for a query of recommendation ids (the dashboard's scope):
    a recursive query walks each chain down from its first member."""
    child = aliased(Recommendation)
    starts = (
        sa.select(Recommendation.id.label("id"), Recommendation.id.label("root"))
        .where(
            Recommendation.repeats_id.is_(None),
            Recommendation.id.in_(sa.select(child.repeats_id).where(child.repeats_id.is_not(None))),
        )
        .cte("chains", recursive=True)
    )
    below = aliased(Recommendation)
    chains = starts.union_all(
        sa.select(below.id, starts.c.root).join(starts, below.repeats_id == starts.c.id)
    )
    scope = ids.subquery("scope")
    scope_id = scope.c[0]
    stmt = (
        sa.select(sa.func.count(sa.distinct(sa.func.coalesce(chains.c.root, scope_id))))
        .select_from(scope)
        .outerjoin(chains, chains.c.id == scope_id)
    )
    return session.scalar(stmt) or 0
