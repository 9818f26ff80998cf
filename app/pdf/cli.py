"""Commands `flask --app app pdf report | component | portfolio` (for scheduled publishing)."""

from __future__ import annotations

from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup

from app.extensions import db

pdf_group = AppGroup("pdf", help="Make a PDF status report (for scheduled publishing).")


def _pdf_options(command: Any) -> Any:
    command = click.option(
        "--output", "-o", required=True, type=click.Path(dir_okay=False), help="PDF file to write."
    )(command)
    command = click.option(
        "--as-component", "as_components", multiple=True, help="Component(s) served, with --as-role liaison."
    )(command)
    command = click.option(
        "--as-role",
        default="viewer",
        show_default=True,
        type=click.Choice(["viewer", "liaison", "oig", "admin"]),
        help="Whose visibility to apply.",
    )(command)
    return click.option("--as-of", "as_of", default=None, help="YYYY-MM-DD; today when omitted.")(command)


def _write_pdf(
    kind: str, as_of: str | None, as_role: str, as_components: tuple[str, ...], output: str, **target: Any
) -> None:
    from pathlib import Path

    import sqlalchemy as sa

    from app.auth.policy import Reader
    from app.filters import AsOfError, parse_as_of
    from app.models import Component, Role
    from app.pdf import services
    from app.pdf.data import TooManyRecommendations
    from app.pdf.engine import PdfError
    from app.pdf.options import settings as pdf_settings

    components = tuple(
        db.session.scalars(sa.select(Component).where(Component.abbreviation.in_(as_components)))
    )
    if len(components) != len(set(as_components)):
        raise click.ClickException("Unknown component in --as-component.")
    if as_role == "liaison" and not components:
        raise click.ClickException("--as-role liaison needs --as-component.")
    settings = pdf_settings(cached=False)
    try:
        day = parse_as_of(as_of, settings.today)
    except AsOfError as exc:
        raise click.ClickException(f"--as-of: {exc}") from None
    reader = Reader(Role(as_role), components)
    try:
        result = services.make_pdf(db.session, reader, services.PdfRequest(kind, day, **target), settings)
    except (TooManyRecommendations, PdfError) as exc:
        raise click.ClickException(str(exc)) from None
    Path(output).write_bytes(result.pdf)
    click.echo(f"Wrote {output} ({len(result.pdf):,} bytes), as of {day}, as {Role(as_role).label}.")


@pdf_group.command("report")
@click.argument("number")
@_pdf_options
def pdf_report_command(number: str, **options: Any) -> None:
    """Status of one OIG report, by its number."""
    import sqlalchemy as sa
    from sqlalchemy.orm import selectinload

    from app.models import Recommendation, Report

    report = db.session.scalar(
        sa.select(Report)
        .where(Report.number == number.upper())
        .options(
            selectinload(Report.components),
            selectinload(Report.recommendations).selectinload(Recommendation.addressees),
        )
    )
    if report is None:
        raise click.ClickException(f"No report numbered {number}.")
    _write_pdf("report", report=report, **options)


@pdf_group.command("component")
@click.argument("abbreviation")
@_pdf_options
def pdf_component_command(abbreviation: str, **options: Any) -> None:
    """Status of every recommendation addressed to one component."""
    import sqlalchemy as sa

    from app.models import Component

    component = db.session.scalar(sa.select(Component).where(Component.abbreviation == abbreviation))
    if component is None:
        raise click.ClickException(f"No component {abbreviation}.")
    _write_pdf("component", component=component, **options)


@pdf_group.command("portfolio")
@click.option("--status", default="", help="open, closed or a status value such as open_resolved.")
@click.option("--component", "component_abbr", default="", help="Component abbreviation.")
@click.option("--report", "report_number", default="", help="Report number.")
@click.option("--year", type=int, default=None, help="Year issued.")
@click.option("--significant", type=click.Choice(["yes", "no"]), default=None)
@click.option("--overdue", default="", help="A deadline filter such as target_overdue or update_due.")
@_pdf_options
def pdf_portfolio_command(
    status: str,
    component_abbr: str,
    report_number: str,
    year: int | None,
    significant: str | None,
    overdue: str,
    **options: Any,
) -> None:
    """Every recommendation matching the filters, with an executive summary."""
    import sqlalchemy as sa

    from app.filters import STATUS_FILTERS, RecFilters
    from app.lifecycle.deadlines import CLOCK_FILTERS
    from app.models import Component, Report

    if status and status not in STATUS_FILTERS:
        raise click.ClickException(f"--status must be one of {', '.join(STATUS_FILTERS)}.")
    if overdue and overdue not in CLOCK_FILTERS:
        raise click.ClickException(f"--overdue must be one of {', '.join(CLOCK_FILTERS)}.")
    component_id = report_id = None
    if component_abbr:
        component_id = db.session.scalar(
            sa.select(Component.id).where(Component.abbreviation == component_abbr)
        )
        if component_id is None:
            raise click.ClickException(f"No component {component_abbr}.")
    if report_number:
        report_id = db.session.scalar(sa.select(Report.id).where(Report.number == report_number.upper()))
        if report_id is None:
            raise click.ClickException(f"No report numbered {report_number}.")
    filters = RecFilters(
        status=status,
        component_id=component_id,
        report_id=report_id,
        year=year,
        significant={"yes": True, "no": False}.get(significant or ""),
        clock=overdue,
    )
    _write_pdf("portfolio", filters=filters, **options)


def register(app: Flask) -> None:
    """Add this package's commands to `flask --app app`."""
    app.cli.add_command(pdf_group)
