"""Command `flask --app app import`."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app import wording
from app.cli_support import as_system
from app.extensions import db


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check and report what would change; save nothing.")
@with_appcontext
def import_command(path: str, dry_run: bool) -> None:
    """Import reports and recommendations from a CSV or XLSX file (all or nothing)."""
    from pathlib import Path

    from app.imports.reader import FileProblem, read_sheet
    from app.imports.services import count_reports, run_import
    from app.web import today

    data = Path(path).read_bytes()
    try:
        sheet = read_sheet(data)
    except FileProblem as exc:
        raise click.ClickException(str(exc)) from None
    actor = as_system("import")
    with (
        current_app.test_request_context(),
        click.progressbar(
            length=count_reports(sheet), label="Checking" if dry_run else "Importing", file=sys.stderr
        ) as bar,
    ):
        result = run_import(
            db.session,
            actor,
            sheet,
            filename=Path(path).name,
            data=data,
            commit=not dry_run,
            today=today(),
            progress=bar.update,
        )
    if result.problems:
        db.session.rollback()
        for problem in result.problems:
            where = f"row {problem.row}" + (f", {problem.column}" if problem.column else "")
            click.echo(f"{where}: {problem.message}", err=True)
        raise click.ClickException(f"{len(result.problems)} problem(s); nothing was imported.")
    if dry_run:
        db.session.rollback()
        click.echo(f"Dry run, nothing saved. Would import: {result.summary()}.")
    else:
        db.session.commit()
        click.echo(f"Imported {wording.count(result.rows, 'row')}: {result.summary()}.")


def register(app: Flask) -> None:
    """Add this package's commands to `flask --app app`."""
    app.cli.add_command(import_command)
