"""Rules for entering recommendations and the components they are addressed to.
Status changes belong to the lifecycle; here the OIG records what the report says."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import wording
from app.audit import AuditActor
from app.lifecycle import history
from app.lifecycle.history import ENTRY_EVENTS, has_lifecycle_history
from app.lifecycle.workflow import check_version
from app.locking import UNCHECKED, Expected, MissingVersionError, bump_version
from app.models import (
    Addressee,
    Component,
    Concurrence,
    EventKind,
    Recommendation,
    RecStatus,
    Report,
    ResponseState,
    Sensitivity,
    TextSource,
)
from app.service_errors import ServiceError


class RecommendationError(ServiceError):
    """A recommendation rule was broken; `field` is the form field's dotted path."""


@dataclass
class AddresseeData:
    component_id: int | None
    is_lead: bool = False
    concurrence: Concurrence = Concurrence.PENDING
    response: str = ""
    response_date: date | None = None
    version: int | None = None  # the row's version when the form was loaded

    @property
    def is_blank(self) -> bool:
        return (
            self.component_id is None
            and not self.response
            and self.response_date is None
            and self.concurrence == Concurrence.PENDING
        )

    @classmethod
    def of(cls, addressee: Addressee) -> AddresseeData:
        """The component's part as it is now (without its version: not from a form)."""
        return cls(**{name: getattr(addressee, name) for name in ADDRESSEE_COLUMNS})


# The fields of AddresseeData kept in the Addressee columns of the same names.
ADDRESSEE_COLUMNS = tuple(f.name for f in fields(AddresseeData) if f.name != "version")


@dataclass
class RecommendationData:
    number: int | None  # None: not known (no source read gives it)
    text: str
    text_source: TextSource = TextSource.VERBATIM
    source_url: str | None = None  # where the text was read, when not the report's page
    significant: bool | None = False  # None: not listed
    questioned_costs: Decimal | None = None
    funds_put_to_better_use: Decimal | None = None
    sensitivity: Sensitivity = Sensitivity.PUBLIC
    addressees: list[AddresseeData] = field(default_factory=list)
    # The recommendation's version when the form was loaded; UNCHECKED for callers that
    # are not forms (imports), which then do not check the rows' versions either.
    version: Expected = UNCHECKED

    @classmethod
    def of(cls, rec: Recommendation) -> RecommendationData:
        """The recommendation and its addressees as they are now (without versions)."""
        return cls(
            **{name: getattr(rec, name) for name in RECOMMENDATION_COLUMNS},
            addressees=[AddresseeData.of(a) for a in rec.addressees],
        )


# The fields of RecommendationData kept in the Recommendation columns of the same names.
RECOMMENDATION_COLUMNS = tuple(
    f.name for f in fields(RecommendationData) if f.name not in ("addressees", "version")
)


@dataclass
class _Facts:
    """What the rules need from the database about a report's recommendations."""

    taken: set[int]  # numbers already used by the report's other recommendations
    entered: int  # how many recommendations of the report are entered
    components: set[int]  # ids of the known components


def _facts(session: Session, report: Report, rec: Recommendation | None) -> _Facts:
    if sa.inspect(report).key is None:  # not flushed yet: all its recommendations are in memory
        numbers = [r.number for r in report.recommendations if r is not rec]
    else:
        numbers = list(
            session.scalars(
                sa.select(Recommendation.number).where(
                    Recommendation.report_id == report.id,
                    Recommendation.id != (rec.id if rec else -1),
                )
            )
        )
    return _Facts(
        taken={n for n in numbers if n is not None},
        entered=len(numbers),  # read only for a new recommendation (rec None: none left out)
        components=set(session.scalars(sa.select(Component.id))),
    )


def _check(
    session: Session, report: Report, data: RecommendationData, rec: Recommendation | None, today: date
) -> list[tuple[int, AddresseeData]]:
    return _check_with(_facts(session, report, rec), report, data, rec, today)


def _check_with(
    facts: _Facts, report: Report, data: RecommendationData, rec: Recommendation | None, today: date
) -> list[tuple[int, AddresseeData]]:
    # any number of recommendations may have a number not known (None); a known one is unique
    if data.number is not None and data.number in facts.taken:
        raise RecommendationError(f"{report} already has a recommendation {data.number}.", field="number")
    published = report.recommendations_published
    if rec is None and published is not None and facts.entered >= published:
        entered = facts.entered
        raise RecommendationError(
            f"{report} published {wording.count(published, 'recommendation')} and "
            f"{entered} {wording.noun(entered, 'is', 'are')} entered. "
            "If the report has more, correct its published count first.",
            field="number",
        )
    if report.sensitivity == Sensitivity.RESTRICTED and data.sensitivity != Sensitivity.RESTRICTED:
        raise RecommendationError(
            "This report is restricted, so its recommendations must be restricted too.",
            field="sensitivity",
        )

    rows = [(i, row) for i, row in enumerate(data.addressees) if not row.is_blank]
    if not rows:
        raise RecommendationError(
            "Choose at least one component this recommendation is addressed to.",
            field="addressees.0.component_id",
        )
    seen: set[int] = set()
    for i, row in rows:
        if row.component_id is None:
            raise RecommendationError(
                "Choose a component for this row.", field=f"addressees.{i}.component_id"
            )
        if row.component_id not in facts.components:
            raise RecommendationError(
                "Choose a component from the list.", field=f"addressees.{i}.component_id"
            )
        if row.component_id in seen:
            raise RecommendationError(
                "This component is already listed above.", field=f"addressees.{i}.component_id"
            )
        seen.add(row.component_id)
        if row.response_date is not None and row.response_date > today:
            raise RecommendationError(
                "The response date cannot be in the future.", field=f"addressees.{i}.response_date"
            )
        first_day = report.issued_first_day
        if row.response_date is not None and first_day is not None and row.response_date < first_day:
            raise RecommendationError(
                "The response date cannot be before the report was issued.",
                field=f"addressees.{i}.response_date",
            )
    leads = [i for i, row in rows if row.is_lead]
    if len(leads) > 1:
        raise RecommendationError(
            "Mark only one component as the lead.", field=f"addressees.{leads[1]}.is_lead"
        )
    return rows


def _apply(
    rec: Recommendation, data: RecommendationData, rows: list[tuple[int, AddresseeData]]
) -> list[Addressee]:
    """Copy the form onto the recommendation; returns the addressees whose concurrence
    changed (new rows with a known concurrence included)."""
    for name in RECOMMENDATION_COLUMNS:
        setattr(rec, name, getattr(data, name))

    existing = {a.component_id: a for a in rec.addressees}
    wanted = [row for _, row in rows]
    only_one = len(wanted) == 1
    kept: list[Addressee] = []
    changed: list[Addressee] = []
    for row in wanted:
        assert row.component_id is not None
        addressee = existing.pop(row.component_id, None) or Addressee(component_id=row.component_id)
        if addressee.concurrence != row.concurrence and (
            addressee.id or row.concurrence != Concurrence.PENDING
        ):
            changed.append(addressee)
        addressee.is_lead = row.is_lead or only_one
        addressee.concurrence = row.concurrence
        addressee.response = row.response
        addressee.response_date = row.response_date
        kept.append(addressee)
    rec.addressees = kept
    return changed


def _new(
    session: Session,
    report: Report,
    data: RecommendationData,
    rows: list[tuple[int, AddresseeData]],
    today: date,
) -> Recommendation:
    """A checked recommendation added to the session: Open–Unresolved, tracked from today."""
    rec = Recommendation(report=report, status=RecStatus.OPEN_UNRESOLVED, tracked_since=today)
    _apply(rec, data, rows)
    session.add(rec)
    return rec


def create_recommendation(
    session: Session, actor: AuditActor, report: Report, data: RecommendationData, *, today: date
) -> Recommendation:
    """Enter a recommendation of a report, with its addressees. It was issued
    Open–Unresolved on the report's date; the history says so from the start."""
    rows = _check(session, report, data, None, today)
    rec = _new(session, report, data, rows, today)
    session.flush()
    history.record_issuance(session, rec, actor)
    session.flush()
    return rec


def create_recommendations(
    session: Session,
    actor: AuditActor,
    report: Report,
    datas: list[RecommendationData],
    *,
    today: date,
    flush: bool = True,
) -> list[Recommendation | RecommendationError]:
    """Enter several new recommendations of one report (an import) with one flush: each
    checked by create_recommendation's rules as if entered one after the other. A refused
    one is returned as its error, in its place, and the others are still entered.
    flush=False: the caller flushes (the report may itself be new and unflushed)."""
    facts = _facts(session, report, None)
    out: list[Recommendation | RecommendationError] = []
    for data in datas:
        try:
            rows = _check_with(facts, report, data, None, today)
        except RecommendationError as exc:
            out.append(exc)
            continue
        rec = _new(session, report, data, rows, today)
        history.record_issuance(session, rec, actor)
        if data.number is not None:
            facts.taken.add(data.number)
        facts.entered += 1
        out.append(rec)
    if flush:
        session.flush()
    return out


def _check_versions(rec: Recommendation, data: RecommendationData) -> None:
    """The form must have been loaded from the current recommendation and from the
    current state of every component row it names. Every save of this form bumps the
    recommendation's version, so a current version means the same rows as at load time;
    a row's own version catches the component's lifecycle steps taken since."""
    check_version(rec, data.version)
    if data.version is UNCHECKED:
        return
    current = {a.component_id: a for a in rec.addressees}
    for component_id, addressee in current.items():
        versions = [row.version for row in data.addressees if row.component_id == component_id]
        if not versions:
            continue  # the form drops this row
        if all(v is None for v in versions):
            raise MissingVersionError()
        for version in versions:
            if version is not None:  # a second row naming it is new; _check refuses it
                check_version(addressee, version)


def _check_removals(rec: Recommendation, rows: list[tuple[int, AddresseeData]]) -> None:
    kept = {row.component_id for _, row in rows}
    for addressee in rec.addressees:
        if addressee.component_id not in kept and (
            addressee.response_state != ResponseState.NONE
            or addressee.last_update_on
            or addressee.target_date
        ):
            raise RecommendationError(
                f"{addressee.component.abbreviation} has already responded to this recommendation, "
                "so it cannot be removed. Its history stays with the recommendation.",
                field="addressees.0.component_id",
            )


def update_recommendation(
    session: Session, actor: AuditActor, rec: Recommendation, data: RecommendationData, *, today: date
) -> None:
    """Correct a recommendation's text, numbers or addressees. A concurrence recorded here
    becomes a history event, dated by its response date when known."""
    _check_versions(rec, data)
    rows = _check(session, rec.report, data, rec, today)
    _check_removals(rec, rows)
    new_leads = {row.component_id for _, row in rows if row.is_lead or len(rows) == 1}
    old_lead = rec.lead
    if old_lead is not None and old_lead.component_id not in new_leads:
        # Demote first: the one-lead index must never see two leads inside one flush.
        old_lead.is_lead = False
        session.flush()
    changed = _apply(rec, data, rows)
    bump_version(rec)  # also when only the rows changed: an older form is now stale
    session.flush()
    for addressee in changed:
        history.record(
            session,
            rec,
            EventKind.CONCURRENCE_RECORDED,
            actor,
            effective_on=addressee.response_date or today,
            addressee=addressee,
            concurrence_after=addressee.concurrence,
        )
    session.flush()


def is_deletable(rec: Recommendation) -> bool:
    """Only data entry so far (needs rec.events loaded): deleting is still allowed."""
    return all(e.kind in ENTRY_EVENTS for e in rec.events)


def delete_recommendation(session: Session, rec: Recommendation) -> None:
    """Delete a recommendation entered by mistake (the audit trail keeps a full copy).
    One with a lifecycle history is refused: close it instead."""
    if has_lifecycle_history(session, [rec.id]):
        raise RecommendationError(
            "This recommendation has responses or decisions in its history, so it was not "
            "entered by mistake and cannot be deleted. Close it instead.",
            status=409,
        )
    session.delete(rec)
    session.flush()
