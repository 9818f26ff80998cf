"""The 409 page for a save that lost a race: both versions side by side."""

from __future__ import annotations

from typing import Any

from flask import render_template

from app.forms import form_summary
from app.lifecycle.workflow import ConflictError


def render_conflict(exc: ConflictError, form: Any) -> tuple[str, int]:
    """Show what the person tried to save next to what the record holds now."""
    return (
        render_template("errors/conflict.html", mine=form_summary(form), current=exc.current),
        409,
    )
