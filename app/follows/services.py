"""Following and unfollowing. Only what the user may see (app.auth.policy): a report they
may not open is "not found", as on its page. Services flush, never commit; the audit
trail records each follow and unfollow (a new or deleted `follows` row)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth import policy
from app.models import Component, Follow, Report
from app.service_errors import ServiceError

REPORT, COMPONENT = "report", "component"
TARGETS = (REPORT, COMPONENT)
NOT_FOUND = "There is no such page."


def _column(kind: str) -> Any:
    return Follow.report_id if kind == REPORT else Follow.component_id


def visible_target(session: Session, user: Any, kind: str, target_id: int) -> Report | Component:
    """The report or component, if the user may see it; otherwise a 404 (a restricted
    report is "not found", as on its page)."""
    target: Report | Component | None
    if kind == REPORT:
        visible = policy.report_visibility(user)
        target = session.scalar(sa.select(Report).where(Report.id == target_id, visible))
    else:
        target = session.get(Component, target_id) if getattr(user, "is_authenticated", False) else None
    if target is None:
        raise ServiceError(NOT_FOUND, status=404)
    return target


def is_following(session: Session, user: Any, kind: str, target_id: int) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return (
        session.scalar(sa.select(Follow.id).where(Follow.user_id == user.id, _column(kind) == target_id))
        is not None
    )


def follow(session: Session, user: Any, kind: str, target_id: int) -> bool:
    """Follow a report or component the user may see; True if newly followed (following
    twice, or two clicks at once, leaves one row)."""
    visible_target(session, user, kind, target_id)
    if is_following(session, user, kind, target_id):
        return False
    row = Follow(user_id=user.id, **{f"{kind}_id": target_id})
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return False
    return True


def unfollow(session: Session, user: Any, kind: str, target_id: int) -> bool:
    """Stop following; True if there was something to stop. No visibility check: one may
    always stop following something one can no longer see."""
    row = session.scalar(sa.select(Follow).where(Follow.user_id == user.id, _column(kind) == target_id))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


@dataclass(frozen=True)
class Followed:
    kind: str
    target_id: int
    name: str


def followed_by(session: Session, user: Any) -> list[Followed]:
    """What the user follows, reports then components, by name. A report they may no
    longer see is listed by "a report you can no longer see" so they can still unfollow it."""
    out: list[Followed] = []
    visible = policy.report_visibility(user)
    for report_id, number, title, seen in session.execute(
        sa.select(Report.id, Report.number, Report.title, visible)
        .join(Follow, Follow.report_id == Report.id)
        .where(Follow.user_id == user.id)
        .order_by(Report.number, Report.id)
    ):
        name = (number or title) if seen else "A report you can no longer see"
        out.append(Followed(REPORT, report_id, name))
    for component_id, abbreviation, name in session.execute(
        sa.select(Component.id, Component.abbreviation, Component.name)
        .join(Follow, Follow.component_id == Component.id)
        .where(Follow.user_id == user.id)
        .order_by(Component.abbreviation)
    ):
        out.append(Followed(COMPONENT, component_id, f"{abbreviation}: {name}"))
    return out
