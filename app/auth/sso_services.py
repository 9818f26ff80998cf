"""Single sign-on: who a validated OpenID Connect identity is in RecTrack, and the audit
trail of every SSO sign-in and refusal. Services flush; the caller commits.

An identity is matched by its (issuer, subject) link when it has one; the first time, by
a verified e-mail address to an active account an administrator created, and the link is
then recorded. No account is ever created here, and the account's role stays RecTrack's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from app import audit
from app.audit import AuditActor
from app.auth.oidc import SsoRefused
from app.auth.services import normalize_email, record_sign_in, user_by_email
from app.models import SsoIdentity, User

NO_ACCOUNT = (
    "There is no RecTrack account for the e-mail address {label} gave ({email}). "
    "RecTrack accounts are made by an administrator: ask yours for one."
)
UNVERIFIED = (
    "{label} has not verified your e-mail address, so RecTrack cannot tell which account is "
    "yours. Verify it with {label}, then try again."
)
NO_EMAIL = "{label} did not give RecTrack your e-mail address, so you are not signed in."
DEACTIVATED = "Your RecTrack account is disabled. Ask a RecTrack administrator to enable it."
LINKED_ELSEWHERE = (
    "This {label} identity is already linked to another RecTrack account, so you are not "
    "signed in. Ask a RecTrack administrator."
)
OTHER_IDENTITY = (
    "Your RecTrack account is already linked to a different {label} identity, so you are "
    "not signed in. Sign in with that one, or ask a RecTrack administrator."
)
STATE_MISMATCH = (
    "This sign-in did not start here, or it has already been used or has expired. "
    "Start again with the sign-in button."
)
CANCELLED = "Sign-in with {label} did not finish ({error}). You are not signed in."


@dataclass(frozen=True)
class Identity:
    """What RecTrack uses from a validated sign-in."""

    provider: str
    label: str
    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    second_factor: bool


def identity_from_claims(
    *,
    provider: str,
    label: str,
    issuer: str,
    claims: Mapping[str, Any],
    second_factor: bool,
) -> Identity:
    email = claims.get("email")
    return Identity(
        provider=provider,
        label=label,
        issuer=issuer,
        subject=str(claims["sub"]),
        email=normalize_email(email) if isinstance(email, str) and email.strip() else None,
        # only a JSON true counts ("true" as text is a provider's bug, not a verification)
        email_verified=claims.get("email_verified") is True,
        second_factor=second_factor,
    )


def record_refusal(
    session: Session,
    *,
    provider: str,
    reason: str,
    source_ip: str | None,
    identity: Identity | None = None,
    user: User | None = None,
) -> None:
    """Audit a refused SSO sign-in: the provider, the subject and e-mail when known,
    why; never a token, a code, a state or a nonce."""
    changes: dict[str, Any] = {"method": "sso", "provider": provider, "reason": reason}
    if identity is not None:
        changes["subject"] = identity.subject
        if identity.email:
            changes["email"] = identity.email
    actor = AuditActor.for_user(user, source_ip) if user else AuditActor.anonymous(source_ip)
    audit.record(
        session,
        "login",
        actor=actor,
        object_type="users" if user else None,
        object_id=user.id if user else None,
        changes=changes,
        outcome="denied",
    )
    session.flush()


def _linked(session: Session, issuer: str, subject: str) -> SsoIdentity | None:
    return session.scalar(
        sa.select(SsoIdentity)
        .options(selectinload(SsoIdentity.user).selectinload(User.components))
        .where(SsoIdentity.issuer == issuer, SsoIdentity.subject == subject)
    )


def _refused(
    session: Session,
    identity: Identity,
    reason: str,
    message: str,
    source_ip: str | None,
    user: User | None = None,
) -> SsoRefused:
    record_refusal(
        session, provider=identity.provider, reason=reason, source_ip=source_ip, identity=identity, user=user
    )
    return SsoRefused(reason, message)


@dataclass(frozen=True)
class SignedIn:
    """The account an identity signed in to, and its sign-in before this one."""

    user: User
    previous_at: datetime | None
    previous_ip: str | None


def sign_in(session: Session, identity: Identity, *, source_ip: str | None, now: datetime) -> SignedIn:
    """The account this identity signs in to, with the sign-in audited; or SsoRefused
    (audited, nothing else changed) when there is none it may use."""
    link = _linked(session, identity.issuer, identity.subject)
    if link is not None:
        user = link.user
        claimed = (
            user_by_email(session, identity.email) if identity.email and identity.email_verified else None
        )
        if claimed is not None and claimed.id != user.id:
            # the provider now vouches for another account's address: the two disagree
            raise _refused(
                session,
                identity,
                "subject linked to another account",
                LINKED_ELSEWHERE.format(label=identity.label),
                source_ip,
                claimed,
            )
    else:
        if identity.email is None:
            raise _refused(
                session, identity, "no e-mail address", NO_EMAIL.format(label=identity.label), source_ip
            )
        if not identity.email_verified:
            raise _refused(
                session,
                identity,
                "e-mail address not verified",
                UNVERIFIED.format(label=identity.label),
                source_ip,
            )
        found = user_by_email(session, identity.email)
        if found is None:
            raise _refused(
                session,
                identity,
                "no account with this e-mail address",
                NO_ACCOUNT.format(label=identity.label, email=identity.email),
                source_ip,
            )
        user = found
        other = session.scalar(
            sa.select(SsoIdentity).where(
                SsoIdentity.user_id == user.id, SsoIdentity.issuer == identity.issuer
            )
        )
        if other is not None:
            raise _refused(
                session,
                identity,
                "account linked to another subject at this issuer",
                OTHER_IDENTITY.format(label=identity.label),
                source_ip,
                user,
            )
    if not user.active:
        raise _refused(session, identity, "account disabled", DEACTIVATED, source_ip, user)

    actor = AuditActor.for_user(user, source_ip)
    audit.set_actor(session, actor)
    if link is None:
        link = SsoIdentity(
            user_id=user.id, issuer=identity.issuer, subject=identity.subject, provider=identity.provider
        )
        session.add(link)
        audit.record(
            session,
            "sso_link",
            actor=actor,
            object_type="users",
            object_id=user.id,
            changes={"provider": identity.provider, "issuer": identity.issuer, "subject": identity.subject},
        )
    link.last_used_at = now
    previous_at, previous_ip = record_sign_in(user, now=now, source_ip=source_ip)
    audit.record(
        session,
        "login",
        actor=actor,
        object_type="users",
        object_id=user.id,
        changes={
            "method": "sso",
            "provider": identity.provider,
            "subject": identity.subject,
            "second_factor": identity.second_factor,
        },
    )
    session.flush()
    return SignedIn(user, previous_at, previous_ip)


def unlink(session: Session, actor: AuditActor, user: User, *, issuer: str | None = None) -> int:
    """Forget the account's SSO identities (all, or the one at `issuer`), so that its next
    sign-in through the provider matches by verified e-mail again; each removal is audited.
    Returns how many were removed."""
    query = sa.select(SsoIdentity).where(SsoIdentity.user_id == user.id)
    if issuer is not None:
        query = query.where(SsoIdentity.issuer == issuer)
    removed = 0
    for link in session.scalars(query.order_by(SsoIdentity.id)):
        audit.record(
            session,
            "sso_unlink",
            actor=actor,
            object_type="users",
            object_id=user.id,
            changes={"provider": link.provider, "issuer": link.issuer, "subject": link.subject},
        )
        session.delete(link)
        removed += 1
    session.flush()
    return removed
