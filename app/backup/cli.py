"""Commands `flask --app app backup create OUT` and `flask --app app backup verify DUMP`
(docs/backups.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.engine import make_url

from app import backup
from app.extensions import db

backup_group = AppGroup(
    "backup", help="Backups of the database and checks that they restore (docs/backups.md)."
)


@backup_group.command("create")
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def create_command(out: Path) -> None:
    """Back the app's database up into OUT: pg_dump's custom format on PostgreSQL (restore
    it with pg_restore), a copy made with SQLite's online backup API on SQLite."""
    url = db.engine.url
    try:
        if url.get_backend_name() == "postgresql":
            size = backup.create_dump(url, out)
            how = "pg_dump, custom format"
        elif url.get_backend_name() == "sqlite":
            size = backup.copy_sqlite(url, out)
            how = "SQLite online backup"
        else:
            raise backup.BackupError(f"No backup method for {url.get_backend_name()} databases.")
    except backup.BackupError as exc:
        click.echo(f"Backup failed: {exc}", err=True)
        sys.exit(1)
    click.echo(f"Wrote {out} ({size:,} bytes, {how}).")


@backup_group.command("verify")
@click.argument("dump", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--scratch", help="Name of the scratch database to restore into (default: rectrack_verify_<random>)."
)
@click.option("--keep", is_flag=True, help="Keep the scratch database afterwards (to look at it).")
@click.option(
    "--against-live",
    is_flag=True,
    help="Also compare row counts and document hashes with the app's database (expect "
    "differences for whatever was written after the dump).",
)
@click.option(
    "--server",
    help="A PostgreSQL URL whose server gets the scratch database (default: the app's "
    "DATABASE_URL; the user needs CREATEDB).",
)
@click.option(
    "--files",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="With STORAGE_BACKEND=filesystem: the copied ATTACHMENT_DIR to check the documents in "
    "(default: ATTACHMENT_DIR).",
)
def verify_command(
    dump: Path, scratch: str | None, keep: bool, against_live: bool, server: str | None, files: Path | None
) -> None:
    """Restore DUMP (pg_dump custom, tar or directory format, or plain SQL) into a scratch
    database and check it: the migration revision, every table readable, every stored
    document's bytes against its SHA-256, every reference to a document. Exits 1 on any
    problem."""
    live = db.engine.url
    target = make_url(server) if server else live
    if target.get_backend_name() != "postgresql":
        click.echo(
            "backup verify needs PostgreSQL. A SQLite backup is a database file: check it with "
            "`sqlite3 FILE 'PRAGMA integrity_check'` and open it with DATABASE_URL=sqlite:///FILE.",
            err=True,
        )
        sys.exit(2)
    if files is None and current_app.config.get("STORAGE_BACKEND") == "filesystem":
        files = Path(current_app.config["ATTACHMENT_DIR"])
    found = backup.verify(
        dump, target, scratch=scratch, keep=keep, live=live if against_live else None, files=files
    )
    for line in found.lines:
        click.echo(line)
    if found.ok:
        click.echo("OK: the backup restores and its documents are intact.")
        return
    click.echo(f"FAILED: {len(found.problems)} problem(s).", err=True)
    sys.exit(1)


def register(app: Flask) -> None:
    """Add this package's commands to `flask --app app`."""
    app.cli.add_command(backup_group)
