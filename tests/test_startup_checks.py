"""Start-up refuses what would fail later, each time with one line naming the setting: the
production entry point (wsgi.py) without APP_ENV=production, a bad time zone, a weak
secret, SQLite in production, a schema behind the migrations. And a server on an
unmigrated database shows a page saying so instead of a 500 at sign-in."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from app.schema import head_revision
from app.startup import require_schema_at_head
from config import DevelopmentConfig, ProductionConfig, TestingConfig

ROOT = Path(__file__).resolve().parent.parent
SECRET = "q3Vb8xZr1LmN0pK7sT2wYc9dF4gH6jA5eR_uI-oPzXkWvBnMlQ"
# PostgreSQL at a port where nothing listens: a URL production accepts that need not answer.
UNREACHABLE_PG = "postgresql+psycopg://rectrack@127.0.0.1:1/rectrack"


def _refusal(env: dict[str, str]) -> str:
    """The last line `import wsgi` (what gunicorn does) writes in a fresh interpreter with
    `env`, which must stop it: the refusal, one line."""
    done = subprocess.run(
        [sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1, done.stderr[-2000:]
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("RuntimeError: "), done.stderr[-2000:]
    return last.removeprefix("RuntimeError: ")


@pytest.fixture
def production_env() -> dict[str, str]:
    """A production environment that would start: every test spoils one setting."""
    keep = ("PATH", "HOME", "LANG", "PYTHONPATH")
    return {
        **{k: v for k, v in os.environ.items() if k in keep},
        "APP_ENV": "production",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": UNREACHABLE_PG,
        "RATELIMIT_STORAGE_URI": "memory://",
    }


@pytest.mark.parametrize("value", [None, "development", "Production "])
def test_wsgi_serves_production_only(production_env, value: str | None) -> None:
    if value is None:
        del production_env["APP_ENV"]
    else:
        production_env["APP_ENV"] = value
    found = "unset" if value is None else repr(value)
    assert _refusal(production_env) == (
        f"APP_ENV is {found}: wsgi.py serves production only and needs APP_ENV=production "
        "(development: make run)."
    )


def test_a_time_zone_that_is_not_one(production_env) -> None:
    production_env["APP_TIMEZONE"] = "America/NewYork"
    assert _refusal(production_env) == (
        "APP_TIMEZONE 'America/NewYork' is not a time zone; use a name such as America/New_York."
    )


def test_a_weak_secret(production_env) -> None:
    production_env["SECRET_KEY"] = "a" * 40
    assert _refusal(production_env).startswith(
        "SECRET_KEY has only 1 different characters: it is not random;"
    )


@pytest.mark.parametrize("url", ["sqlite:////srv/rectrack/rectrack.db", "sqlite://"])
def test_sqlite_in_production(production_env, monkeypatch, url: str) -> None:
    production_env["DATABASE_URL"] = url
    assert _refusal(production_env) == (
        "DATABASE_URL is a SQLite database; production needs PostgreSQL, such as "
        "postgresql+psycopg://rectrack@db.internal/rectrack."
    )
    monkeypatch.setenv("SECRET_KEY", SECRET)
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(RuntimeError, match=r"^DATABASE_URL is a SQLite database"):
        ProductionConfig().validate()  # `flask --app app …` in production too, not only the web


def test_an_unreachable_database_at_start_is_a_warning(production_env) -> None:
    code = "import wsgi; print(wsgi.app.config['ENV_NAME'])"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=production_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "production"
    assert "The database (DATABASE_URL) cannot be reached at start (OperationalError)" in done.stderr


# --- the schema against the migration head ------------------------------------------------------


def _app_on(url: str, guard: bool = True):
    config = TestingConfig(url)
    config.SCHEMA_GUARD = guard
    return create_app(config)


def test_an_unmigrated_database_is_refused(tmp_path) -> None:
    app = _app_on(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(RuntimeError) as caught:
        require_schema_at_head(app)
    assert str(caught.value) == (
        f"DATABASE_URL: The database schema is not migrated (no alembic_version), not {head_revision()}: "
        "run `flask --app app db upgrade` first."
    )


def test_a_schema_behind_the_head_is_refused_and_one_at_the_head_starts(tmp_path) -> None:
    app = _app_on(f"sqlite:///{tmp_path / 'behind.db'}")
    with app.app_context():
        upgrade(revision="0020_jobs")
    with pytest.raises(
        RuntimeError, match=r"^DATABASE_URL: The database schema is at revision 0020_jobs, not "
    ):
        require_schema_at_head(app)
    with app.app_context():
        upgrade()
    require_schema_at_head(app)


def test_the_web_refuses_to_serve_an_unmigrated_database_until_it_is_migrated(tmp_path) -> None:
    app = _app_on(f"sqlite:///{tmp_path / 'later.db'}")
    client = app.test_client()
    page = client.get("/login")
    assert page.status_code == 503
    assert b"RecTrack is not ready" in page.data
    assert b"flask --app app db upgrade" in page.data
    signing_in = client.post("/login", data={"email": "oig@rectrack.example", "password": "x" * 20})
    assert signing_in.status_code == 503  # not a 500 from a missing users table
    assert client.get("/static/css/app.css").status_code == 200
    with app.app_context():
        upgrade()
        db.session.remove()
    assert client.get("/login").status_code == 200


def test_servers_guard_their_schema_and_tests_do_not() -> None:
    assert DevelopmentConfig.SCHEMA_GUARD is True
    assert ProductionConfig.SCHEMA_GUARD is True
    assert TestingConfig.SCHEMA_GUARD is False


def test_production_refuses_an_unmigrated_postgresql_database(production_env) -> None:
    base = os.environ.get("TEST_DATABASE_URL", "")
    if not base.startswith("postgresql"):
        pytest.skip("PostgreSQL only: production refuses SQLite before it looks at the schema")
    url = make_url(base)
    name = f"{url.database}_startup_{secrets.token_hex(4)}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        production_env["DATABASE_URL"] = url.set(database=name).render_as_string(hide_password=False)
        assert _refusal(production_env) == (
            f"DATABASE_URL: The database schema is not migrated (no alembic_version), not {head_revision()}: "
            "run `flask --app app db upgrade` first."
        )
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()
