"""Commands `flask --app app users create` and `users dormant`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app.auth import services as accounts
from app.cli_support import as_system, read_password
from app.extensions import db

users_group = AppGroup("users", help="Manage accounts.")


@users_group.command("create")
@click.argument("email")
@click.option("--name", required=True, help="Display name.")
@click.option("--role", required=True, help="admin, oig, liaison or viewer.")
@click.option("--component", "components", multiple=True, help="Component served (liaisons); repeatable.")
def create_user_command(email: str, name: str, role: str, components: tuple[str, ...]) -> None:
    """Create an account; the password is read from standard input."""
    password = read_password()
    as_system("users create")
    try:
        user = accounts.create_user_from_cli(
            db.session,
            email=email,
            display_name=name,
            role=role,
            component_abbreviations=components,
            password=password,
        )
    except accounts.AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"Created {user.role.label} account {user.email}.")


@users_group.command("dormant")
def dormant_command() -> None:
    """Warn and disable dormant accounts now, as the scheduler does daily (README,
    "Dormant accounts"), and send the warnings."""
    from app.auth.tasks import sweep_dormant

    swept = sweep_dormant()
    click.echo(f"Warned {swept.warned} and disabled {swept.disabled} dormant accounts.")


def register(app: Flask) -> None:
    """Add this package's commands to `flask --app app`."""
    app.cli.add_command(users_group)
