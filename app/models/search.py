"""The full-text search index: one document per report and per recommendation.

Derived data, rebuilt from the records at any time (app.search.index). The database's
own full-text machinery sits on top: an FTS5 table kept by triggers on SQLite, a
generated tsvector column with a GIN index on PostgreSQL (see migration 0003)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model


class SearchDocument(Model):
    __tablename__ = "search_documents"
    __audited__ = False  # derived from audited rows; rebuilt, never edited

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    ref_id: Mapped[int] = mapped_column()
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(sa.Text, default="")
    body: Mapped[str] = mapped_column(sa.Text, default="")

    __table_args__ = (
        sa.UniqueConstraint("kind", "ref_id"),
        sa.CheckConstraint("kind IN ('report', 'recommendation')", name="kind_known"),
    )


class Acronym(Model):
    """A short form and what it stands for ("HSIN", "Homeland Security Information
    Network"): a search for either finds both. Administrators keep the list; component
    abbreviations and names are paired the same way without an entry here."""

    __tablename__ = "acronyms"

    id: Mapped[int] = mapped_column(primary_key=True)
    acronym: Mapped[str] = mapped_column(sa.String(40), unique=True)
    expansion: Mapped[str] = mapped_column(sa.String(200))
    version: Mapped[int] = mapped_column(default=1, server_default="1", info={"audit": False})

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    __table_args__ = (
        sa.CheckConstraint("acronym <> ''", name="acronym_not_empty"),
        sa.CheckConstraint("expansion <> ''", name="expansion_not_empty"),
    )

    def __str__(self) -> str:
        return self.acronym
