"""Each user's e-mail preferences: the digest frequency and the event notices they want.
Services flush, never commit."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.locking import UNCHECKED, ConflictError, Expected, check_version
from app.models import DigestFrequency, MailPreference, NoticeKind
from app.models.mail import default_notices, preference_defaults


def current(session: Session, user: Any) -> tuple[DigestFrequency, list[str], int | None]:
    """(digest frequency, notices, version): the saved choice, or the defaults (version None)."""
    pref = session.get(MailPreference, user.id)
    if pref is None:
        return preference_defaults(user.role), default_notices(user.role), None
    return pref.digest, list(pref.notices), pref.version


def follow_summary_on(session: Session, user: Any) -> bool:
    """Whether the weekly summary of what the user follows is sent (default: yes)."""
    pref = session.get(MailPreference, user.id)
    return True if pref is None else pref.follow_summary


def _describe(pref: MailPreference) -> dict[str, str]:
    notices = [NoticeKind(n).label for n in pref.notices if n in NoticeKind._value2member_map_]
    return {
        "Digest": pref.digest.label,
        "Notices": "; ".join(notices) or "None",
        "Weekly summary of what I follow": "On" if pref.follow_summary else "Off",
    }


def save(
    session: Session,
    user: Any,
    digest: DigestFrequency,
    notices: list[str],
    version: Expected = UNCHECKED,
    follow_summary: bool = True,
) -> MailPreference:
    """Save a user's choice. `version` None: the form was opened before any choice was
    saved; if one was saved since, that is a conflict (409), as is a stale version."""
    chosen = sorted({NoticeKind(n).value for n in notices})
    pref = session.get(MailPreference, user.id)
    if pref is None:
        pref = MailPreference(user_id=user.id, digest=digest, notices=chosen, follow_summary=follow_summary)
        try:
            with session.begin_nested():  # two first saves at once: the second is a conflict
                session.add(pref)
                session.flush()
        except IntegrityError:
            raise ConflictError() from None
        return pref
    if version is None:
        raise ConflictError(_describe(pref))
    check_version(pref, version, _describe)
    pref.digest = digest
    pref.notices = chosen
    pref.follow_summary = follow_summary
    session.flush()
    return pref
