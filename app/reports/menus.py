"""Choices for the filter menus of the report and recommendation lists."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app import cache
from app.cache import reader_scope
from app.reports import queries


def issue_years(session: Session, user: Any) -> list[int]:
    """The years of the reports this user may open, newest first (cached per scope)."""
    return cache.current(
        session,
        ("issue-years", reader_scope(user)),
        lambda: list(session.scalars(queries.issue_years(user))),
    )
