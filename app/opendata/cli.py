"""Command `flask --app app opendata build`: the daily open-data files, for cron where
no Celery beat runs (beat runs the same build, `rectrack.opendata_build`)."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app import clock, storage, wording
from app.cli_support import as_system
from app.database import writing
from app.extensions import db
from app.opendata import services

opendata_group = AppGroup("opendata", help="Open data: the bulk files of public recommendations.")


@opendata_group.command("build")
def build_command() -> None:
    """Build the CSV and JSON files of public recommendations as of today, replacing the
    published set."""
    as_system("opendata build")
    with writing():
        built = services.build(
            db.session, storage.blob_store(current_app.config), now=clock.now(), today=clock.today()
        )
        db.session.commit()
    click.echo(
        f"Open data as of {built.as_of.isoformat()}: {wording.count(built.rows, 'public recommendation')}, "
        f"{wording.count(built.withheld, 'restricted recommendation')} left out."
    )


def register(app: Flask) -> None:
    """Add this package's commands to `flask --app app`."""
    app.cli.add_command(opendata_group)
