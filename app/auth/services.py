"""Sign-in, sign-out and account rules. Services flush; the caller commits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from app import audit
from app.audit import AuditActor
from app.auth.passwords import hash_password, needs_rehash, password_problems, verify_password
from app.locking import UNCHECKED, Expected, bump_version, check_version
from app.models import Component, Role, User


class AccountError(ValueError):
    """A rule about accounts was broken; `field` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class LockoutPolicy:
    threshold: int
    minutes: int


def normalize_email(email: str) -> str:
    return email.strip().lower()


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(
        sa.select(User).options(selectinload(User.components)).where(User.email == normalize_email(email))
    )


def load_user(session: Session, user_id: int, session_version: int) -> User | None:
    """The signed-in user for a session cookie, or None if the cookie is stale."""
    user = session.scalar(sa.select(User).options(selectinload(User.components)).where(User.id == user_id))
    if user is None or not user.active or user.session_version != session_version:
        return None
    return user


def authenticate(
    session: Session,
    email: str,
    password: str,
    *,
    source_ip: str | None,
    now: datetime,
    lockout: LockoutPolicy,
) -> User | None:
    """Check a sign-in attempt and audit it. Returns the user, or None on any failure.

    Every failure looks the same to the caller (and so to the person signing in): an
    unknown account, a wrong password, a disabled or locked account.
    """
    email = normalize_email(email)
    user = user_by_email(session, email)
    password_ok = verify_password(user.password_hash if user else None, password)

    reason = None
    if user is None:
        reason = "unknown account"
    elif not user.active:
        reason = "account disabled"
    elif user.locked_until is not None and user.locked_until > now:
        reason = "account locked"
    elif not password_ok:
        reason = "wrong password"
        user.failed_login_count += 1
        if user.failed_login_count >= lockout.threshold:
            user.locked_until = now + timedelta(minutes=lockout.minutes)
            user.failed_login_count = 0
            reason = "wrong password; account locked"

    if reason is not None:
        actor = AuditActor.for_user(user, source_ip) if user else AuditActor.anonymous(source_ip)
        audit.record(
            session,
            "login",
            actor=actor,
            object_type="users",
            object_id=user.id if user else None,
            changes={"email": email, "reason": reason},
            outcome="failure",
        )
        session.flush()
        return None

    assert user is not None
    user.failed_login_count = 0
    user.locked_until = None
    user.last_login_at = now
    if needs_rehash(user.password_hash):
        audit.set_actor(session, AuditActor.for_user(user, source_ip))
        user.password_hash = hash_password(password)
    audit.record(
        session,
        "login",
        actor=AuditActor.for_user(user, source_ip),
        object_type="users",
        object_id=user.id,
    )
    session.flush()
    return user


def end_session(session: Session, user: User, *, source_ip: str | None) -> None:
    """Sign out: bump the session version so every copy of the old cookie is useless."""
    user.session_version += 1
    audit.record(
        session,
        "logout",
        actor=AuditActor.for_user(user, source_ip),
        object_type="users",
        object_id=user.id,
    )
    session.flush()


def check_new_password(password: str, confirm: str | None, email: str) -> None:
    problems = password_problems(password, email)
    if problems:
        raise AccountError(" ".join(problems), field="password")
    if confirm is not None and password != confirm:
        raise AccountError("The two passwords do not match.", field="confirm")


def change_password(session: Session, user: User, current: str, new: str, confirm: str) -> None:
    """Change one's own password; other sessions of the account stop working."""
    if not verify_password(user.password_hash, current):
        raise AccountError("Your current password is not correct.", field="current_password")
    check_new_password(new, confirm, user.email)
    user.password_hash = hash_password(new)
    user.session_version += 1
    session.flush()


def _resolve_components(session: Session, abbreviations: Iterable[str]) -> list[Component]:
    wanted = {a.strip() for a in abbreviations if a.strip()}
    found = session.scalars(sa.select(Component).where(Component.abbreviation.in_(wanted))).all()
    missing = wanted - {c.abbreviation for c in found}
    if missing:
        raise AccountError(f"Unknown component: {', '.join(sorted(missing))}.", field="components")
    return sorted(found, key=lambda c: c.abbreviation)


def _check_role_components(role: Role, components: list[Component]) -> None:
    if role == Role.LIAISON and not components:
        raise AccountError("A liaison must serve at least one component.", field="components")
    if role != Role.LIAISON and components:
        raise AccountError("Only liaisons serve components.", field="components")


def create_user(
    session: Session,
    *,
    email: str,
    display_name: str,
    role: Role,
    password: str,
    components: Iterable[Component] = (),
    active: bool = True,
) -> User:
    """Create an account; the e-mail must be new and the password must follow the rules."""
    email = normalize_email(email)
    if not email or "@" not in email:
        raise AccountError("Enter an e-mail address.", field="email")
    if user_by_email(session, email) is not None:
        raise AccountError("An account with this e-mail address already exists.", field="email")
    if not display_name.strip():
        raise AccountError("Enter a name.", field="display_name")
    components = list(components)
    _check_role_components(role, components)
    check_new_password(password, None, email)
    user = User(
        email=email,
        display_name=display_name.strip(),
        role=role,
        password_hash=hash_password(password),
        components=components,
        active=active,
    )
    session.add(user)
    session.flush()
    return user


def create_user_from_cli(
    session: Session,
    *,
    email: str,
    display_name: str,
    role: str,
    component_abbreviations: Iterable[str],
    password: str,
) -> User:
    """The `users create` command: validates role and component names given as text."""
    try:
        role_enum = Role(role)
    except ValueError:
        raise AccountError(
            f"Unknown role {role!r}; use one of {', '.join(r.value for r in Role)}.",
            field="role",
        ) from None
    components = _resolve_components(session, component_abbreviations)
    return create_user(
        session,
        email=email,
        display_name=display_name,
        role=role_enum,
        password=password,
        components=components,
    )


def update_user(
    session: Session,
    acting: User,
    user: User,
    *,
    display_name: str,
    role: Role,
    components: Iterable[Component],
    active: bool,
    version: Expected = UNCHECKED,
) -> None:
    """Change an account's name, role, components or active flag (admins only), unless
    the account changed since `version` (ConflictError)."""
    check_version(user, version)
    components = list(components)
    _check_role_components(role, components)
    if user.id == acting.id and (role != Role.ADMIN or not active):
        raise AccountError(
            "You cannot remove your own administrator role or disable your own account.",
            field="role",
        )
    if not display_name.strip():
        raise AccountError("Enter a name.", field="display_name")
    was_active = user.active
    user.display_name = display_name.strip()
    user.role = role
    user.components = components
    user.active = active
    if was_active and not active:
        user.session_version += 1  # a disabled account is signed out everywhere
    bump_version(user)
    session.flush()


def reset_password(session: Session, user: User, password: str, confirm: str) -> None:
    """Set a new password for someone else (admins only); their sessions end."""
    check_new_password(password, confirm, user.email)
    user.password_hash = hash_password(password)
    user.session_version += 1
    user.locked_until = None
    user.failed_login_count = 0
    session.flush()
