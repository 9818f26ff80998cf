"""OIG reports: the documents whose recommendations RecTrack follows up."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, enum_type, utcnow
from app.extensions import Model
from app.models.component import Component, component_links
from app.models.enums import IssuePrecision, ReportType, Sensitivity

if TYPE_CHECKING:
    from app.issue_dates import IssueDate
    from app.models.recommendation import Recommendation

report_components = component_links("report_components", "report")


def _rec_number_order() -> Any:
    from app.models.recommendation import Recommendation

    return Recommendation.number.asc().nulls_last()


def _rec_id_order() -> Any:
    from app.models.recommendation import Recommendation

    return Recommendation.id.asc()


class Report(Model):
    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique when present; NULL while the number is unknown (NULLs never collide).
    number: Mapped[str | None] = mapped_column(sa.String(40), unique=True)
    issuing_office: Mapped[str] = mapped_column(sa.String(120), default="DHS OIG", server_default="DHS OIG")
    title: Mapped[str] = mapped_column(sa.String(500))
    # The representative issue date: the day itself, or the LAST day of the month or
    # fiscal year when only that is known (app/issue_dates.py says why). NULL: no source
    # gives even the fiscal year; clocks counted from it are "not known".
    issued_on: Mapped[date | None] = mapped_column(index=True)
    issued_precision: Mapped[IssuePrecision] = mapped_column(
        enum_type(IssuePrecision, "issue_precision"),
        default=IssuePrecision.DAY,
        server_default=IssuePrecision.DAY.value,
    )
    issued_on_approximate: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Where the issue date was read, in words (the seed data's issued_source).
    issued_source: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    report_type: Mapped[ReportType | None] = mapped_column(enum_type(ReportType, "report_type"))
    url: Mapped[str | None] = mapped_column(sa.String(500))
    summary: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    recommendations_published: Mapped[int | None] = mapped_column()
    concurrence_summary: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    sensitivity: Mapped[Sensitivity] = mapped_column(
        enum_type(Sensitivity, "sensitivity"), default=Sensitivity.PUBLIC
    )
    # Provenance: where each fact on this report was read, and caveats about gaps.
    sources: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # Optimistic locking (app/locking.py): a form loaded before the last save cannot save.
    version: Mapped[int] = mapped_column(default=1, server_default="1", info={"audit": False})
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, info={"audit": False})
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, info={"audit": False}
    )

    components: Mapped[list[Component]] = relationship(
        secondary=report_components, order_by="Component.abbreviation", info={"audit": True}
    )
    recommendations: Mapped[list[Recommendation]] = relationship(
        back_populates="report",
        cascade="all, delete-orphan",
        # a recommendation whose number is not known after the numbered ones, on every database
        order_by=lambda: [_rec_number_order(), _rec_id_order()],
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    __table_args__ = (
        sa.CheckConstraint(
            "recommendations_published IS NULL OR recommendations_published >= 0",
            name="recommendations_published_not_negative",
        ),
        sa.CheckConstraint("number IS NULL OR number <> ''", name="number_not_empty"),
    )

    @property
    def issue_date(self) -> IssueDate | None:
        """The issue date as precise as it is known; None when it is not known."""
        from app.issue_dates import IssueDate

        if self.issued_on is None:
            return None
        return IssueDate(self.issued_on, self.issued_precision or IssuePrecision.DAY)

    @property
    def issued_label(self) -> str:
        """ "September 27, 2024", "September 2024", "FY2024", with "about" if
        approximate, or "Not known"."""
        from app import issue_dates

        return issue_dates.label(self.issue_date, self.issued_on_approximate)

    @property
    def issued_text(self) -> str:
        """2024-09-27, 2024-09, FY2024 or "not known" (as typed, imported, exported)."""
        from app import issue_dates

        return issue_dates.text(self.issue_date)

    @property
    def issued_first_day(self) -> date | None:
        """The earliest day the report can have been issued (None: not known)."""
        issue = self.issue_date
        return issue.first_day if issue is not None else None

    @property
    def issue_date_imprecise(self) -> bool:
        """Whether clocks counted from the issue date are approximate: the date was
        inferred, or only its month or fiscal year is known (or nothing of it)."""
        return (
            self.issued_on is None
            or bool(self.issued_on_approximate)
            or self.issued_precision not in (None, IssuePrecision.DAY)
        )

    @property
    def display_number(self) -> str:
        return self.number or "Number not known"

    @property
    def label(self) -> str:
        return f"{self.number}: {self.title}" if self.number else self.title

    def __str__(self) -> str:
        return self.number or self.title

    def __repr__(self) -> str:
        return f"<Report {self.number or self.id}>"
