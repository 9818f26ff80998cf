"""Rules for components: unique abbreviations and a parent tree without loops."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.locking import UNCHECKED, Expected, bump_version, check_version
from app.models import Component
from app.service_errors import ServiceError


class ComponentError(ServiceError):
    """A component rule was broken; `field` names the form field it belongs to."""


def _check(session: Session, component: Component | None, abbreviation: str, parent_id: int | None) -> None:
    clash = session.scalar(
        sa.select(Component.id).where(
            sa.func.lower(Component.abbreviation) == abbreviation.lower(),
            Component.id != (component.id if component else -1),
        )
    )
    if clash is not None:
        raise ComponentError(f"{abbreviation} is already a component.", field="abbreviation")
    if parent_id is None:
        return
    parents = dict(session.execute(sa.select(Component.id, Component.parent_id)).all())
    if parent_id not in parents:
        raise ComponentError("Choose a parent from the list.", field="parent_id")
    seen: set[int] = set()
    node: int | None = parent_id
    while node is not None and node not in seen:
        if component is not None and node == component.id:
            raise ComponentError("A component cannot be part of itself.", field="parent_id")
        seen.add(node)
        node = parents.get(node)


def save_component(
    session: Session,
    component: Component | None,
    *,
    abbreviation: str,
    name: str,
    parent_id: int | None,
    active: bool,
    version: Expected = UNCHECKED,
) -> Component:
    """Create a component, or change one unless it changed since `version` (ConflictError)."""
    if component is not None:
        check_version(component, version)
    _check(session, component, abbreviation, parent_id)
    if component is None:
        component = Component()
        session.add(component)
    else:
        bump_version(component)
    component.abbreviation = abbreviation
    component.name = name
    component.parent_id = parent_id
    component.active = active
    session.flush()
    return component
