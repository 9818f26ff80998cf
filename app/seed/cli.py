"""Commands `flask --app app seed` and `demo-users`."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app.cli_support import as_system
from app.extensions import db


@click.command("seed")
@click.option("--components-only", is_flag=True, help="Load only the agencies and components (no reports).")
@with_appcontext
def seed_command(components_only: bool) -> None:
    """Load the real DHS OIG reports and components (idempotent: running it twice changes nothing)."""
    import sqlalchemy as sa

    from app import clock, wording
    from app.models import Component, Recommendation, Report
    from app.seed.services import load_seed

    actor = as_system("seed")
    result = load_seed(db.session, actor, today=clock.today(), components_only=components_only)
    db.session.commit()
    click.echo(f"Seed data: {result.summary()}.")
    counts = [
        wording.count(db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0, noun)
        for model, noun in ((Report, "report"), (Recommendation, "recommendation"), (Component, "component"))
    ]
    click.echo(f"RecTrack now holds {', '.join(counts)}.")


@click.command("demo-users")
@with_appcontext
@click.option("--reset", is_flag=True, help="Give existing demo accounts new passwords.")
def demo_users_command(reset: bool) -> None:
    """Create one demo account per role (development only) and print new passwords once."""
    from app.seed.demo import ensure_demo_accounts

    if not current_app.config.get("DEMO_ACCOUNTS"):
        raise click.ClickException("Demo accounts are only created in development (APP_ENV=development).")
    as_system("demo-users")
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


def register(app: Flask) -> None:
    """Add this package's commands to `flask --app app`."""
    app.cli.add_command(seed_command)
    app.cli.add_command(demo_users_command)
