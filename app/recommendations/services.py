"""Rules for entering recommendations and the components they are addressed to.
Status changes belong to the lifecycle; here the OIG records what the report says."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.models import (
    Addressee,
    Component,
    Concurrence,
    Recommendation,
    Report,
    Sensitivity,
    TextSource,
)


class RecommendationError(ValueError):
    """A recommendation rule was broken; `field` is the form field's dotted path."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class AddresseeData:
    component_id: int | None
    is_lead: bool = False
    concurrence: Concurrence = Concurrence.PENDING
    response: str = ""
    response_date: date | None = None

    @property
    def is_blank(self) -> bool:
        return (
            self.component_id is None
            and not self.response
            and self.response_date is None
            and self.concurrence == Concurrence.PENDING
        )


@dataclass
class RecommendationData:
    number: int
    text: str
    text_source: TextSource = TextSource.VERBATIM
    significant: bool = False
    questioned_costs: Decimal | None = None
    funds_put_to_better_use: Decimal | None = None
    sensitivity: Sensitivity = Sensitivity.PUBLIC
    addressees: list[AddresseeData] = field(default_factory=list)


def _check(
    session: Session, report: Report, data: RecommendationData, rec: Recommendation | None, today: date
) -> list[tuple[int, AddresseeData]]:
    clash = session.scalar(
        sa.select(Recommendation.id).where(
            Recommendation.report_id == report.id,
            Recommendation.number == data.number,
            Recommendation.id != (rec.id if rec else -1),
        )
    )
    if clash is not None:
        raise RecommendationError(f"{report} already has a recommendation {data.number}.", field="number")
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
    known = set(session.scalars(sa.select(Component.id)).all())
    for i, row in rows:
        if row.component_id is None:
            raise RecommendationError(
                "Choose a component for this row.", field=f"addressees.{i}.component_id"
            )
        if row.component_id not in known:
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
        if row.response_date is not None and row.response_date < report.issued_on:
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


def _apply(rec: Recommendation, data: RecommendationData, rows: list[tuple[int, AddresseeData]]) -> None:
    rec.number = data.number
    rec.text = data.text
    rec.text_source = data.text_source
    rec.significant = data.significant
    rec.questioned_costs = data.questioned_costs
    rec.funds_put_to_better_use = data.funds_put_to_better_use
    rec.sensitivity = data.sensitivity

    existing = {a.component_id: a for a in rec.addressees}
    wanted = [row for _, row in rows]
    only_one = len(wanted) == 1
    kept: list[Addressee] = []
    for row in wanted:
        assert row.component_id is not None
        addressee = existing.pop(row.component_id, None) or Addressee(component_id=row.component_id)
        addressee.is_lead = row.is_lead or only_one
        addressee.concurrence = row.concurrence
        addressee.response = row.response
        addressee.response_date = row.response_date
        kept.append(addressee)
    rec.addressees = kept


def create_recommendation(
    session: Session, report: Report, data: RecommendationData, *, today: date
) -> Recommendation:
    """Enter a recommendation of a report, with its addressees; it starts Open–Unresolved."""
    rows = _check(session, report, data, None, today)
    rec = Recommendation(report=report)
    _apply(rec, data, rows)
    session.add(rec)
    session.flush()
    return rec


def update_recommendation(
    session: Session, rec: Recommendation, data: RecommendationData, *, today: date
) -> None:
    """Correct a recommendation's text, numbers or addressees."""
    rows = _check(session, rec.report, data, rec, today)
    new_leads = {row.component_id for _, row in rows if row.is_lead or len(rows) == 1}
    old_lead = rec.lead
    if old_lead is not None and old_lead.component_id not in new_leads:
        # Demote first: the one-lead index must never see two leads inside one flush.
        old_lead.is_lead = False
        session.flush()
    _apply(rec, data, rows)
    session.flush()


def delete_recommendation(session: Session, rec: Recommendation) -> None:
    """Delete a recommendation entered by mistake (the audit trail keeps a full copy)."""
    session.delete(rec)
    session.flush()
