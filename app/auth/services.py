"""Sign-in, sign-out and account rules. Services flush; the caller commits."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session, selectinload

from app import audit
from app.audit import AuditActor
from app.auth.passwords import hash_password, needs_rehash, password_problems, verify_password
from app.auth.throttle import LoginThrottle, Refusal
from app.locking import UNCHECKED, Expected, bump_version, check_version
from app.models import AuditEvent, Component, Role, User
from app.service_errors import ServiceError


class AccountError(ServiceError):
    """A rule about accounts was broken; `field` names the form field it belongs to."""


@dataclass(frozen=True)
class LoginPolicy:
    """The parts of sign-in throttling kept in the database (see authenticate)."""

    max_consecutive_failures: int
    known_address_days: int


@dataclass(frozen=True)
class LoginAttempt:
    """What came of a sign-in: the user, or None; `refusal` when it was not even checked."""

    user: User | None = None
    refusal: Refusal | None = None
    # The sign-in before this one (when and from where), for the user to check it was theirs.
    previous_at: datetime | None = None
    previous_ip: str | None = None


NOT_AN_EMAIL = "(not an e-mail address)"


INVALID_EMAIL = "Enter an e-mail address such as name@agency.gov (RecTrack e-mails it)."


def normalize_email(email: str) -> str:
    return email.strip().lower()


def email_for_audit(typed: str, user: User | None) -> str:
    """What a sign-in's audit event says was typed as the e-mail address: the address
    when it is shaped like one, else a placeholder, since people do type their password
    into the e-mail field and the audit trail must not keep it."""
    if user is not None:
        return user.email
    email = normalize_email(typed)
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return NOT_AN_EMAIL
    return email


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(
        sa.select(User).options(selectinload(User.components)).where(User.email == normalize_email(email))
    )


def record_sign_in(user: User, *, now: datetime, source_ip: str | None) -> tuple[datetime | None, str | None]:
    """A sign-in's bookkeeping on the account, however it signed in (password, passkey,
    single sign-on): the failure run ends and the last sign-in (which the dormancy count
    starts from) moves to now. Returns the previous sign-in, when and from where."""
    previous = (user.last_login_at, user.last_login_ip)
    user.failed_login_count = 0
    user.last_login_at = now
    user.last_login_ip = source_ip
    return previous


def load_user(session: Session, user_id: int, session_version: int) -> User | None:
    """The signed-in user for a session cookie, or None if the cookie is stale."""
    user = session.scalar(sa.select(User).options(selectinload(User.components)).where(User.id == user_id))
    if user is None or not user.active or user.session_version != session_version:
        return None
    return user


def signed_in_from(session: Session, user: User, source_ip: str | None, since: datetime) -> bool:
    """Whether the account signed in successfully from this address since then (the
    audit trail records every sign-in with its address)."""
    if not source_ip:
        return False
    return bool(
        session.scalar(
            sa.select(
                sa.exists().where(
                    AuditEvent.actor_id == user.id,
                    AuditEvent.action == "login",
                    AuditEvent.outcome == "success",
                    AuditEvent.source_ip == source_ip,
                    AuditEvent.occurred_at >= since,
                )
            )
        )
    )


def _refusal(
    throttle: LoginThrottle,
    policy: LoginPolicy,
    user: User | None,
    email: str,
    source_ip: str | None,
    *,
    device_known: bool,
    known: Callable[[], bool],
) -> Refusal | None:
    """Why this attempt is refused before its password is checked, or None."""
    exhausted = throttle.exhausted(source_ip, email)
    if "address_account" in exhausted:
        return Refusal(
            "throttled: too many failures from this address for this account", exhausted["address_account"]
        )
    if "address" in exhausted and not device_known:
        return Refusal("throttled: too many failures from this address", exhausted["address"])
    at_cap = user is not None and user.failed_login_count >= policy.max_consecutive_failures
    if ("account" not in exhausted and not at_cap) or known():
        return None
    if at_cap:
        return Refusal(
            f"throttled: {policy.max_consecutive_failures} failures in a row; "
            "only known browsers and addresses may sign in",
            exhausted.get("account", throttle.account_window_seconds),
        )
    return Refusal("throttled: too many failures for this account from unknown sources", exhausted["account"])


def _audit_failed_login(
    session: Session, actor: AuditActor, user: User | None, email: str, reason: str, outcome: str
) -> None:
    """The audit event of a sign-in that was refused ("denied") or failed ("failure"):
    `email` as email_for_audit gives it, and why."""
    audit.record(
        session,
        "login",
        actor=actor,
        object_type="users",
        object_id=user.id if user else None,
        changes={"email": email, "reason": reason},
        outcome=outcome,
    )
    session.flush()


def authenticate(
    session: Session,
    email: str,
    password: str,
    *,
    source_ip: str | None,
    now: datetime,
    throttle: LoginThrottle,
    policy: LoginPolicy,
    device_user_ids: frozenset[int] = frozenset(),
) -> LoginAttempt:
    """Check a sign-in attempt, count it and audit it.

    Every failure looks the same to the person signing in (an unknown account, a wrong
    password, a disabled account), and so does every refusal.

    Throttling follows NIST SP 800-63B and OWASP ASVS 5.0 V6: it slows the source of the
    failures rather than locking the account, so nobody can lock someone else out.

    - An address with too many recent failures, whatever the account, is refused (password
      spraying), except for an account whose device cookie the browser holds: an office
      behind one address keeps working while one machine there sprays.
    - An address with too many recent failures on one account is refused for that
      account, device cookie or not.
    - Too many recent failures on one account from unknown sources refuse further unknown
      sources; known ones go on. A source is known to an account when the browser holds
      the device cookie that a successful sign-in to it sets (signed, so it cannot be
      made up), or when the account signed in from the address within
      LOGIN_KNOWN_ADDRESS_DAYS. The owner keeps signing in while strangers hammer.
    - After LOGIN_MAX_CONSECUTIVE_FAILURES (at most 100, as NIST requires) failures in a
      row, unknown sources are refused until a known one signs in or an administrator
      resets the password; no window reopens it. Known sources still face their
      address limits.

    A refused attempt checks no password, counts as no failure, and is audited as
    "denied". Failures from known sources do not count toward the account window.
    """
    user = user_by_email(session, email)
    audit_email = email_for_audit(email, user)
    email = normalize_email(email)
    actor = AuditActor.for_user(user, source_ip) if user else AuditActor.anonymous(source_ip)
    device_known = user is not None and user.id in device_user_ids

    @cache
    def known() -> bool:
        if user is None:
            return False
        since = now - timedelta(days=policy.known_address_days)
        return device_known or signed_in_from(session, user, source_ip, since)

    refusal = _refusal(throttle, policy, user, email, source_ip, device_known=device_known, known=known)
    if refusal is not None:
        _audit_failed_login(session, actor, user, audit_email, refusal.reason, "denied")
        return LoginAttempt(refusal=refusal)

    password_ok = verify_password(user.password_hash if user else None, password)
    reason = None
    if user is None:
        reason = "unknown account"
    elif not user.active:
        reason = "account disabled"
    elif not password_ok:
        reason = "wrong password"

    if reason is not None:
        throttle.record_failure(source_ip, email, count_for_account=not known())
        if user is not None:  # counted in SQL, so parallel attempts cannot lose a failure
            user.failed_login_count = User.failed_login_count + 1
        _audit_failed_login(session, actor, user, audit_email, reason, "failure")
        return LoginAttempt()

    assert user is not None
    throttle.record_success(source_ip, email)
    previous_at, previous_ip = record_sign_in(user, now=now, source_ip=source_ip)
    if needs_rehash(user.password_hash):
        audit.set_actor(session, AuditActor.for_user(user, source_ip))
        user.password_hash = hash_password(password)
    audit.record(session, "login", actor=actor, object_type="users", object_id=user.id)
    session.flush()
    return LoginAttempt(user=user, previous_at=previous_at, previous_ip=previous_ip)


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


def check_new_password(password: str, confirm: str | None, email: str, name: str = "") -> None:
    """Refuse a new password that breaks the rules (app/auth/passwords.py), or an unconfirmed one."""
    problems = password_problems(password, email, name)
    if problems:
        raise AccountError(" ".join(problems), field="password")
    if confirm is not None and password != confirm:
        raise AccountError("The two passwords do not match.", field="confirm")


def change_password(session: Session, user: User, current: str, new: str, confirm: str) -> None:
    """Change one's own password; other sessions of the account stop working."""
    if not verify_password(user.password_hash, current):
        raise AccountError("Your current password is not correct.", field="current_password")
    check_new_password(new, confirm, user.email, user.display_name)
    if verify_password(user.password_hash, new):
        raise AccountError("Choose a password different from your current one.", field="password")
    user.password_hash = hash_password(new)
    user.session_version += 1
    user.must_change_password = False  # one's own choice, not an administrator's
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
    temporary: bool = False,
) -> User:
    """Create an account; the e-mail must be new and the password must follow the rules.
    `temporary`: an administrator chose the password, so the first sign-in must change it."""
    email = normalize_email(email)
    if not email:
        raise AccountError("Enter an e-mail address.", field="email")
    try:  # the form checks the same; the command line and imports come here directly
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise AccountError(INVALID_EMAIL, field="email") from None
    if user_by_email(session, email) is not None:
        raise AccountError("An account with this e-mail address already exists.", field="email")
    if not display_name.strip():
        raise AccountError("Enter a name.", field="display_name")
    components = list(components)
    _check_role_components(role, components)
    check_new_password(password, None, email, display_name)
    user = User(
        email=email,
        display_name=display_name.strip(),
        role=role,
        password_hash=hash_password(password),
        components=components,
        active=active,
        must_change_password=temporary,
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
    now: datetime | None = None,
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
    if active and not was_active and now is not None:
        user.enabled_at = now  # dormancy counts afresh from here (app/auth/dormancy.py)
    bump_version(user)
    session.flush()


def reset_password(session: Session, user: User, password: str, confirm: str) -> None:
    """Set a new password for someone else (admins only); their sessions end, and the
    password is temporary: their next sign-in must change it."""
    check_new_password(password, confirm, user.email, user.display_name)
    user.password_hash = hash_password(password)
    user.session_version += 1
    user.failed_login_count = 0  # unknown sources may try again
    user.must_change_password = True
    session.flush()
