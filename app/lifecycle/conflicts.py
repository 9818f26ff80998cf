"""The 409 page for a save that lost a race: both versions side by side."""

from __future__ import annotations

from typing import Any

from flask import render_template

from app.forms import form_summary
from app.locking import ConflictError


def render_conflict(exc: ConflictError, form: Any, current: Any = None) -> tuple[str, int]:
    """Show what the person tried to save next to what the record holds now. `current`,
    when given, is a form filled from the record as it is now (the same labels as
    `form`); otherwise the service's description in the error is shown."""
    return (
        render_template(
            "errors/conflict.html",
            mine=form_summary(form),
            current=form_summary(current) if current is not None else exc.current,
        ),
        409,
    )
