"""Factories: the records a test needs, built through the models, so a test states its own
data instead of leaning on the seed file (tests/test_seed.py is about the seed).

Each factory adds to `db.session` (the test's session) and flushes, never commits: the
row has its id and the test's transaction rolls it back. A test that then sends requests
through the HTTP client commits first (a savepoint inside the test's transaction), as
tests/states.py does, because each request ends its session.

Components, reports and accounts get unique made-up names unless told otherwise
("TC1", "FAC-1", "user1@factory.example"); pass the names an assertion reads.

    fema, ia = make_component(), make_component()
    report = make_report(issued_on=date(2024, 3, 1), restricted=True, components=[fema])
    rec = make_recommendation(report, addressees=[fema, ia], status=RecStatus.OPEN_RESOLVED)
    make_response(rec, fema, target_date=date(2025, 1, 31))
    liaison = make_user(Role.LIAISON, [fema])
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import joinedload, selectinload

from app import audit
from app.auth.passwords import hash_password
from app.extensions import db
from app.lifecycle import history
from app.models import (
    Addressee,
    Component,
    Concurrence,
    Recommendation,
    RecStatus,
    Report,
    ReportType,
    ResponseState,
    Role,
    Sensitivity,
    TextSource,
    User,
)
from tests.conftest import signed_in_now

_serial = itertools.count(1)
# An account made here signs in through `login_as`, not with a password (hashing one
# takes a noticeable time); give `password=` for a test of the sign-in form.
NO_PASSWORD = "!factory: no password"
FACTORY_ACTOR = audit.AuditActor.system("tests: factories")


def _next() -> int:
    return next(_serial)


def make_component(abbreviation: str | None = None, name: str | None = None, **fields: Any) -> Component:
    n = _next()
    component = Component(
        abbreviation=abbreviation or f"TC{n}",
        name=name or f"Test Component {n}",
        **fields,
    )
    db.session.add(component)
    db.session.flush()
    return component


def make_user(
    role: Role,
    components: Iterable[Component] = (),
    *,
    email: str | None = None,
    display_name: str | None = None,
    password: str | None = None,
    **fields: Any,
) -> User:
    n = _next()
    user = User(
        email=(email or f"user{n}@factory.example").lower(),
        display_name=display_name or f"Factory User {n}",
        role=role,
        password_hash=hash_password(password) if password else NO_PASSWORD,
        components=list(components),
        **fields,
    )
    db.session.add(user)
    db.session.flush()
    return user


def login_as(client: FlaskClient, user: User | str) -> FlaskClient:
    """Sign the client in as `user` (the session cookie, without the password round
    trip). The user must be committed for the request to find it. After a request the
    user object is detached: pass `user.get_id()`, read before the first request."""
    with client.session_transaction() as sess:
        sess["_user_id"] = user if isinstance(user, str) else user.get_id()
        sess["_fresh"] = True
        signed_in_now(sess)
    return client


def make_report(
    *,
    issued_on: date = date(2024, 3, 1),
    restricted: bool = False,
    number: str | None = None,
    title: str | None = None,
    components: Iterable[Component] = (),
    approximate: bool = False,
    report_type: ReportType = ReportType.AUDIT,
    **fields: Any,
) -> Report:
    n = _next()
    report = Report(
        number=number or f"FAC-{n}",
        title=title or f"Factory report {n}",
        issued_on=issued_on,
        issued_on_approximate=approximate,
        report_type=report_type,
        sensitivity=Sensitivity.RESTRICTED if restricted else Sensitivity.PUBLIC,
        components=list(components),
        **fields,
    )
    db.session.add(report)
    db.session.flush()
    return report


AddresseeSpec = Component | tuple[Component, dict[str, Any]]


def make_recommendation(
    report: Report | None = None,
    addressees: Sequence[AddresseeSpec] = (),
    *,
    status: RecStatus = RecStatus.OPEN_UNRESOLVED,
    number: int | None = None,
    text: str | None = None,
    restricted: bool | None = None,
    concurrence: Concurrence = Concurrence.PENDING,
    lead: bool = True,
    with_history: bool = False,
    **fields: Any,
) -> Recommendation:
    """A recommendation on `report` (a new public one by default) addressed to
    `addressees`, the first one the lead (none with `lead=False`). An addressee is a
    component, or (component, {column: value}) for that part's own state. Restricted when
    the report is, unless `restricted` says. `with_history`: record the issuance events, as entering a
    recommendation does (the "as of" views rebuild state from them)."""
    report = report or make_report()
    if number is None:  # the next free number (read in SQL: a loaded report raises on lazy loads)
        taken = sa.select(sa.func.max(Recommendation.number)).where(Recommendation.report_id == report.id)
        number = (db.session.scalar(taken) or 0) + 1
    if restricted is None:
        restricted = report.sensitivity == Sensitivity.RESTRICTED
    parts = []
    for i, spec in enumerate(addressees):
        component, values = spec if isinstance(spec, tuple) else (spec, {})
        parts.append(
            Addressee(
                component=component,
                is_lead=lead and i == 0,
                **{"concurrence": concurrence, **values},
            )
        )
    recommendation = Recommendation(
        number=number,
        text=text or f"Factory recommendation {number} of {report.number}.",
        text_source=TextSource.VERBATIM,
        sensitivity=Sensitivity.RESTRICTED if restricted else Sensitivity.PUBLIC,
        status=status,
        addressees=parts,
        report=report,
        # synthetic: tracked from issuance (as the demo generator), unless given
        **{"tracked_since": report.issued_on, **fields},
    )
    db.session.add(recommendation)
    db.session.flush()
    if with_history:
        history.record_issuance(db.session, recommendation, FACTORY_ACTOR)
        db.session.flush()
    return recommendation


def part(recommendation: Recommendation, component: Component) -> Addressee:
    """The addressee row of `component` on `recommendation`."""
    return next(a for a in recommendation.addressees if a.component_id == component.id)


def make_response(
    recommendation: Recommendation,
    component: Component,
    *,
    concurrence: Concurrence = Concurrence.CONCUR,
    state: ResponseState = ResponseState.SUBMITTED,
    response: str = "The component concurs.",
    response_date: date | None = None,
    plan: str = "A corrective action plan.",
    target_date: date | None = None,
    official: str = "Responsible Official",
) -> Addressee:
    """`component`'s written response on `recommendation`, set on its row directly (no
    history event; a test of the step itself goes through app.lifecycle.workflow)."""
    addressee = part(recommendation, component)
    addressee.concurrence = concurrence
    addressee.response_state = state
    addressee.response = response
    addressee.response_date = response_date
    addressee.corrective_action_plan = plan
    addressee.target_date = target_date
    addressee.responsible_official = official
    db.session.flush()
    return addressee


def load_recommendation(recommendation_id: int) -> Recommendation:
    """A recommendation read afresh, with its report and its addressees' components (for
    a test that sent requests in between: its own objects are detached by then)."""
    found = db.session.scalar(
        sa.select(Recommendation)
        .where(Recommendation.id == recommendation_id)
        .options(
            selectinload(Recommendation.addressees).joinedload(Addressee.component),
            joinedload(Recommendation.report),
        )
        .execution_options(populate_existing=True)
    )
    assert found is not None, recommendation_id
    return found


def make_done_job(user: User, key: str = "p" * 64) -> str:
    """A finished job of `user`'s with a small file (committed); its id."""
    from datetime import timedelta

    from app import clock
    from app.jobs import services as job_services
    from app.jobs.registry import Output
    from app.storage import DatabaseBlobStore

    now = clock.now()
    job, _ = job_services.request_job(
        db.session, user, kind="pdf", title="Probe PDF", params={}, key=key, now=now
    )
    job_services.claim(db.session, job.id, worker="probe", now=now)
    sha256 = DatabaseBlobStore().put(db.session, b"%PDF-probe")
    output = Output(b"%PDF-probe", "probe.pdf", "application/pdf")
    job_services.finish(db.session, job, output, sha256, now=now, ttl=timedelta(hours=1))
    db.session.commit()
    return job.id
