"""Demo accounts for development: one per role, with random passwords shown once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.auth import services as accounts
from app.models import Component, Role


@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    role: Role
    components: tuple[str, ...] = ()


DEMO_ACCOUNTS = (
    DemoAccount("admin@rectrack.example", "Avery Admin", Role.ADMIN),
    DemoAccount("oig@rectrack.example", "Olivia Ortiz (OIG)", Role.OIG),
    DemoAccount("liaison.ia@rectrack.example", "Lee Liaison (I&A)", Role.LIAISON, ("I&A",)),
    DemoAccount("liaison.fema@rectrack.example", "Frankie Liaison (FEMA)", Role.LIAISON, ("FEMA",)),
    DemoAccount("viewer@rectrack.example", "Val Viewer (congressional staff)", Role.VIEWER),
)


def new_password() -> str:
    return secrets.token_urlsafe(18)  # 24 characters


def ensure_demo_accounts(session: Session, *, reset: bool = False) -> list[tuple[DemoAccount, str | None]]:
    """Create missing demo accounts. Returns each account with its new password, or None
    where the account already existed and was left alone."""
    out: list[tuple[DemoAccount, str | None]] = []
    for demo in DEMO_ACCOUNTS:
        user = accounts.user_by_email(session, demo.email)
        password = new_password()
        if user is None:
            components = list(
                session.scalars(sa.select(Component).where(Component.abbreviation.in_(demo.components)))
            )
            accounts.create_user(
                session,
                email=demo.email,
                display_name=demo.name,
                role=demo.role,
                password=password,
                components=components,
            )
            out.append((demo, password))
        elif reset:
            accounts.reset_password(session, user, password, password)
            user.must_change_password = False  # demo accounts sign straight in (`make run`)
            out.append((demo, password))
        else:
            out.append((demo, None))
    session.flush()
    return out
