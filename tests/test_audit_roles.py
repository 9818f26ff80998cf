"""The audit trail in the database itself: TRUNCATE is refused, even to the owner, and the
runtime role (`flask db-roles create-runtime`) may add events but never change, empty,
alter or drop them. PostgreSQL only, except the command's message on SQLite."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from flask import Flask

from app import db_roles
from app.extensions import db
from app.models import AuditEvent
from tests.conftest import login

ROLE = f"rectrack_runtime_test_{os.getpid()}"  # roles are shared by the whole cluster


@pytest.fixture
def postgresql() -> None:
    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("roles, grants and TRUNCATE are PostgreSQL's")


def _refused(statement: str, message: str) -> None:
    savepoint = db.session.begin_nested()
    with pytest.raises(sa.exc.DatabaseError, match=message):
        db.session.execute(sa.text(statement))
    savepoint.rollback()


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) or 0


@pytest.mark.usefixtures("postgresql")
@pytest.mark.parametrize("statement", ["TRUNCATE audit_events", "TRUNCATE users CASCADE"])
def test_truncate_is_refused_even_to_the_owner(statement: str) -> None:
    owner = db.session.execute(
        sa.text("SELECT tableowner FROM pg_tables WHERE tablename = 'audit_events'")
    ).scalar()
    assert owner == db.session.execute(sa.text("SELECT current_user")).scalar()
    before = _count()
    assert before > 0
    _refused(statement, "audit_events is append-only")
    assert _count() == before


OWNER_ONLY = [
    "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update",
    "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_truncate",
    "ALTER TABLE audit_events DISABLE TRIGGER ALL",
    "DROP TRIGGER audit_events_no_truncate ON audit_events",
    "DROP TABLE audit_events",
    "DROP TABLE audit_events CASCADE",
    "DROP FUNCTION audit_events_append_only() CASCADE",
    "ALTER FUNCTION audit_events_append_only() RENAME TO disarmed",
    "ALTER TABLE audit_events RENAME TO audit_events_old",
    "ALTER TABLE audit_events OWNER TO CURRENT_USER",
]
# Replacing the trigger's function needs its ownership too; on PostgreSQL 15 the role
# cannot even create in the schema, which is refused first.
REPLACE_FUNCTION = (
    "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$ "
    "BEGIN RETURN NULL; END; $$ LANGUAGE plpgsql"
)


def _become_runtime_role() -> None:
    connection = db.session.connection()
    db_roles.create_runtime_role(connection, ROLE, "a password used by the tests only")
    connection.exec_driver_sql(f'SET ROLE "{ROLE}"')
    # In the test harness this commit is a RELEASE SAVEPOINT: SET ROLE now lasts until the
    # test's own transaction is rolled back (which also drops the role again).
    db.session.commit()
    assert db.session.execute(sa.text("SELECT current_user")).scalar() == ROLE


@pytest.mark.usefixtures("postgresql")
def test_runtime_role_adds_to_the_audit_trail_and_can_do_nothing_else_to_it() -> None:
    _become_runtime_role()
    before = _count()
    db.session.execute(
        sa.text(
            "INSERT INTO audit_events (occurred_at, actor_label, actor_role, action, changes, outcome) "
            "VALUES (now(), 'tests', 'system', 'probe', '{}', 'success')"
        )
    )
    assert _count() == before + 1
    for statement in (
        "UPDATE audit_events SET action = 'tampered'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "TRUNCATE users CASCADE",
    ):
        _refused(statement, "permission denied")
    for statement in OWNER_ONLY:
        _refused(statement, "must be owner")
    _refused(REPLACE_FUNCTION, "must be owner|permission denied for schema")
    _refused("UPDATE alembic_version SET version_num = 'x'", "permission denied")
    _refused("CREATE ROLE rectrack_escalation_probe", "permission denied to create role")
    assert _count() == before + 1


@pytest.mark.usefixtures("postgresql")
def test_the_app_runs_as_the_runtime_role(app: Flask) -> None:
    _become_runtime_role()
    before = _count()
    client = app.test_client()
    login(client, "oig")
    response = client.post(
        "/reports/new",
        data={
            "number": "OIG-99-42",
            "issuing_office": "DHS OIG",
            "title": "Written by the runtime role",
            "issued_on": "2020-02-28",
            "sensitivity": "public",
        },
    )
    assert response.status_code == 302
    assert client.get("/search?q=runtime").status_code == 200
    assert client.get("/recommendations/export.csv").status_code == 200
    login(client, "viewer")
    assert client.get("/admin/audit").status_code == 403
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.id > 0).order_by(AuditEvent.id.desc()).limit(10)
    ).all()
    assert {"create", "export", "request"} <= set(actions)
    assert _count() > before
    assert db.session.execute(sa.text("SELECT current_user")).scalar() == ROLE


@pytest.mark.usefixtures("postgresql")
def test_the_command_creates_the_role_with_the_grants(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["db-roles", "create-runtime", ROLE], input="a password used by the tests only\n"
    )
    assert result.exit_code == 0, result.output
    assert f"Created role {ROLE}." in result.output

    def may(table: str, privilege: str) -> bool:
        return bool(
            db.session.execute(
                sa.text("SELECT has_table_privilege(:role, :table, :privilege)"),
                {"role": ROLE, "table": table, "privilege": privilege},
            ).scalar()
        )

    assert [may("audit_events", p) for p in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")] == [
        True,
        True,
        False,
        False,
        False,
    ]
    assert [may("reports", p) for p in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")] == [
        True,
        True,
        True,
        True,
        False,
    ]
    assert [may("alembic_version", p) for p in ("SELECT", "INSERT", "UPDATE")] == [True, False, False]
    attributes = db.session.execute(
        sa.text("SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = :r"),
        {"r": ROLE},
    ).one()
    assert tuple(attributes) == (True, False, False, False)
    password = db.session.execute(
        sa.text("SELECT rolpassword FROM pg_authid WHERE rolname = :r"), {"r": ROLE}
    )
    assert password.scalar().startswith("SCRAM-SHA-256$")

    again = app.test_cli_runner().invoke(args=["db-roles", "create-runtime", ROLE, "--no-password"])
    assert again.exit_code == 0, again.output
    assert f"Role {ROLE} exists" in again.output


@pytest.mark.usefixtures("postgresql")
def test_the_command_refuses_the_owner_and_bad_names(app: Flask) -> None:
    owner = db.session.execute(sa.text("SELECT current_user")).scalar()
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["db-roles", "create-runtime", owner, "--no-password"])
    assert refused.exit_code != 0
    assert "owns the tables" in refused.output
    bad = runner.invoke(
        args=["db-roles", "create-runtime", 'x"; DROP TABLE audit_events; --', "--no-password"]
    )
    assert bad.exit_code != 0
    assert "lowercase letters" in bad.output
    printed = runner.invoke(args=["db-roles", "create-runtime", ROLE, "--print-sql"])
    assert printed.exit_code == 0, printed.output
    assert (
        f'REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON "public".audit_events FROM "{ROLE}";'
        in (printed.output)
    )
    assert (
        db.session.execute(sa.text("SELECT count(*) FROM pg_roles WHERE rolname = :r"), {"r": ROLE}).scalar()
        == 0
    )


def test_the_command_says_sqlite_has_no_roles(app: Flask) -> None:
    if db.session.get_bind().dialect.name != "sqlite":
        pytest.skip("the SQLite message")
    result = app.test_cli_runner().invoke(
        args=["db-roles", "create-runtime", "rectrack_app", "--no-password"]
    )
    assert result.exit_code != 0
    assert "Database roles exist only on PostgreSQL" in result.output
