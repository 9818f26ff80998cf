"""End-to-end tests in headless Chromium against a live server.

The server runs in a thread on 127.0.0.1 with its own database (a new SQLite file, or a
separate PostgreSQL database when TEST_DATABASE_URL points at PostgreSQL), migrated,
seeded, with CSRF on, and a real Celery worker process beside it for background jobs (on
a SQLite-file broker, as `make run`): everything a person's browser would meet.

Without Chromium these tests are skipped with a notice; in CI (CI=true) a missing
browser is a failure instead."""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from app import audit, clock, create_app
from app.auth import services as accounts
from app.extensions import db
from app.models import Component, Role
from app.seed.services import load_seed
from config import TestingConfig
from tests.conftest import FIXTURE_SEED

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "browser tests passphrase"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
ACCOUNTS = {
    "oig": ("oig@browser.example", Role.OIG, ()),
    "admin": ("admin@browser.example", Role.ADMIN, ()),
    "fema": ("fema@browser.example", Role.LIAISON, ("FEMA",)),
    "ia": ("ia@browser.example", Role.LIAISON, ("I&A",)),
    "viewer": ("viewer@browser.example", Role.VIEWER, ()),
}
LIVE: dict[str, Any] = {}  # the live server's Flask app, for tests that set data or run commands


def chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.path):
            item.add_marker(pytest.mark.browser)
    if chromium() or os.environ.get("CI") == "true":
        return
    skip = pytest.mark.skip(
        reason="Chromium not found: install the Debian package 'chromium' to run browser tests"
    )
    for item in items:
        if "tests/browser" in str(item.path):
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not chromium() and os.environ.get("CI") != "true":
        terminalreporter.write_line(
            "NOTICE: browser tests were skipped because Chromium is not installed "
            "(apt-get install chromium chromium-driver); CI installs it and runs them.",
            yellow=True,
        )


def _database(tmp: Path) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp / 'browser.db'}"
    parsed = make_url(url)
    admin = sa.create_engine(parsed, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("DROP DATABASE IF EXISTS rectrack_browser_test WITH (FORCE)")
        conn.exec_driver_sql("CREATE DATABASE rectrack_browser_test")
    admin.dispose()
    return parsed.set(database="rectrack_browser_test").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from flask_migrate import upgrade

    tmp = tmp_path_factory.mktemp("browser")
    config = TestingConfig(_database(tmp))
    config.WTF_CSRF_ENABLED = True
    config.ATTACHMENT_DIR = str(tmp / "attachments")
    config.LOGIN_LIMIT_PER_ADDRESS = "1000 per minute"  # every browser test comes from 127.0.0.1
    config.PORTAL_RATE_LIMIT = "1000 per minute"  # signed-out pages, all from 127.0.0.1 too
    config.JOBS_BACKEND = "celery"
    config.CELERY_BROKER_URL = f"sqla+sqlite:///{tmp / 'broker.sqlite'}"
    application = create_app(config)
    LIVE["app"] = application
    with application.app_context():
        upgrade()
        actor = audit.AuditActor.system("browser tests")
        audit.set_actor(db.session, actor)
        load_seed(db.session, actor, FIXTURE_SEED, today=clock.today())
        components = {c.abbreviation: c for c in db.session.scalars(sa.select(Component))}
        for email, role, served in ACCOUNTS.values():
            accounts.create_user(
                db.session,
                email=email,
                display_name=email.split("@")[0].title(),
                role=role,
                password=PASSWORD,
                components=[components[a] for a in served],
            )
        db.session.commit()
        db.session.remove()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log in test output
    worker = _start_worker(config, tmp)
    server = make_server("127.0.0.1", 0, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
        with application.app_context():
            db.engine.dispose()


def _start_worker(config: TestingConfig, tmp: Path) -> subprocess.Popen[bytes]:
    """One Celery worker process on the live server's database and broker."""
    env = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": config.SQLALCHEMY_DATABASE_URI,
        "CELERY_BROKER_URL": config.CELERY_BROKER_URL,
        "JOBS_BACKEND": "celery",
        "SECRET_KEY": secrets.token_urlsafe(32),
    }
    celery = Path(sys.executable).with_name("celery")
    log = (tmp / "worker.log").open("wb")
    return subprocess.Popen(
        [
            str(celery),
            "-A",
            "app.jobs.worker",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "-n",
            "browser@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = chromium()
    if path is None:
        pytest.fail("CI=true but Chromium is not installed: .ci/run should have installed it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def watched_page(context: Any, problems: list[str]) -> Any:
    """A new page in `context` whose script errors and Content-Security-Policy violations
    are added to `problems` (the caller fails the test on any)."""
    page = context.new_page()
    page.set_default_timeout(15000)
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    page.on(
        "console",
        lambda msg: (
            problems.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    return page


@pytest.fixture
def sign_in(browser: Any, live_server: str) -> Iterator[Any]:
    """sign_in("oig") -> a page signed in as that account, in its own browser context.
    Any Content-Security-Policy violation or script error on the way fails the test
    (accessibility checks inject axe and pass bypass_csp=True)."""
    contexts = []
    problems: list[str] = []

    def _sign_in(who: str, bypass_csp: bool = False) -> Any:
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, accept_downloads=True, bypass_csp=bypass_csp
        )
        contexts.append(context)
        page = watched_page(context, problems)
        page.goto(f"{live_server}/login")
        page.fill("#email", ACCOUNTS[who][0])
        page.fill("#password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{live_server}/")
        return page

    yield _sign_in
    for context in contexts:
        context.close()
    assert not problems, "\n".join(problems)


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """WCAG 2.1 A and AA violations axe-core finds on the page as it stands."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
        })"""
    )
    return result["violations"]


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        for node in v["nodes"][:3]:
            why = "; ".join(check["message"] for check in node.get("any", []) + node.get("all", []))
            lines.append(f"{v['id']} ({v['impact']}): {', '.join(node['target'])}: {why}")
    return "\n".join(lines)
