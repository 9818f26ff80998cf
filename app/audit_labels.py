"""Audited records named in words: "OIG-12-15 #3 / FEMA", not "addressees #4".

Each audit event stores its record's name as it was when the event was written, so a
deleted or renamed record still reads as it did, and the audit page can filter by the
name with one LIKE on both databases. Names are built in SQL from record numbers,
component abbreviations, e-mail addresses and file names, never from a recommendation's
or a response's text. Migration 0006 writes the same names for events older than the
column (tests/test_audit_access.py checks that the two agree).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app.models import (
    Addressee,
    ApiToken,
    Attachment,
    Component,
    Follow,
    MailPreference,
    MfaFactor,
    Recommendation,
    RecommendationEvent,
    Report,
    User,
)
from app.models.recommendation import NUMBER_NOT_KNOWN

MAX_LENGTH = 200
_TITLE_LENGTH = 60
_CHUNK = 500  # ids per IN list, well under SQLite's limit on bound parameters

Pair = tuple[str | None, int | None]


def _report_name() -> sa.ColumnElement[str]:
    """The report's number, or for a report whose number is unknown, its title (shortened)."""
    title = sa.case(
        (
            sa.func.length(Report.title) > _TITLE_LENGTH,
            sa.func.substr(Report.title, 1, _TITLE_LENGTH - 1) + "…",
        ),
        else_=Report.title,
    )
    return sa.func.coalesce(Report.number, title)


def _rec_name() -> sa.ColumnElement[str]:
    number = sa.case(
        (Recommendation.number.is_(None), f" ({NUMBER_NOT_KNOWN})"),
        else_=" #" + sa.cast(Recommendation.number, sa.String),
    )
    return _report_name() + number


def _reports() -> sa.Select[*tuple[Any, ...]]:
    return sa.select(Report.id, _report_name())


def _recommendations() -> sa.Select[*tuple[Any, ...]]:
    return sa.select(Recommendation.id, _rec_name()).join(Report, Report.id == Recommendation.report_id)


def _addressees() -> sa.Select[*tuple[Any, ...]]:
    return (
        sa.select(Addressee.id, _rec_name() + " / " + Component.abbreviation)
        .join(Recommendation, Recommendation.id == Addressee.recommendation_id)
        .join(Report, Report.id == Recommendation.report_id)
        .join(Component, Component.id == Addressee.component_id)
    )


def _part_of(model: Any, what: sa.SQLColumnExpression[str]) -> sa.Select[*tuple[Any, ...]]:
    """A history step or a document: its recommendation, the component's part when it
    belongs to one, and what it is."""
    addressee, component = aliased(Addressee), aliased(Component)
    part = sa.func.coalesce(" / " + component.abbreviation, "")
    return (
        sa.select(model.id, _rec_name() + part + ": " + what)
        .join(Recommendation, Recommendation.id == model.recommendation_id)
        .join(Report, Report.id == Recommendation.report_id)
        .outerjoin(addressee, addressee.id == model.addressee_id)
        .outerjoin(component, component.id == addressee.component_id)
    )


def _recommendation_events() -> sa.Select[*tuple[Any, ...]]:
    kind = sa.func.replace(sa.cast(RecommendationEvent.kind, sa.String), "_", " ")
    return _part_of(RecommendationEvent, kind)


def _attachments() -> sa.Select[*tuple[Any, ...]]:
    return _part_of(Attachment, Attachment.original_name)


QUERIES: dict[str, tuple[Callable[[], sa.Select[*tuple[Any, ...]]], sa.SQLColumnExpression[int]]] = {
    "reports": (_reports, Report.id),
    "recommendations": (_recommendations, Recommendation.id),
    "addressees": (_addressees, Addressee.id),
    "recommendation_events": (_recommendation_events, RecommendationEvent.id),
    "attachments": (_attachments, Attachment.id),
    "users": (lambda: sa.select(User.id, User.email), User.id),
    "mail_preferences": (
        lambda: sa.select(MailPreference.user_id, User.email).join(User, User.id == MailPreference.user_id),
        MailPreference.user_id,
    ),
    "follows": (
        lambda: sa.select(Follow.id, User.email).join(User, User.id == Follow.user_id),
        Follow.id,
    ),
    "components": (lambda: sa.select(Component.id, Component.abbreviation), Component.id),
    # "owner@example.gov: token rt_AbCdEfG": the owner and the prefix, never the secret
    "api_tokens": (
        lambda: sa.select(ApiToken.id, User.email + ": token " + ApiToken.prefix).join(
            User, User.id == ApiToken.user_id
        ),
        ApiToken.id,
    ),
    # "owner@example.gov: Blue YubiKey": the owner and the factor's name, never its secret
    "mfa_factors": (
        lambda: sa.select(MfaFactor.id, User.email + ": " + MfaFactor.name).join(
            User, User.id == MfaFactor.user_id
        ),
        MfaFactor.id,
    ),
}


@functools.cache
def _query(object_type: str) -> sa.Select[*tuple[Any, ...]]:
    """The naming query of a type of record, built once: a statement is immutable, and
    building one (its aliases above all) cost more than running it for every flush of an
    import."""
    return QUERIES[object_type][0]()


def labels(connection: sa.Connection, pairs: Iterable[Pair]) -> dict[tuple[str, int], str]:
    """The names of the records that exist, by (object_type, object_id): one query per
    type of record (in chunks), none for types that have no name."""
    wanted: dict[str, set[int]] = {}
    for object_type, object_id in pairs:
        if object_type in QUERIES and object_id is not None:
            wanted.setdefault(object_type, set()).add(object_id)
    found: dict[tuple[str, int], str] = {}
    for object_type, ids in wanted.items():
        key = QUERIES[object_type][1]
        ordered = sorted(ids)
        for start in range(0, len(ordered), _CHUNK):
            stmt = _query(object_type).where(key.in_(ordered[start : start + _CHUNK]))
            for object_id, name in connection.execute(stmt):
                if name:
                    found[(object_type, object_id)] = name[:MAX_LENGTH]
    return found


def label(connection: sa.Connection, object_type: str | None, object_id: int | None) -> str | None:
    return labels(connection, [(object_type, object_id)]).get((object_type or "", object_id or 0))
