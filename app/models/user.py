"""Accounts. A liaison serves one or more components."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, enum_type, utcnow
from app.extensions import Model
from app.models.component import Component, component_links
from app.models.enums import Role

user_components = component_links("user_components", "user")


class User(UserMixin, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-case, so the unique constraint is case-insensitive on every database.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(120))
    role: Mapped[Role] = mapped_column(enum_type(Role, "role"))
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    password_hash: Mapped[str] = mapped_column(sa.String(255), info={"audit": "redact"})
    # Bumped on logout and password change: every older session cookie stops working.
    # Sign-in bookkeeping: no cached figure reads these, so writing them keeps caches
    # ("derived": False, app/cache.py).
    session_version: Mapped[int] = mapped_column(
        default=1, server_default="1", info={"audit": False, "derived": False}
    )
    # Failed sign-ins in a row, from anywhere; a success or a password reset ends the run
    # (app/auth/services.py, authenticate).
    failed_login_count: Mapped[int] = mapped_column(
        default=0, server_default="0", info={"audit": False, "derived": False}
    )
    last_login_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, info={"audit": False, "derived": False}
    )
    # The address of the last sign-in: the next sign-in shows it with last_login_at.
    last_login_ip: Mapped[str | None] = mapped_column(sa.String(45), info={"audit": False, "derived": False})
    # A password an administrator set is temporary: the next sign-in must change it
    # (app/auth/sessions.py). Changing one's own password or a reset by e-mail clears it.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # When an administrator last re-enabled the account: dormancy counts from the latest
    # of this, the last sign-in and created_at (app/auth/dormancy.py).
    enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, info={"derived": False})
    # When the dormancy warning of the current period was queued (one per period).
    dormancy_warned_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, info={"audit": False, "derived": False}
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, info={"audit": False})
    # Optimistic locking (app/locking.py) for the administrators' account form. Only a save
    # of that form moves it (bump_version); sign-ins, which write the sign-in columns above,
    # do not, so they never make an open account form stale.
    version: Mapped[int] = mapped_column(default=1, server_default="1", info={"audit": False})

    components: Mapped[list[Component]] = relationship(
        secondary=user_components, order_by="Component.abbreviation", info={"audit": True}
    )

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}  # noqa: RUF012

    __table_args__ = (
        sa.CheckConstraint("email = lower(email)", name="email_lower_case"),
        sa.CheckConstraint("email <> ''", name="email_not_empty"),
    )

    # Flask-Login
    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def component_ids(self) -> frozenset[int]:
        return frozenset(c.id for c in self.components)

    def __str__(self) -> str:
        return self.email

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"
