"""The administrators' acronyms for search: add, change, delete. Every change is in the
audit trail (the audit hooks record the rows) and moves the data version, so cached
list totals follow at once."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.locking import Expected, check_version
from app.models import Acronym
from app.search.thesaurus import terms
from app.service_errors import ServiceError


class AcronymError(ServiceError):
    """An acronym rule was broken; `field` names the form field it belongs to."""


def all_acronyms() -> sa.Select[Acronym]:
    return sa.select(Acronym).order_by(sa.func.lower(Acronym.acronym), Acronym.id)


def _describe(acronym: Acronym) -> dict[str, str]:
    return {"Acronym": acronym.acronym, "What it stands for": acronym.expansion}


def save_acronym(
    session: Session, acronym: Acronym | None, *, short: str, long: str, version: Expected = None
) -> Acronym:
    """Add an acronym (acronym None), or change one loaded at `version`. Search compares
    words, so "I&A" and "I & A" are the same acronym, and one that spells itself out
    finds nothing new."""
    if acronym is not None:
        check_version(acronym, version, _describe)
    short, long = short.strip(), long.strip()
    words = terms(short)
    if not words:
        raise AcronymError("Use at least one letter or digit.", "acronym")
    if not terms(long):
        raise AcronymError("Use at least one letter or digit.", "expansion")
    if terms(long) == words:
        raise AcronymError("Spell out what the acronym stands for.", "expansion")
    for other in session.scalars(sa.select(Acronym).where(Acronym.id != (acronym.id if acronym else -1))):
        if terms(other.acronym) == words:
            raise AcronymError(f"{other.acronym} is already in the list.", "acronym")
    if acronym is None:
        acronym = Acronym()
        session.add(acronym)
    acronym.acronym = short
    acronym.expansion = long
    session.flush()
    return acronym


def delete_acronym(session: Session, acronym: Acronym, version: Expected) -> None:
    """Remove an acronym loaded at `version` (the audit trail keeps a copy)."""
    check_version(acronym, version, _describe)
    session.delete(acronym)
    session.flush()
