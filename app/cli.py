"""Command-line tools: `flask --app app seed | demo-users | users create | import | pdf |
demo-data | db-roles | deadlines | storage gc |
backup create | backup verify | opendata build`. Each command lives in its feature package;
this module only wires them."""

from __future__ import annotations

from flask import Flask

from app.admin import cli as admin_cli
from app.auth import cli as auth_cli
from app.backup import cli as backup_cli
from app.demo import cli as demo_cli
from app.imports import cli as imports_cli
from app.lifecycle import cli as lifecycle_cli
from app.mail import cli as mail_cli
from app.opendata import cli as opendata_cli
from app.pdf import cli as pdf_cli
from app.seed import cli as seed_cli
from app.storage import cli as storage_cli


def register(app: Flask) -> None:
    """Add every feature package's commands to `flask --app app`."""
    for feature in (
        seed_cli,
        auth_cli,
        imports_cli,
        pdf_cli,
        demo_cli,
        admin_cli,
        lifecycle_cli,
        mail_cli,
        storage_cli,
        backup_cli,
        opendata_cli,
    ):
        feature.register(app)
