"""Who may do what, and who may see what. Every view asks these functions; templates
ask them too, but only to hide what the server already refuses."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import abort
from flask_login import AnonymousUserMixin
from sqlalchemy.orm import Session

from app.models import Addressee, Attachment, Recommendation, Report, Role, Sensitivity, report_components
from app.models.component import Component

STAFF = (Role.ADMIN, Role.OIG)


def _role(user: Any) -> Role | None:
    return getattr(user, "role", None) if getattr(user, "is_authenticated", False) else None


def _reads_public(user: Any) -> bool:
    """Signed in with a role, or the public portal's anonymous visitor (PublicReader):
    whoever may read public items."""
    return _role(user) is not None or bool(getattr(user, "reads_public", False))


def require(allowed: bool) -> None:
    """Abort with 403 unless allowed."""
    if not allowed:
        abort(403)


def is_admin(user: Any) -> bool:
    return _role(user) == Role.ADMIN


def is_staff(user: Any) -> bool:
    """Admins and OIG staff: they see everything and edit report data."""
    return _role(user) in STAFF


def can_manage_reports(user: Any) -> bool:
    return is_staff(user)


def can_manage_components(user: Any) -> bool:
    return is_admin(user)


def can_manage_users(user: Any) -> bool:
    return is_admin(user)


def can_manage_acronyms(user: Any) -> bool:
    """The acronyms search expands (app.search.acronyms)."""
    return is_admin(user)


def can_view_audit_log(user: Any) -> bool:
    return is_admin(user)


def has_work_queues(user: Any) -> bool:
    """Staff and liaisons owe or decide something; congressional staff only read."""
    return _role(user) in (*STAFF, Role.LIAISON)


def sees_actor_names(user: Any) -> bool:
    """Who took each step, by name; congressional staff see only the role."""
    return _role(user) not in (None, Role.VIEWER)


def can_view_recommendation(user: Any, rec: Recommendation) -> bool:
    """Needs rec.addressees loaded for liaisons."""
    role = _role(user)
    if role in STAFF:
        return True
    if rec.sensitivity == Sensitivity.PUBLIC:
        return _reads_public(user)
    if role == Role.LIAISON:
        return any(a.component_id in user.component_ids for a in rec.addressees)
    return False


def can_view_report(user: Any, report: Report) -> bool:
    """Needs report.components and report.recommendations[*].addressees loaded for liaisons."""
    role = _role(user)
    if role in STAFF:
        return True
    if report.sensitivity == Sensitivity.PUBLIC:
        return _reads_public(user)
    if role == Role.LIAISON:
        mine = user.component_ids
        return any(c.id in mine for c in report.components) or any(
            a.component_id in mine for r in report.recommendations for a in r.addressees
        )
    return False


def can_download_attachment(user: Any, attachment: Attachment) -> bool:
    """Whoever may read the recommendation, except that on a restricted one a liaison
    gets only the documents of their own components (or the OIG's own). A document is
    its component's for good (attachment.component_id), even after OIG staff remove that
    component from the recommendation; its liaisons then no longer read the restricted
    recommendation, so they lose its documents with it, and only staff keep them.
    Anonymous visitors of the public portal get no documents at all."""
    if _role(user) is None:
        return False
    rec = attachment.recommendation
    if not can_view_recommendation(user, rec):
        return False
    if rec.sensitivity == Sensitivity.RESTRICTED and _role(user) == Role.LIAISON:
        return attachment.component_id is None or attachment.component_id in user.component_ids
    return True


def recommendation_visibility(user: Any) -> sa.ColumnElement[bool]:
    """SQL criterion: the recommendations this user may read in full."""
    role = _role(user)
    if role in STAFF:
        return sa.true()
    public = Recommendation.sensitivity == Sensitivity.PUBLIC
    if role == Role.LIAISON and user.component_ids:
        return sa.or_(
            public,
            Recommendation.addressees.any(Addressee.component_id.in_(user.component_ids)),
        )
    return public if _reads_public(user) else sa.false()


def _reports_of(component_ids: Any) -> sa.CompoundSelect[*tuple[Any, ...]]:
    """Reports addressed to the components, or with a recommendation addressed to them.

    An uncorrelated IN, not nested EXISTS: under an OR, PostgreSQL ran the nested EXISTS
    once per recommendation row, while this runs once and is probed by hash (a FEMA
    liaison's uncached dashboard at 100,000 recommendations: 1.7 s -> 0.9 s; SQLite
    +0.06 s). The same swap for recommendation_visibility gained nothing."""
    return sa.union(  # correlate(None): never borrow a table from the enclosing query
        sa.select(report_components.c.report_id)
        .where(report_components.c.component_id.in_(component_ids))
        .correlate(None),
        sa.select(Recommendation.report_id)
        .join(Addressee, Addressee.recommendation_id == Recommendation.id)
        .where(Addressee.component_id.in_(component_ids))
        .correlate(None),
    )


def report_visibility(user: Any, own_reports: Collection[int] | None = None) -> sa.ColumnElement[bool]:
    """SQL criterion: the reports this user may open. `own_reports`: own_report_ids(),
    read once by a page that runs this criterion in several queries (the dashboard)."""
    role = _role(user)
    if role in STAFF:
        return sa.true()
    public = Report.sensitivity == Sensitivity.PUBLIC
    if role == Role.LIAISON and user.component_ids:
        if own_reports is not None:
            return sa.or_(public, Report.id.in_(sorted(own_reports)))
        return sa.or_(public, Report.id.in_(_reports_of(user.component_ids)))
    return public if _reads_public(user) else sa.false()


# More ids than this are not worth sending as parameters (SQLite allows 32,766 at most).
OWN_REPORTS_LIMIT = 5000


def own_report_ids(session: Session, user: Any) -> frozenset[int] | None:
    """The reports a liaison may open because of their components (report_visibility's
    _reports_of), read once; None for anyone else, or when there are too many to pass
    as parameters (report_visibility then reads them in each query)."""
    if _role(user) != Role.LIAISON or not user.component_ids:
        return None
    ids = frozenset(session.scalars(_reports_of(user.component_ids).limit(OWN_REPORTS_LIMIT + 1)))
    return ids if len(ids) <= OWN_REPORTS_LIMIT else None


@dataclass(frozen=True)
class Reader:
    """Someone reading without a session: the PDF command's --as-role. Has the shape
    the policy functions read from a signed-in user."""

    role: Role
    components: tuple[Component, ...] = ()
    is_authenticated: bool = True
    display_name: str = "command line"

    @property
    def component_ids(self) -> frozenset[int]:
        return frozenset(c.id for c in self.components)


class PublicReader(AnonymousUserMixin):
    """The anonymous visitor of the public portal (Flask-Login's anonymous user): the
    most restricted reader. No role, no components, no name: reads public items only, as
    congressional staff do, never a restricted one or a document. Which pages it may open
    at all is decided in app/__init__.py (PORTAL_ENDPOINTS, with PUBLIC_PORTAL on)."""

    role = None
    reads_public = True
    display_name = "Public"
    components: tuple[Component, ...] = ()
    component_ids: frozenset[int] = frozenset()
