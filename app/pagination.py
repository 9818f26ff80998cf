"""Page-number pagination for short lists (reports, users, components)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Page:
    items: Sequence[Any]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first_index(self) -> int:
        return 0 if self.total == 0 else (self.number - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return min(self.total, self.number * self.per_page)


def paginate(
    session: Session, stmt: sa.Select[Any], number: int, per_page: int, *, rows: bool = False
) -> Page:
    """Run `stmt` for one page. `rows=True` keeps whole rows (for multi-column selects)."""
    total = session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())) or 0
    last = max(1, -(-total // per_page))
    number = min(max(1, number), last)
    paged = stmt.limit(per_page).offset((number - 1) * per_page)
    items = session.execute(paged).all() if rows else session.scalars(paged).all()
    return Page(items=items, number=number, per_page=per_page, total=total)
