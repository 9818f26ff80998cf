"""Command `flask --app app storage gc`."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app import audit, wording
from app.cli_support import as_system
from app.extensions import db
from app.storage import blob_store, collect_garbage, staged_ttl

storage_group = AppGroup("storage", help="Stored bytes: documents and import uploads (README, Storage).")


@storage_group.command("gc")
def gc_command() -> None:
    """Remove import uploads left waiting STAGED_IMPORT_TTL_HOURS (the dry run expired)
    and the stored bytes nothing refers to any more; print how many. For cron, where no
    Celery beat runs (beat runs the same sweep, `rectrack.sweep_storage`)."""
    actor = as_system("storage gc")
    config = current_app.config
    removed = collect_garbage(db.session, blob_store(config), staged_ttl=staged_ttl(config))
    audit.record(db.session, "storage gc", actor=actor, changes={"blobs_removed": removed})
    db.session.commit()
    click.echo(f"Removed {wording.count(removed, 'stored file')} nothing refers to.")


def register(app: Flask) -> None:
    """Add this package's commands to `flask --app app`."""
    app.cli.add_command(storage_group)
