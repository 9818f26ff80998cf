"""Queries for the administration pages."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.models import AuditEvent, MfaFactor, User


def users() -> sa.Select[User]:
    return sa.select(User).options(selectinload(User.components)).order_by(User.role, User.email)


def user(user_id: int) -> sa.Select[User]:
    return sa.select(User).options(selectinload(User.components)).where(User.id == user_id)


def factors() -> sa.Select[MfaFactor]:
    """Every account's second factors (names, kinds, last use), for the accounts page."""
    return sa.select(MfaFactor).order_by(MfaFactor.user_id, MfaFactor.created_at, MfaFactor.id)


def audit_events(
    action: str = "", object_type: str = "", actor: str = "", record: str = ""
) -> sa.Select[AuditEvent]:
    """Events newest first; `record` matches part of the record's name, in any case
    ("oig-12-15 #3" finds the recommendation, its components' parts, steps and documents)."""
    stmt = sa.select(AuditEvent).order_by(AuditEvent.id.desc())
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if object_type:
        stmt = stmt.where(AuditEvent.object_type == object_type)
    if record.strip():
        wanted = record.strip().lower()
        stmt = stmt.where(sa.func.lower(AuditEvent.object_label).contains(wanted, autoescape=True))
    if actor:
        stmt = stmt.where(AuditEvent.actor_label == actor.strip().lower())
    return stmt


def audit_facets() -> tuple[sa.Select[str], sa.Select[str | None]]:
    return (
        sa.select(AuditEvent.action).distinct().order_by(AuditEvent.action),
        sa.select(AuditEvent.object_type)
        .distinct()
        .where(AuditEvent.object_type.is_not(None))
        .order_by(AuditEvent.object_type),
    )
