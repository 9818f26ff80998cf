"""PostgreSQL roles: the app runs as a role that cannot rewrite the audit trail.

The migration role owns every table (it runs `flask db upgrade`). The runtime role, the
one in the running app's DATABASE_URL, gets only SELECT and INSERT on audit_events and
ordinary SELECT/INSERT/UPDATE/DELETE elsewhere (SELECT only on alembic_version). Only a
table's owner may ALTER it (DISABLE TRIGGER), DROP it, or drop or replace its triggers
and their function, so the runtime role can do none of that; UPDATE, DELETE and TRUNCATE
are refused by missing privileges before the triggers are even reached.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_VERIFIER = re.compile(r"SCRAM-SHA-256\$\d+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+")
AUDIT_TABLE = "audit_events"
READ_ONLY_TABLES = ("alembic_version",)


class RoleError(RuntimeError):
    """A role that cannot be set up as asked, with the reason in words."""


@dataclass(frozen=True)
class Setting:
    database: str
    schema: str
    owner: str  # the role that owns audit_events: the migration role


def setting(connection: sa.Connection) -> Setting:
    """Where the schema lives and who owns it, as seen by this connection."""
    if connection.dialect.name != "postgresql":
        raise RoleError("Database roles exist only on PostgreSQL; SQLite has no roles or grants.")
    row = connection.execute(
        sa.text(
            "SELECT current_database(), t.schemaname, t.tableowner FROM pg_tables t "
            "WHERE t.tablename = :table AND t.schemaname = current_schema()"
        ),
        {"table": AUDIT_TABLE},
    ).one_or_none()
    if row is None:
        raise RoleError("There is no audit_events table here yet: run `flask --app app db upgrade` first.")
    return Setting(*row)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def grant_statements(name: str, where: Setting) -> list[str]:
    """The GRANTs and REVOKEs that make `name` a runtime role (idempotent)."""
    role, schema, owner = _ident(name), _ident(where.schema), _ident(where.owner)
    dml = "SELECT, INSERT, UPDATE, DELETE"
    defaults = f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} GRANT"
    statements = [
        f"GRANT CONNECT ON DATABASE {_ident(where.database)} TO {role}",
        f"GRANT USAGE ON SCHEMA {schema} TO {role}",
        f"GRANT {dml} ON ALL TABLES IN SCHEMA {schema} TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
        # Tables and sequences that later migrations create get the same, from their owner.
        f"{defaults} {dml} ON TABLES TO {role}",
        f"{defaults} USAGE, SELECT ON SEQUENCES TO {role}",
        f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {schema}.{AUDIT_TABLE} FROM {role}",
    ]
    statements += [
        f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {schema}.{t} FROM {role}"
        for t in READ_ONLY_TABLES
    ]
    return statements


def _attributes(connection: sa.Connection, name: str) -> sa.Row[Any] | None:
    return connection.execute(
        sa.text(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolreplication, "
            "pg_has_role(:name, :owner, 'MEMBER') AS owner_member "
            "FROM pg_roles WHERE rolname = :name"
        ),
        {"name": name, "owner": setting(connection).owner},
    ).one_or_none()


def create_runtime_role(connection: sa.Connection, name: str, password: str | None) -> list[str]:
    """Create the role (or bring an existing one in line) and grant it exactly the runtime
    privileges. The password goes to the server only as a SCRAM verifier made by libpq,
    never in clear text (which the server log could keep). Returns what was done, in words."""
    if not ROLE_NAME.fullmatch(name):
        raise RoleError(
            "A role name is 1 to 63 lowercase letters, digits or underscores, not starting with a digit."
        )
    where = setting(connection)
    if name == where.owner:
        raise RoleError(
            f"{name} owns the tables (it is the migration role); the runtime role must be another role."
        )
    done = []
    login = "LOGIN" + (f" PASSWORD '{_verifier(connection, name, password)}'" if password else "")
    limits = "NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
    if _attributes(connection, name) is None:
        connection.exec_driver_sql(f"CREATE ROLE {_ident(name)} {login} {limits}")
        done.append(f"created role {name}")
    else:
        connection.exec_driver_sql(f"ALTER ROLE {_ident(name)} {login} {limits}")
        done.append(f"role {name} exists: set to {limits.lower()}" + (", new password" if password else ""))
    attributes = _attributes(connection, name)
    assert attributes is not None
    if attributes.owner_member:
        raise RoleError(
            f"{name} is a member of {where.owner}, the owner of the tables, so it could act as the owner. "
            f"Revoke that membership first (REVOKE {_ident(where.owner)} FROM {_ident(name)})."
        )
    for statement in grant_statements(name, where):
        connection.exec_driver_sql(statement)
    done.append(
        f"granted {name} SELECT and INSERT on audit_events, SELECT on alembic_version and "
        f"SELECT, INSERT, UPDATE, DELETE on the other tables of {where.database}.{where.schema}"
    )
    return done


def _verifier(connection: sa.Connection, name: str, password: str) -> str:
    pgconn = connection.connection.dbapi_connection.pgconn  # type: ignore[union-attr]
    verifier = pgconn.encrypt_password(password.encode(), name.encode(), b"scram-sha-256").decode()
    if not _VERIFIER.fullmatch(verifier):
        raise RoleError("libpq did not return a SCRAM-SHA-256 verifier for the password.")
    return verifier


def can_create_in_schema(connection: sa.Connection, name: str) -> bool:
    """True when the role may create objects in the schema (PostgreSQL before 15 lets
    every role create in `public` unless that was revoked)."""
    return bool(
        connection.execute(
            sa.text("SELECT has_schema_privilege(:name, current_schema(), 'CREATE')"), {"name": name}
        ).scalar()
    )
