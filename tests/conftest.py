"""Test harness.

The schema is built once per run by the migrations (never create_all), on SQLite by
default or on PostgreSQL when TEST_DATABASE_URL points there. Each test then runs inside
a transaction that is rolled back, with the app's commits turned into savepoints.

The clock is frozen for the whole run (time-machine, ticking from a fixed instant), so
the suite never depends on the hour or the machine's time zone. RECTRACK_TEST_NOW moves
that instant: `.ci/run` repeats the date-sensitive tests at an hour when the UTC and
Eastern dates differ, and on a daylight-saving change day. Tests ask `app.clock` for
today; a test in test_clock_seam.py refuses any wall-clock read under tests/.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy.orm import joinedload, scoped_session, selectinload, sessionmaker

from app import audit, clock, create_app
from app.auth import services as accounts
from app.auth import throttle
from app.cache import derived
from app.database import AppSession
from app.extensions import db
from app.lifecycle import due_dates, history, periods
from app.models import (
    Addressee,
    Component,
    Concurrence,
    Recommendation,
    Report,
    ReportType,
    Role,
    Sensitivity,
    TextSource,
    User,
)
from app.seed.services import load_seed
from config import TestingConfig
from tests import mailserver

# A Monday afternoon in Washington; the same date in UTC and Eastern time.
DEFAULT_TEST_NOW = "2026-11-16T17:00:00+00:00"
PASSWORD = "correct horse battery staple"
# The suite's base data: the four real reports of the first seed file (its facts are a
# subset of app/seed/data/dhs-oig-reports.yaml), so counts in tests stay small and known.
# tests/test_seed.py loads the full real record on top.
FIXTURE_SEED = Path(__file__).parent / "data" / "seed-reports.yaml"
_traveller: Any = None


def pytest_configure(config: pytest.Config) -> None:
    global _traveller
    instant = datetime.fromisoformat(os.environ.get("RECTRACK_TEST_NOW") or DEFAULT_TEST_NOW)
    if instant.tzinfo is None:
        raise pytest.UsageError("RECTRACK_TEST_NOW needs a UTC offset, e.g. 2026-12-01T02:30:00+00:00")
    _traveller = time_machine.travel(instant, tick=True)
    _traveller.start()


def pytest_unconfigure(config: pytest.Config) -> None:
    if _traveller is not None:
        _traveller.stop()


def pytest_report_header(config: pytest.Config) -> str:
    return f"clock frozen (ticking) from {os.environ.get('RECTRACK_TEST_NOW') or DEFAULT_TEST_NOW}"


@pytest.fixture
def on_november_16() -> Iterator[None]:
    """For a test whose expected dates are written out from the suite's default instant
    (Monday, November 16, 2026): it runs there whatever RECTRACK_TEST_NOW says (CI runs
    the PostgreSQL suite at 02:30 UTC on December 1)."""
    with time_machine.travel(datetime.fromisoformat(DEFAULT_TEST_NOW), tick=True):
        yield


@pytest.fixture
def today() -> date:
    """The app's today (APP_TIMEZONE) on the frozen clock."""
    return clock.today()


ROLES = ("admin", "oig", "liaison", "viewer")


def reset_database(url: str) -> None:
    """Empty the test database: a new SQLite file, or a clean PostgreSQL schema."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'rectrack-test.db'}"


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    # `make mutation` starts the suite hundreds of times; it names a file to keep the
    # migrated and seeded SQLite database in, built once (RECTRACK_TEST_DB_TEMPLATE).
    template = os.environ.get("RECTRACK_TEST_DB_TEMPLATE") if database_url.startswith("sqlite") else None
    database_file = Path(database_url.removeprefix("sqlite:///"))
    reused = bool(template) and Path(template).is_file()
    if reused:
        shutil.copyfile(template, database_file)
    else:
        reset_database(database_url)
    config = TestingConfig(database_url)
    config.ATTACHMENT_DIR = str(tmp_path_factory.mktemp("attachments"))
    application = create_app(config)
    if not reused:
        with application.app_context():
            upgrade()
            audit.set_actor(db.session, audit.AuditActor.system("tests: fixtures"))
            load_seed(
                db.session, audit.AuditActor.system("tests: fixtures"), FIXTURE_SEED, today=clock.today()
            )
            _track_from_issuance(db.session)
            _base_fixtures(db.session)
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
        if template:
            partial = Path(f"{template}.{os.getpid()}")
            shutil.copyfile(database_file, partial)
            partial.replace(template)  # atomic: a parallel run never reads half a file
    yield application
    with application.app_context():
        db.engine.dispose()


def _track_from_issuance(session: Any) -> None:
    """The suite's base data as if RecTrack had tracked it since issuance: the clock tests
    walk these real recommendations through steps dated from 2011 on. The seed's own rule
    (tracked since the day it was loaded, so earlier deadlines are "not recorded") is
    tested on the full real record in tests/test_seed.py and tests/test_tracked_clocks.py."""
    issued = sa.select(Report.issued_on).where(Report.id == Recommendation.report_id).scalar_subquery()
    session.execute(sa.update(Recommendation).values(tracked_since=issued))
    policy = due_dates.policy_for(session)
    due_dates.refresh(session.connection(), policy)
    periods.rebuild_all(session.connection(), policy)  # the periods carry the same due dates


def _base_fixtures(session: Any) -> None:
    """Accounts for each role and a clearly synthetic restricted report."""
    comps = {c.abbreviation: c for c in session.scalars(sa.select(Component))}
    for email, role, components in (
        ("admin@test.example", Role.ADMIN, []),
        ("oig@test.example", Role.OIG, []),
        ("liaison@test.example", Role.LIAISON, [comps["I&A"]]),
        ("fema@test.example", Role.LIAISON, [comps["FEMA"]]),
        ("viewer@test.example", Role.VIEWER, []),
    ):
        accounts.create_user(
            session,
            email=email,
            display_name=email.split("@")[0].title(),
            role=role,
            password=PASSWORD,
            components=components,
        )
    restricted = Report(
        number="TEST-R-1",
        title="Synthetic restricted report (test fixture)",
        issued_on=date(2023, 1, 10),
        report_type=ReportType.AUDIT,
        sensitivity=Sensitivity.RESTRICTED,
        components=[comps["I&A"], comps["FEMA"]],
    )
    session.add(restricted)
    for number, component, text in (
        (1, "I&A", "SYNTHETIC-RESTRICTED-IA text for tests."),
        (2, "FEMA", "SYNTHETIC-RESTRICTED-FEMA text for tests."),
    ):
        restricted.recommendations.append(
            Recommendation(
                number=number,
                text=text,
                text_source=TextSource.VERBATIM,
                sensitivity=Sensitivity.RESTRICTED,
                tracked_since=date(2023, 1, 10),  # synthetic: tracked from issuance
                addressees=[
                    Addressee(component=comps[component], is_lead=True, concurrence=Concurrence.CONCUR)
                ],
            )
        )
    session.flush()
    # Their history starts like any entered recommendation's, so the "as of" PDFs list them.
    for recommendation in restricted.recommendations:
        history.record_issuance(session, recommendation, audit.AuditActor.system("tests: fixtures"))
    session.flush()


@pytest.fixture(autouse=True)
def db_session(request: pytest.FixtureRequest) -> Iterator[scoped_session | None]:
    """Run the test in a transaction that is rolled back at the end. Browser tests talk
    to a live server with its own database and commit for real, so they skip this, as
    does the two-servers test (tests/test_two_servers.py) and any test marked own_database."""
    if any(request.node.get_closest_marker(m) for m in ("browser", "servers", "own_database")):
        yield None
        return
    app: Flask = request.getfixturevalue("app")
    with app.app_context():
        connection = db.engine.connect()
    transaction = connection.begin()
    session = scoped_session(
        sessionmaker(
            class_=AppSession,  # the app's session class: its write hooks run in tests too
            bind=connection,
            join_transaction_mode="create_savepoint",
            info={"audit_actor": audit.AuditActor.system("tests")},
        )
    )
    original = db.session
    db.session = session
    app.extensions[throttle.EXTENSION_KEY].reset()
    # Rolled-back tests reuse data versions, so nothing cached under one may carry over
    # (in production a version names one committed state, never two).
    derived.clear()
    try:
        yield session
    finally:
        session.remove()
        transaction.rollback()
        connection.close()
        db.session = original


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def user_by_email(email: str) -> User:
    user = db.session.scalar(
        sa.select(User).where(User.email == email).options(selectinload(User.components))
    )
    assert user is not None, email
    return user


EMAILS = {
    "admin": "admin@test.example",
    "oig": "oig@test.example",
    "liaison": "liaison@test.example",
    "fema": "fema@test.example",
    "viewer": "viewer@test.example",
}


def signed_in_now(sess: Any) -> None:
    """Stamp a test session as signed in just now (the session limits read these keys,
    app/auth/sessions.py), as the sign-in page does."""
    now = clock.now().isoformat()
    sess["auth_at"] = now
    sess["seen_at"] = now


def login(client: FlaskClient, role: str) -> User:
    """Sign the client in as a role's test account without the password round trip,
    just now (a fresh sign-in: app/auth/fresh.py)."""
    user = user_by_email(EMAILS[role])
    with client.session_transaction() as sess:
        sess["_user_id"] = user.get_id()
        sess["_fresh"] = True
        signed_in_now(sess)
    return user


@pytest.fixture
def as_role(client: FlaskClient):
    def _as(role: str) -> FlaskClient:
        login(client, role)
        return client

    return _as


def _rec_options() -> Any:
    return selectinload(Recommendation.addressees).joinedload(Addressee.component)


def report_by_number(number: str | None, title: str | None = None) -> Report:
    """A report with its recommendations, addressees and components loaded."""
    key = Report.number == number if number else Report.title == title
    report = db.session.scalar(
        sa.select(Report)
        .where(key)
        .options(
            selectinload(Report.components),
            selectinload(Report.recommendations).options(_rec_options()),
        )
        .execution_options(populate_existing=True)
    )
    assert report is not None
    return report


def rec(report_number: str, number: int) -> Recommendation:
    """A recommendation with its report and addressees loaded."""
    found = db.session.scalar(
        sa.select(Recommendation)
        .join(Report)
        .where(Report.number == report_number, Recommendation.number == number)
        .options(_rec_options(), joinedload(Recommendation.report))
        .execution_options(populate_existing=True)
    )
    assert found is not None
    return found


@pytest.fixture
def root() -> Path:
    return Path(__file__).resolve().parents[1]


def visible_text(response: Any) -> str:
    """A page's text as a reader sees it: tags removed, white space collapsed."""
    import html
    import re

    body = response.get_data(as_text=True)
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def hidden_fields(page: str) -> dict[str, str]:
    """The hidden inputs of a form page (the record's version among them), as a browser
    would send them back."""
    import html
    import re

    fields = {}
    for tag in re.findall(r"<input\b[^>]*>", page):
        if 'type="hidden"' not in tag:
            continue
        name, value = re.search(r'name="([^"]*)"', tag), re.search(r'value="([^"]*)"', tag)
        if name:
            fields[html.unescape(name.group(1))] = html.unescape(value.group(1)) if value else ""
    return fields


def submit(client: FlaskClient, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """Open a form page, then post `data` with the page's hidden fields (its version),
    as a person using the form does. What `data` sets wins."""
    page = client.get(url, **({"environ_base": kwargs["environ_base"]} if "environ_base" in kwargs else {}))
    return client.post(url, data={**hidden_fields(page.get_data(as_text=True)), **(data or {})}, **kwargs)


@pytest.fixture
def smtp(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[mailserver.MailServer]:
    """A real SMTP server (tests/mailserver.py) the app (the suite's `app` fixture) sends its mail to."""
    server = mailserver.MailServer()
    server.start()
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", server.port)
    try:
        yield server
    finally:
        server.stop()
