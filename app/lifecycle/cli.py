"""Command `flask --app app deadlines recompute`."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app import audit, wording
from app.cache import bump_version
from app.cli_support import as_system
from app.extensions import db

deadlines_group = AppGroup("deadlines", help="The due dates stored on recommendations and addressees.")


@deadlines_group.command("recompute")
def recompute_command() -> None:
    """Recompute every stored due date with the current settings (run it after changing
    UPDATE_INTERVAL_DAYS) and print how many changed."""
    from app.lifecycle.deadlines import DeadlinePolicy
    from app.lifecycle.due_dates import refresh
    from app.lifecycle.periods import rebuild_all

    actor = as_system("deadlines recompute")
    policy = DeadlinePolicy.from_config(current_app.config)
    connection = db.session.connection()
    recs, parts = refresh(connection, policy)
    periods = rebuild_all(connection, policy)  # the due dates of past days, from history
    bump_version(connection)
    audit.record(
        db.session,
        "deadlines recompute",
        actor=actor,
        changes={
            "update_interval_days": policy.update_interval_days,
            "recommendations": len(recs),
            "addressees": len(parts),
            "state_periods": periods,
        },
    )
    db.session.commit()
    click.echo(
        f"Due dates changed on {wording.count(len(recs), 'recommendation')} and "
        f"{wording.count(len(parts), 'addressee')} "
        f"(update interval {wording.count(policy.update_interval_days, 'day')}); "
        f"{wording.count(periods, 'state period')} rebuilt from history."
    )


def register(app: Flask) -> None:
    """Add this package's commands to `flask --app app`."""
    app.cli.add_command(deadlines_group)
