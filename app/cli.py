"""Command-line tools: `flask --app app seed | demo-users | users create | import | pdf | db-roles`."""

from __future__ import annotations

import sys
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from app import audit, wording
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
@click.option("--components-only", is_flag=True, help="Load only the agencies and components (no reports).")
@with_appcontext
def seed_command(components_only: bool) -> None:
    """Load the seed reports (idempotent: running it twice changes nothing)."""
    from app.seed.services import load_seed

    actor = _as_system("seed")
    result = load_seed(db.session, actor, components_only=components_only)
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
    actor = _as_system("import")
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
    from datetime import date
    from pathlib import Path

    import sqlalchemy as sa

    from app.auth.policy import Reader
    from app.models import Component, Role
    from app.pdf import services
    from app.pdf.data import TooManyRecommendations
    from app.pdf.engine import PdfError
    from app.web import today

    components = tuple(
        db.session.scalars(sa.select(Component).where(Component.abbreviation.in_(as_components)))
    )
    if len(components) != len(set(as_components)):
        raise click.ClickException("Unknown component in --as-component.")
    if as_role == "liaison" and not components:
        raise click.ClickException("--as-role liaison needs --as-component.")
    now = today()
    try:
        day = date.fromisoformat(as_of) if as_of else now
    except ValueError:
        raise click.ClickException("--as-of must be a date written YYYY-MM-DD.") from None
    if problem := services.as_of_problem(day, now):
        raise click.ClickException(f"--as-of: {problem}")
    config = current_app.config
    settings = services.Settings(
        today=now,
        update_interval_days=config["UPDATE_INTERVAL_DAYS"],
        max_recommendations=config["PDF_MAX_RECOMMENDATIONS"],
        static_root=Path(current_app.static_folder or "static"),
        timeout_seconds=config["PDF_TIMEOUT_SECONDS"],
    )
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

    from app.lifecycle.deadlines import CLOCK_FILTERS
    from app.models import Component, Report
    from app.recommendations.queries import STATUS_FILTERS, RecFilters

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


db_roles_group = AppGroup(
    "db-roles", help="PostgreSQL roles (run as the migration role, which owns the tables)."
)


@db_roles_group.command("create-runtime")
@click.argument("name")
@click.option(
    "--no-password", is_flag=True, help="Set no password (the role signs in by certificate or peer)."
)
@click.option("--print-sql", is_flag=True, help="Print the GRANTs and REVOKEs only; change nothing.")
def create_runtime_role_command(name: str, no_password: bool, print_sql: bool) -> None:
    """Create the role the app should run as: it can read and write the data but only
    add to the audit trail, never change, empty, alter or drop it. The password is read
    from standard input. Safe to run again (after a migration, say)."""
    from app import db_roles

    connection = db.session.connection()
    try:
        if print_sql:
            for statement in db_roles.grant_statements(name, db_roles.setting(connection)):
                click.echo(statement + ";")
            return
        password = None if no_password else _read_password()
        if not no_password and not password:
            raise click.ClickException("Give a password on standard input, or --no-password.")
        done = db_roles.create_runtime_role(connection, name, password)
    except db_roles.RoleError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    may_create = db_roles.can_create_in_schema(connection, name)
    audit.record(db.session, "db-roles create-runtime", actor=_as_system("db-roles"), changes={"role": name})
    db.session.commit()
    for line in done:
        click.echo(line[0].upper() + line[1:] + ".")
    if may_create:
        click.echo(
            f"Warning: {name} may create objects in the schema (every role may, before PostgreSQL 15). "
            "Consider: REVOKE CREATE ON SCHEMA public FROM PUBLIC;",
            err=True,
        )
    click.echo(f"Run the app with DATABASE_URL naming {name}; keep the owner's URL for `flask db upgrade`.")


def register(app: Flask) -> None:
    for command in (
        seed_command,
        demo_users_command,
        users_group,
        import_command,
        pdf_group,
        demo_data_command,
        db_roles_group,
    ):
        app.cli.add_command(command)


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
    from app.web import today

    actor = _as_system("demo-data")
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
