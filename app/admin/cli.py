"""Command `flask --app app db-roles create-runtime`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app import audit
from app.cli_support import as_system, read_password
from app.extensions import db

db_roles_group = AppGroup(
    "db-roles", help="PostgreSQL roles (run as the migration role, which owns the tables)."
)


@db_roles_group.command("create-runtime")
@click.argument("name")
@click.option(
    "--no-password", is_flag=True, help="Set no password (the role signs in by certificate or peer)."
)
@click.option("--print-sql", is_flag=True, help="Print the GRANTs and REVOKEs only; change nothing.")
def create_runtime_role_command(name: str, no_password: bool, print_sql: bool) -> None:
    """Create the role the app should run as: it can read and write the data but only
    add to the audit trail, never change, empty, alter or drop it. The password is read
    from standard input. Safe to run again (after a migration, say)."""
    from app import db_roles

    connection = db.session.connection()
    try:
        if print_sql:
            for statement in db_roles.grant_statements(name, db_roles.setting(connection)):
                click.echo(statement + ";")
            return
        password = None if no_password else read_password()
        if not no_password and not password:
            raise click.ClickException("Give a password on standard input, or --no-password.")
        done = db_roles.create_runtime_role(connection, name, password)
    except db_roles.RoleError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    may_create = db_roles.can_create_in_schema(connection, name)
    audit.record(db.session, "db-roles create-runtime", actor=as_system("db-roles"), changes={"role": name})
    db.session.commit()
    for line in done:
        click.echo(line[0].upper() + line[1:] + ".")
    if may_create:
        click.echo(
            f"Warning: {name} may create objects in the schema (every role may, before PostgreSQL 15). "
            "Consider: REVOKE CREATE ON SCHEMA public FROM PUBLIC;",
            err=True,
        )
    click.echo(f"Run the app with DATABASE_URL naming {name}; keep the owner's URL for `flask db upgrade`.")


def register(app: Flask) -> None:
    """Add this package's commands to `flask --app app`."""
    app.cli.add_command(db_roles_group)
