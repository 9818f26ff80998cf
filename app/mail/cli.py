"""Command `flask --app app notify run [--today YYYY-MM-DD]`: queue the day's digests
and send what is due (for cron, and for tests that move the clock)."""

from __future__ import annotations

from datetime import date

import click
from flask import Flask
from flask.cli import AppGroup

from app import clock, wording
from app.cli_support import as_system
from app.database import writing
from app.extensions import db
from app.follows import summary as follow_summary
from app.mail import delivery, notices, outbox

notify_group = AppGroup("notify", help="E-mail digests and the outbox.")


@notify_group.command("run")
@click.option(
    "--today",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The OIG's date to plan digests for (default: today in APP_TIMEZONE).",
)
@click.option("--no-send", is_flag=True, help="Queue the digests only; a worker sends them.")
def run_command(day: object, no_send: bool) -> None:
    """Queue the day's digests (once per person per day, however often this runs), the
    followers' weekly summaries (on Mondays, or the first run after a missed Monday; once
    per person per week), and the notices of recent events (once per person per event),
    and send every due message in the outbox."""
    today: date = day.date() if day is not None else clock.today()  # type: ignore[attr-defined]
    # Planning reads everything due, then writes the outbox: on SQLite the transaction takes
    # the write lock with its first read, or a web request writing meanwhile fails it.
    with writing():
        as_system("notify run")
        planned = outbox.plan_digests(db.session, today)
        summaries = follow_summary.plan_summaries(db.session, today)
        noticed = notices.plan_notices(db.session)
        db.session.commit()
    click.echo(
        f"{today.isoformat()}: {wording.count(planned.queued, 'digest')} queued, "
        f"{planned.already} already queued, {planned.nothing_due} with nothing due; "
        f"{wording.count(noticed.queued, 'event notice')} queued; "
        f"{wording.count(summaries.queued, 'follower summary', 'follower summaries')} queued, "
        f"{summaries.already} already queued."
    )
    if no_send:
        return
    done = delivery.deliver_due(db.session)
    click.echo(f"Sent {done.sent}; to retry later {done.retry_later}; failed {done.failed}.")


def register(app: Flask) -> None:
    """Add this package's commands to `flask --app app`."""
    app.cli.add_command(notify_group)
