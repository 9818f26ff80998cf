"""Second factors: enrol, remove, check (TOTP with replay protection, recovery codes),
reset, and the policy by role. Services flush; the caller commits. Audit events name
the factor and the reason, never a code or a secret."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

import pyotp
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import audit
from app.audit import AuditActor
from app.auth.services import record_sign_in
from app.models import FactorKind, MfaFactor, RecoveryCode, Role, User
from app.service_errors import ServiceError

RECOVERY_CODE_COUNT = 10
TOTP_PERIOD = 30  # seconds: pyotp's and every authenticator app's default
TOTP_DIGITS = 6
# A code of the step before or after the server's is accepted (clocks drift); no other.
TOTP_WINDOW = 1
ISSUER = "RecTrack"
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L, U: read aloud without doubt


class MfaError(ServiceError):
    """A second factor was refused or a rule about factors was broken; `reason` is what
    the audit trail says (fixed words, never what was typed)."""

    def __init__(
        self, message: str, *, field: str | None = None, reason: str = "", status: int = 422
    ) -> None:
        super().__init__(message, field=field, status=status)
        self.reason = reason or message


def _rows(result: sa.Result[Any]) -> int:
    return cast(sa.CursorResult[Any], result).rowcount or 0


# --- policy -----------------------------------------------------------------------------


def parse_roles(text: str) -> frozenset[Role]:
    """MFA_REQUIRED_ROLES ("admin,oig,liaison") as roles; an unknown name is an error."""
    roles = set()
    for name in (part.strip().lower() for part in text.split(",")):
        if not name:
            continue
        try:
            roles.add(Role(name))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise ValueError(f"MFA_REQUIRED_ROLES names an unknown role {name!r}; use {known}.") from None
    return frozenset(roles)


def required_for(user: User, required_roles: Iterable[Role]) -> bool:
    return user.role in set(required_roles)


def factors_of(session: Session, user_id: int) -> list[MfaFactor]:
    return list(
        session.scalars(
            sa.select(MfaFactor)
            .where(MfaFactor.user_id == user_id)
            .order_by(MfaFactor.created_at, MfaFactor.id)
        )
    )


def has_factor(session: Session, user_id: int) -> bool:
    return bool(session.scalar(sa.select(sa.exists().where(MfaFactor.user_id == user_id))))


def unused_recovery_codes(session: Session, user_id: int) -> int:
    return (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def _record(
    session: Session,
    action: str,
    actor: AuditActor,
    user: User,
    *,
    outcome: str = "success",
    **changes: str,
) -> None:
    audit.record(
        session,
        action,
        actor=actor,
        object_type="users",
        object_id=user.id,
        changes=changes or None,
        outcome=outcome,
    )
    session.flush()


def record_failure(
    session: Session, actor: AuditActor, user: User, action: str, method: str, reason: str
) -> None:
    """A refused second factor (a wrong or replayed code, a cloned key, a wrong origin)."""
    _record(session, action, actor, user, outcome="failure", method=method, reason=reason)


def record_success(
    session: Session, actor: AuditActor, user: User, action: str, method: str, factor: str = ""
) -> None:
    changes = {"method": method} | ({"factor": factor} if factor else {})
    _record(session, action, actor, user, **changes)


def _check_name(session: Session, user: User, name: str) -> str:
    name = name.strip()
    if not name:
        raise MfaError("Give the factor a name, such as “Blue YubiKey” or “Work phone”.", field="name")
    if len(name) > 100:
        raise MfaError("Use at most 100 characters.", field="name")
    taken = session.scalar(
        sa.select(
            sa.exists().where(MfaFactor.user_id == user.id, sa.func.lower(MfaFactor.name) == name.lower())
        )
    )
    if taken:
        raise MfaError("You already have a factor with this name.", field="name")
    return name


# --- TOTP -------------------------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def totp_uri(secret: str, email: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD).provisioning_uri(
        name=email, issuer_name=ISSUER
    )


def time_step(now: datetime) -> int:
    return int(now.timestamp()) // TOTP_PERIOD


def _normalize_code(code: str) -> str:
    return "".join(ch for ch in code if not ch.isspace() and ch != "-")


def totp_step_for(secret: str, code: str, now: datetime) -> int | None:
    """The time step (now's, or one either side) whose code `code` is, or None."""
    code = _normalize_code(code)
    if len(code) != TOTP_DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD)
    current = time_step(now)
    for step in range(current - TOTP_WINDOW, current + TOTP_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def add_totp(
    session: Session, actor: AuditActor, user: User, *, name: str, secret: str, code: str, now: datetime
) -> MfaFactor:
    """Enrol an authenticator app: the first code it shows proves it holds the secret."""
    name = _check_name(session, user, name)
    step = totp_step_for(secret, code, now)
    if step is None:
        raise MfaError(
            "That code is not the one your app shows now. Check the phone's clock and type the current code.",
            field="code",
        )
    factor = MfaFactor(
        user_id=user.id,
        kind=FactorKind.TOTP,
        name=name,
        totp_secret=secret,
        totp_last_step=step,
        created_at=now,
    )
    session.add(factor)
    session.flush()
    _record(session, "mfa_enrol", actor, user, method="totp", factor=name)
    return factor


def check_totp(session: Session, user: User, code: str, now: datetime) -> MfaFactor:
    """The TOTP factor `code` belongs to, its step now used up; MfaError when the code is
    wrong, stale (more than one step away) or replayed (its step, or a later one, was
    used already). Counted in SQL so two requests cannot both spend one step."""
    factors = [f for f in factors_of(session, user.id) if f.kind == FactorKind.TOTP]
    replayed = False
    for factor in factors:
        assert factor.totp_secret is not None
        step = totp_step_for(factor.totp_secret, code, now)
        if step is None:
            continue
        spent = _rows(
            session.execute(
                sa.update(MfaFactor)
                .where(
                    MfaFactor.id == factor.id,
                    sa.or_(MfaFactor.totp_last_step.is_(None), MfaFactor.totp_last_step < step),
                )
                .values(totp_last_step=step, last_used_at=now)
                .execution_options(synchronize_session=False)
            )
        )
        if spent == 1:
            session.refresh(factor)
            return factor
        replayed = True
    if replayed:
        raise MfaError(
            "That code was used already. Wait for your app to show the next one.",
            field="code",
            reason="replayed TOTP code",
        )
    raise MfaError("That code is not correct, or it has expired.", field="code", reason="wrong TOTP code")


# --- recovery codes ---------------------------------------------------------------------


def _hash_code(code: str) -> str:
    return hashlib.sha256(_normalize_code(code).upper().encode()).hexdigest()


def _new_code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(16))  # about 78 bits
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def new_recovery_codes(session: Session, actor: AuditActor, user: User, *, now: datetime) -> list[str]:
    """Ten new single-use codes, replacing any earlier ones; the codes are returned once
    and only their SHA-256 is kept."""
    session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_code() for _ in range(RECOVERY_CODE_COUNT)]
    session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash_code(c), created_at=now) for c in codes)
    session.flush()
    _record(session, "mfa_recovery_codes", actor, user, count=str(RECOVERY_CODE_COUNT))
    return codes


def use_recovery_code(session: Session, user: User, code: str, now: datetime) -> None:
    """Spend one recovery code; MfaError when it is unknown or used already."""
    digest = _hash_code(code)
    spent = _rows(
        session.execute(
            sa.update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == digest,
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    if spent == 1:
        session.flush()
        return
    used = session.scalar(
        sa.select(sa.exists().where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == digest))
    )
    if used:
        raise MfaError(
            "That recovery code was used already; each works once.",
            field="code",
            reason="reused recovery code",
        )
    raise MfaError("That recovery code is not correct.", field="code", reason="wrong recovery code")


# --- WebAuthn credentials (verified in app/mfa/keys.py) ---------------------------------


def add_key(
    session: Session,
    actor: AuditActor,
    user: User,
    *,
    name: str,
    credential_id: bytes,
    public_key: bytes,
    sign_count: int,
    discoverable: bool,
    now: datetime,
) -> MfaFactor:
    name = _check_name(session, user, name)
    if session.scalar(sa.select(sa.exists().where(MfaFactor.credential_id == credential_id))):
        raise MfaError("This security key is registered already.", field="name")
    factor = MfaFactor(
        user_id=user.id,
        kind=FactorKind.WEBAUTHN,
        name=name,
        credential_id=credential_id,
        public_key=public_key,
        sign_count=sign_count,
        discoverable=discoverable,
        created_at=now,
    )
    session.add(factor)
    session.flush()
    _record(session, "mfa_enrol", actor, user, method="webauthn", factor=name)
    return factor


def key_by_credential(session: Session, credential_id: bytes) -> MfaFactor | None:
    return session.scalar(sa.select(MfaFactor).where(MfaFactor.credential_id == credential_id))


# --- removal and reset ------------------------------------------------------------------


def remove_factor(
    session: Session, actor: AuditActor, user: User, factor: MfaFactor, *, required_roles: Iterable[Role]
) -> None:
    """Remove one of one's factors; never the last while the role requires a second factor."""
    if factor.user_id != user.id:
        raise MfaError("That factor is not yours.", status=404)
    others = [f for f in factors_of(session, user.id) if f.id != factor.id]
    if not others and required_for(user, required_roles):
        raise MfaError(
            "This is your last second factor and your role requires one: add another before removing it.",
            status=409,
        )
    name, kind = factor.name, factor.kind.value
    session.delete(factor)
    if not others:  # recovery codes stand in for a factor; without one they mean nothing
        session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.flush()
    _record(session, "mfa_remove", actor, user, method=kind, factor=name)


def reset_factors(session: Session, actor: AuditActor, user: User) -> int:
    """An administrator removes every factor and recovery code of an account (a lost key);
    its sessions end, and it enrols again at its next sign-in. Returns how many factors went."""
    factors = factors_of(session, user.id)
    for factor in factors:
        session.delete(factor)
    session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    user.session_version += 1
    session.flush()
    _record(session, "mfa_reset", actor, user, factors=", ".join(f.name for f in factors) or "(none)")
    return len(factors)


def record_passkey_login(
    session: Session,
    actor: AuditActor,
    user: User,
    factor: MfaFactor,
    *,
    now: datetime,
    source_ip: str | None,
) -> tuple[datetime | None, str | None]:
    """A sign-in with a passkey alone (two factors: the key, unlocked by the person): the
    same bookkeeping and "login" event as a password's, saying how. Returns the previous
    sign-in (when, from where)."""
    previous = record_sign_in(user, now=now, source_ip=source_ip)
    audit.record(
        session,
        "login",
        actor=actor,
        object_type="users",
        object_id=user.id,
        changes={"method": "passkey", "factor": factor.name},
    )
    session.flush()
    return previous
