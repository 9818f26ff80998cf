"""OIG reports: the documents whose recommendations RecTrack follows up."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, enum_type, utcnow
from app.extensions import Model
from app.models.component import Component, component_links
from app.models.enums import ReportType, Sensitivity

if TYPE_CHECKING:
    from app.models.recommendation import Recommendation

report_components = component_links("report_components", "report")


class Report(Model):
    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique when present; NULL while the number is unknown (NULLs never collide).
    number: Mapped[str | None] = mapped_column(sa.String(40), unique=True)
    issuing_office: Mapped[str] = mapped_column(sa.String(120), default="DHS OIG", server_default="DHS OIG")
    title: Mapped[str] = mapped_column(sa.String(500))
    issued_on: Mapped[date] = mapped_column(index=True)
    issued_on_approximate: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
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
        order_by="Recommendation.number",
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
    def display_number(self) -> str:
        return self.number or "Number not known"

    @property
    def label(self) -> str:
        return f"{self.number}: {self.title}" if self.number else self.title

    def __str__(self) -> str:
        return self.number or self.title

    def __repr__(self) -> str:
        return f"<Report {self.number or self.id}>"
