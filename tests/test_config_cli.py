"""Configuration from the environment, and the command-line tools."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import selectinload

from app import create_app
from app.extensions import db
from app.models import AuditEvent, Role, User
from config import DevelopmentConfig, ProductionConfig, config_from_env
from tests.conftest import user_by_email

# A key as production wants it: 48 random URL-safe characters (secrets.token_urlsafe(36)).
SECRET = "q3Vb8xZr1LmN0pK7sT2wYc9dF4gH6jA5eR_uI-oPzXkWvBnMlQ"


def test_production_refuses_to_start_without_secret_and_database(monkeypatch) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY, DATABASE_URL"):
        create_app(ProductionConfig())
    monkeypatch.setenv("SECRET_KEY", SECRET)
    with pytest.raises(RuntimeError, match="DATABASE_URL"):
        create_app(ProductionConfig())
    monkeypatch.setenv("SECRET_KEY", "too-short")
    monkeypatch.setenv("DATABASE_URL", "postgresql://app@db.internal/rectrack")
    with pytest.raises(RuntimeError, match="at least 32"):
        create_app(ProductionConfig())


def test_production_settings(monkeypatch) -> None:
    monkeypatch.setenv("SECRET_KEY", SECRET)
    monkeypatch.setenv("DATABASE_URL", "postgresql://app@db.internal/rectrack")
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    config = ProductionConfig()
    config.validate()
    assert config.SESSION_COOKIE_SECURE is True
    assert config.DEMO_ACCOUNTS is False
    assert config.DEBUG is False
    assert config.RATELIMIT_STORAGE_URI.startswith("redis://")


def test_production_refuses_the_crash_tests_delay_and_inline_jobs(monkeypatch) -> None:
    monkeypatch.setenv("SECRET_KEY", SECRET)
    monkeypatch.setenv("DATABASE_URL", "postgresql://app@db.internal/rectrack")
    config = ProductionConfig()
    assert config.CELERY_BROKER_URL == "redis://127.0.0.1:6379/1"
    config.JOB_TEST_DELAY_SECONDS = 3
    with pytest.raises(RuntimeError, match="JOB_TEST_DELAY_SECONDS is for the crash test only"):
        config.validate()
    config.JOB_TEST_DELAY_SECONDS = 0
    config.JOBS_BACKEND = "inline"
    with pytest.raises(RuntimeError, match="JOBS_BACKEND must be celery"):
        config.validate()


def test_app_env_selects_the_configuration(monkeypatch) -> None:
    monkeypatch.setenv("APP_ENV", "development")
    assert isinstance(config_from_env(), DevelopmentConfig)
    monkeypatch.setenv("APP_ENV", "staging")
    with pytest.raises(RuntimeError, match="Unknown APP_ENV"):
        config_from_env()


def test_postgres_urls_use_psycopg3() -> None:
    from app import _normalize_db_url

    assert _normalize_db_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert _normalize_db_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert _normalize_db_url("sqlite:///x.db") == "sqlite:///x.db"


def test_development_secret_key_is_random_and_kept(tmp_path, monkeypatch) -> None:
    import config as config_module

    monkeypatch.setattr(config_module, "INSTANCE_DIR", tmp_path)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = DevelopmentConfig().SECRET_KEY
    assert len(first) >= 48
    assert first == DevelopmentConfig().SECRET_KEY
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_users_create_reads_password_from_stdin(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "New.Liaison@Agency.example",
            "--name",
            "New Liaison",
            "--role",
            "liaison",
            "--component",
            "FEMA",
            "--component",
            "I&A",
        ],
        input="a long enough password here\n",
    )
    assert result.exit_code == 0, result.output
    user = user_by_email("new.liaison@agency.example")
    assert user.role == Role.LIAISON
    assert user.display_name == "New Liaison"
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.object_type == "users", AuditEvent.object_id == user.id)
    )
    assert event.actor_label == "cli: users create"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "superuser"], "Unknown role 'superuser'"),
        (["--role", "liaison", "--component", "NOPE"], "Unknown component: NOPE"),
        (["--role", "liaison"], "A liaison must serve at least one component"),
        (["--role", "viewer", "--component", "FEMA"], "Only liaisons serve components"),
    ],
)
def test_users_create_rejects_bad_input(app: Flask, args: list[str], message: str) -> None:
    result = app.test_cli_runner().invoke(
        args=["users", "create", "x@agency.example", "--name", "X", *args],
        input="a long enough password here\n",
    )
    assert result.exit_code != 0
    assert message in result.output


def test_users_create_applies_password_rules(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["users", "create", "x@agency.example", "--name", "X", "--role", "viewer"], input="short\n"
    )
    assert result.exit_code != 0
    assert "Use at least 15 characters." in result.output


def test_users_create_rejects_a_duplicate(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["users", "create", "VIEWER@test.example", "--name", "X", "--role", "viewer"],
        input="a long enough password here\n",
    )
    assert result.exit_code != 0
    assert "already exists" in result.output


def test_demo_accounts_only_in_development(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["demo-users"])
    assert result.exit_code != 0
    assert "only created in development" in result.output


def test_demo_accounts_print_passwords_once(app: Flask) -> None:
    app.config["DEMO_ACCOUNTS"] = True
    try:
        runner = app.test_cli_runner()
        first = runner.invoke(args=["demo-users"])
        assert first.exit_code == 0, first.output
        assert "liaison.ia@rectrack.example" in first.output
        assert "shown only now" in first.output
        second = runner.invoke(args=["demo-users"])
        assert "shown only now" not in second.output
        assert "already exist" in second.output
    finally:
        app.config["DEMO_ACCOUNTS"] = False
    liaison = db.session.scalar(
        sa.select(User)
        .where(User.email == "liaison.ia@rectrack.example")
        .options(selectinload(User.components))
    )
    assert [c.abbreviation for c in liaison.components] == ["I&A"]


def test_start_up_refuses_a_time_zone_that_is_not_one() -> None:
    config = DevelopmentConfig()
    config.APP_TIMEZONE = "America/NewYork"  # the slip a deploy made: every page was a 500
    with pytest.raises(RuntimeError, match=r"^APP_TIMEZONE 'America/NewYork' is not a time zone"):
        create_app(config)


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("a" * 32, "has only 1 different characters: it is not random"),
        ("correct horse battery staple correct horse", "has only 13 different characters"),
        ("x9" * 15, "must be at least 32 characters"),
    ],
)
def test_production_refuses_a_weak_secret(monkeypatch, key: str, why: str) -> None:
    monkeypatch.setenv("SECRET_KEY", key)
    monkeypatch.setenv("DATABASE_URL", "postgresql://app@db.internal/rectrack")
    with pytest.raises(RuntimeError, match=rf"^SECRET_KEY {re.escape(why)}"):
        ProductionConfig().validate()


def test_a_key_is_rotated_without_signing_everyone_out(monkeypatch) -> None:
    new = "Zk2u8-Qw4eRt6yUi0oPa3sDf5gHj7kLx9cVbNm1_ZqWsXeDcRf"
    monkeypatch.setenv("SECRET_KEY", new)
    monkeypatch.setenv("SECRET_KEY_FALLBACKS", f" {SECRET} ")
    monkeypatch.setenv("DATABASE_URL", "postgresql://app@db.internal/rectrack")
    config = ProductionConfig()
    config.validate()
    assert config.SECRET_KEY_FALLBACKS == [SECRET]
    monkeypatch.setenv("SECRET_KEY_FALLBACKS", "a" * 40)
    with pytest.raises(RuntimeError, match=r"^SECRET_KEY_FALLBACKS has only 1 different characters"):
        ProductionConfig().validate()
    # Flask reads the fallbacks: a session signed with the old key is still read
    old, rotated = Flask("old"), Flask("rotated")
    old.secret_key = SECRET
    rotated.secret_key, rotated.config["SECRET_KEY_FALLBACKS"] = new, [SECRET]
    serializer = old.session_interface.get_signing_serializer(old)
    cookie = serializer.dumps({"_user_id": "7:1"})
    assert rotated.session_interface.get_signing_serializer(rotated).loads(cookie) == {"_user_id": "7:1"}
