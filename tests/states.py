"""Records brought to a given point of their lifecycle through the services, for tests
that then act on them through the HTTP client. Each setup commits (a savepoint inside
the test's transaction), so the requests that follow see it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.lifecycle import workflow
from app.models import Addressee, Component, Concurrence, Recommendation
from tests.conftest import EMAILS, rec, user_by_email


def component(abbreviation: str) -> Component:
    found = db.session.scalar(sa.select(Component).where(Component.abbreviation == abbreviation))
    assert found is not None, abbreviation
    return found


def row(recommendation: Recommendation, abbreviation: str) -> Addressee:
    return next(a for a in recommendation.addressees if a.component.abbreviation == abbreviation)


def step_url(number: int, step: str, abbreviation: str | None = None) -> Callable[[], str]:
    """The URL of a lifecycle step on OIG-12-15 recommendation `number`."""

    def url() -> str:
        target = rec("OIG-12-15", number)
        if abbreviation is None:
            return f"/recommendations/{target.id}/{step}"
        return f"/recommendations/{target.id}/components/{row(target, abbreviation).id}/{step}"

    return url


def ctx(role: str) -> workflow.Context:
    return workflow.Context(user=user_by_email(EMAILS[role]), today=clock.today())


def fema_responded() -> None:
    """FEMA has submitted its response to CPG-502 (OIG-12-15 #3)."""
    cpg = rec("OIG-12-15", 3)
    workflow.submit_response(
        db.session,
        ctx("fema"),
        cpg,
        row(cpg, "FEMA"),
        workflow.ResponseData(
            Concurrence.CONCUR, "FEMA concurs.", "Plan.", clock.today() + timedelta(days=120), "Director"
        ),
    )
    db.session.commit()


def hsin_resolved(then: str = "") -> Callable[[], None]:
    """OIG-12-15 #1 (I&A concurred in the report) resolved; then perhaps its closure
    requested ("closure requested") or closed as implemented ("closed")."""

    def setup() -> None:
        hsin = rec("OIG-12-15", 1)
        workflow.resolve(db.session, ctx("oig"), hsin, "Responsive.")
        if then in ("closure requested", "closed"):
            workflow.request_closure(db.session, ctx("liaison"), hsin, row(hsin, "I&A"), "Done.")
        if then == "closed":
            workflow.close(db.session, ctx("oig"), hsin, implemented=True, note="Verified.")
        db.session.commit()

    return setup
