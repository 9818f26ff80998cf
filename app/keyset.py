"""Keyset ("seek") pagination: each page starts after the last row of the previous one,
so pages stay stable while rows are added and a deep page costs what the first costs
(no OFFSET scan). Cursors are opaque, signed-free tokens: they hold only sort values."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.text import has_control_characters

# Integer sort keys are 32-bit INTEGER columns on PostgreSQL (ids, numbers, ranks); a
# cursor value outside that range was not made here, and the database could not bind it.
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


@dataclass(frozen=True)
class SortKey:
    expr: sa.SQLColumnExpression[Any]
    descending: bool = False
    kind: str = "int"  # "int" (32-bit), "str" or "date": how a cursor value is read back
    # NULLs allowed: they sort after every value, in either direction (a report whose
    # issue date is not known comes last, newest or oldest first)
    nullable: bool = False


class BadCursor(ValueError):
    pass


def encode(values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, date) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def decode(token: str, keys: Sequence[SortKey]) -> list[Any]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(raw, list) or len(raw) != len(keys):
            raise BadCursor
        out: list[Any] = []
        for key, value in zip(keys, raw, strict=True):
            if value is None and key.nullable:
                out.append(None)
            elif key.kind == "date":
                out.append(date.fromisoformat(value))
            elif key.kind == "int":
                if not isinstance(value, int) or isinstance(value, bool) or not INT_MIN <= value <= INT_MAX:
                    raise BadCursor
                out.append(value)
            else:
                if not isinstance(value, str) or has_control_characters(value):
                    raise BadCursor
                out.append(value)
        return out
    except (ValueError, TypeError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise BadCursor from exc


def _equal(key: SortKey, value: Any) -> sa.ColumnElement[bool]:
    return key.expr.is_(None) if value is None else key.expr == value


def _step(key: SortKey, value: Any, reverse: bool) -> sa.ColumnElement[bool]:
    """Rows strictly after `value` on this key alone (before it when `reverse`). NULLs
    of a nullable key come after every value: after a value, they follow it; before a
    NULL, every value comes."""
    ahead = key.descending != reverse  # descending: "after" means smaller
    if value is None:
        return key.expr.is_not(None) if reverse else sa.false()
    beyond = key.expr < value if ahead else key.expr > value
    if key.nullable and not reverse:
        return sa.or_(beyond, key.expr.is_(None))
    return beyond


def _after(keys: Sequence[SortKey], values: Sequence[Any], reverse: bool) -> sa.ColumnElement[bool]:
    """Rows strictly after `values` in the keys' order (before it when `reverse`)."""
    clauses = []
    for i, key in enumerate(keys):
        equal = [_equal(keys[j], values[j]) for j in range(i)]
        clauses.append(sa.and_(*equal, _step(key, values[i], reverse)))
    # The OR of steps is exact but no index can range-scan it; the redundant bound on the
    # first key can, so a deep page starts at its position instead of scanning up to it.
    lead, first = keys[0], values[0]
    bound: sa.ColumnElement[bool]
    if first is None:  # within the NULLs of a nullable lead key
        bound = sa.true() if reverse else lead.expr.is_(None)
    else:
        bound = lead.expr <= first if lead.descending != reverse else lead.expr >= first
        if lead.nullable and not reverse:
            bound = sa.or_(bound, lead.expr.is_(None))
    return sa.and_(bound, sa.or_(*clauses))


def ordering(keys: Sequence[SortKey], reverse: bool = False) -> list[sa.ColumnElement[Any]]:
    """ORDER BY clauses for the keys (reversed for paging backwards); a nullable key's
    NULLs last (first when reversed), the same on every database."""
    out: list[sa.ColumnElement[Any]] = []
    for k in keys:
        clause = k.expr.desc() if k.descending != reverse else k.expr.asc()
        if k.nullable:
            clause = clause.nulls_first() if reverse else clause.nulls_last()
        out.append(clause)
    return out


@dataclass(frozen=True)
class KeysetPage:
    items: list[Any]
    next_cursor: str | None
    prev_cursor: str | None


def page(
    session: Session,
    stmt: sa.Select[Any],
    keys: Sequence[SortKey],
    *,
    after: str | None,
    before: str | None,
    size: int,
    values_of: Any,
) -> KeysetPage:
    """One page of `stmt` (which must select ORM entities; `values_of(item)` gives an
    item's sort values). BadCursor for a token this code did not make."""
    reverse = before is not None and after is None
    token = before if reverse else after
    query = stmt.order_by(None).order_by(*ordering(keys, reverse))
    if token:
        query = query.where(_after(keys, decode(token, keys), reverse))
    rows = list(session.scalars(query.limit(size + 1)).unique())
    more = len(rows) > size
    rows = rows[:size]
    if reverse:
        rows.reverse()
    if not rows:
        return KeysetPage([], None, None)
    first, last = encode(values_of(rows[0])), encode(values_of(rows[-1]))
    if reverse:
        return KeysetPage(rows, next_cursor=last, prev_cursor=first if more else None)
    return KeysetPage(rows, next_cursor=last if more else None, prev_cursor=first if token else None)
