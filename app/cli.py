"""Command-line tools: `flask --app app seed | demo-users | users create`."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from app import audit
from app.auth import services as accounts
from app.extensions import db


def _as_system(label: str) -> audit.AuditActor:
    actor = audit.AuditActor.system(f"cli: {label}")
    audit.set_actor(db.session, actor)
    return actor


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@click.command("seed")
@with_appcontext
def seed_command() -> None:
    """Load the seed reports (idempotent: running it twice changes nothing)."""
    from app.seed.services import load_seed

    actor = _as_system("seed")
    result = load_seed(db.session, actor)
    db.session.commit()
    click.echo(f"Seed data: {result.summary()}.")


@click.command("demo-users")
@with_appcontext
@click.option("--reset", is_flag=True, help="Give existing demo accounts new passwords.")
def demo_users_command(reset: bool) -> None:
    """Create one demo account per role (development only) and print new passwords once."""
    from app.seed.demo import ensure_demo_accounts

    if not current_app.config.get("DEMO_ACCOUNTS"):
        raise click.ClickException("Demo accounts are only created in development (APP_ENV=development).")
    _as_system("demo-users")
    results = ensure_demo_accounts(db.session, reset=reset)
    db.session.commit()
    new = [(demo, pw) for demo, pw in results if pw]
    if new:
        click.echo("Demo accounts (these passwords are shown only now):")
        for demo, password in new:
            click.echo(f"  {demo.role.label:34} {demo.email:30} {password}")
    if len(new) < len(results):
        click.echo(
            "Demo accounts already exist; their passwords are not shown again. "
            "New ones: flask --app app demo-users --reset"
        )


users_group = AppGroup("users", help="Manage accounts.")


@users_group.command("create")
@click.argument("email")
@click.option("--name", required=True, help="Display name.")
@click.option("--role", required=True, help="admin, oig, liaison or viewer.")
@click.option("--component", "components", multiple=True, help="Component served (liaisons); repeatable.")
def create_user_command(email: str, name: str, role: str, components: tuple[str, ...]) -> None:
    """Create an account; the password is read from standard input."""
    password = _read_password()
    _as_system("users create")
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


def register(app: Flask) -> None:
    for command in (seed_command, demo_users_command, users_group):
        app.cli.add_command(command)
