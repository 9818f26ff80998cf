"""Commands `flask --app app users create`, `users sso-unlink` and `users dormant`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app.auth import services as accounts
from app.auth import sso_services
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


@users_group.command("sso-unlink")
@click.argument("email")
@click.option("--issuer", default=None, help="Only the identity at this issuer (default: every one).")
def sso_unlink_command(email: str, issuer: str | None) -> None:
    """Forget an account's single sign-on identities: its next SSO sign-in matches by
    verified e-mail again (README, "Single sign-on")."""
    actor = as_system("users sso-unlink")
    user = accounts.user_by_email(db.session, email)
    if user is None:
        raise click.ClickException(f"No account has the e-mail address {accounts.normalize_email(email)}.")
    removed = sso_services.unlink(db.session, actor, user, issuer=issuer)
    db.session.commit()
    click.echo(f"Removed {removed} single sign-on identit{'y' if removed == 1 else 'ies'} of {user.email}.")


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
