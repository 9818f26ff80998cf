"""Agencies and their components (I&A, FEMA, ...): who recommendations are addressed to."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model, db


class Component(Model):
    __tablename__ = "components"

    id: Mapped[int] = mapped_column(primary_key=True)
    abbreviation: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("components.id", ondelete="RESTRICT"), index=True
    )
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # Optimistic locking (app/locking.py): a form loaded before the last save cannot save.
    version: Mapped[int] = mapped_column(default=1, server_default="1", info={"audit": False})

    parent: Mapped[Component | None] = relationship(remote_side=[id])

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    __table_args__ = (sa.CheckConstraint("abbreviation <> ''", name="abbreviation_not_empty"),)

    def __str__(self) -> str:
        return self.abbreviation

    def __repr__(self) -> str:
        return f"<Component {self.abbreviation}>"


def component_links(name: str, owner: str) -> sa.Table:
    """The table linking `owner` rows (of the table "{owner}s") to components: deleting
    the owner deletes its links; a component still linked cannot be deleted."""
    return sa.Table(
        name,
        db.metadata,
        sa.Column(f"{owner}_id", sa.ForeignKey(f"{owner}s.id", ondelete="CASCADE"), primary_key=True),
        sa.Column(
            "component_id",
            sa.ForeignKey("components.id", ondelete="RESTRICT"),
            primary_key=True,
            index=True,
        ),
    )


def all_components() -> sa.Select[Component]:
    """Every component by abbreviation: the choices and filter menus of the forms and lists."""
    return sa.select(Component).order_by(Component.abbreviation)
