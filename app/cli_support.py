"""What the feature packages' commands share: acting as the system in the audit trail,
and reading a password from standard input."""

from __future__ import annotations

import sys

import click

from app import audit
from app.extensions import db


def as_system(label: str) -> audit.AuditActor:
    actor = audit.AuditActor.system(f"cli: {label}")
    audit.set_actor(db.session, actor)
    return actor


def read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")
