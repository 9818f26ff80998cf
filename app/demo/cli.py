"""Command `flask --app app demo-data`."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app import audit, wording
from app.cli_support import as_system
from app.extensions import db


@click.command("demo-data")
@click.option("--reports", type=click.IntRange(1), default=10000, show_default=True)
@click.option("--recommendations", type=click.IntRange(0), default=100000, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True, help="The same seed gives the same data.")
@click.option("--allow-mixed", is_flag=True, help="Add synthetic data to a database that holds real reports.")
@with_appcontext
def demo_data_command(reports: int, recommendations: int, seed: int, allow_mixed: bool) -> None:
    """Fill the database with clearly synthetic reports and recommendations (DEMO-00001...)."""
    import time

    from app.demo.generator import DemoDataError, generate
    from app.lifecycle.deadlines import DeadlinePolicy
    from app.web import today

    actor = as_system("demo-data")
    started = time.perf_counter()
    with click.progressbar(length=reports, label="Synthetic reports", file=sys.stderr) as bar:
        try:
            counts = generate(
                db.session.connection(),
                reports=reports,
                recommendations=recommendations,
                seed=seed,
                today=today(),
                allow_mixed=allow_mixed,
                progress=bar.update,
                policy=DeadlinePolicy.from_config(current_app.config),
            )
        except DemoDataError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from None
    audit.record(db.session, "demo-data", actor=actor, changes={"seed": seed, **vars(counts)})
    db.session.commit()
    click.echo(
        f"Wrote {wording.count(counts.reports, 'report')}, "
        f"{wording.count(counts.recommendations, 'recommendation')}, "
        f"{wording.count(counts.addressees, 'addressee')} and "
        f"{wording.count(counts.events, 'history event')} "
        f"in {time.perf_counter() - started:.1f} s."
    )


def register(app: Flask) -> None:
    """Add this package's commands to `flask --app app`."""
    app.cli.add_command(demo_data_command)
