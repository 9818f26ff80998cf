"""Jinja globals and filters."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import Flask, current_app, request, url_for
from flask_login import current_user

from app import cache, wording
from app.auth import policy
from app.cache import reader_scope
from app.extensions import db
from app.lifecycle import deadlines, queries, workflow
from app.lifecycle.steps import Step
from app.models import enums
from app.pdf.layout import keep_together
from app.web import today


def format_date(value: date | None, approximate: bool = False) -> str:
    if value is None:
        return "Not recorded"
    text = f"{value:%B} {value.day}, {value.year}"
    return f"about {text}" if approximate else text


def source_lines(text: str | None) -> list[tuple[str, bool]]:
    """A sources field ("- https://..." per line) as (line, is a web address) pairs."""
    out = []
    for raw in (text or "").splitlines():
        line = raw.strip().removeprefix("- ").strip()
        if line:
            out.append((line, line.startswith(("https://", "http://")) and " " not in line))
    return out


def format_datetime(value: datetime | None, long: bool = False) -> str:
    """A UTC time as "2026-11-16 17:00 UTC" (tables), or with `long` as
    "November 16, 2026, 17:00 UTC" (beside other dates written out, as in a history)."""
    if value is None:
        return ""
    if long:
        return f"{format_date(value)}, {value:%H:%M} UTC"
    return f"{value:%Y-%m-%d %H:%M} UTC"


def format_money(value: Decimal | None) -> str:
    if value is None:
        return "Not recorded"
    return f"${value:,.2f}"


def text_blocks(text: str | None) -> list[tuple[str, list[str]]]:
    """Split plain text into paragraphs and "- " bullet lists for display."""
    blocks: list[tuple[str, list[str]]] = []
    for para in (text or "").replace("\r\n", "\n").split("\n\n"):
        lines = [line.rstrip() for line in para.strip().split("\n") if line.strip()]
        if not lines:
            continue
        if all(line.startswith("- ") for line in lines):
            blocks.append(("list", [line[2:] for line in lines]))
        else:
            blocks.append(("text", lines))
    return blocks


def url_with(**changes: Any) -> str:
    """The current URL with some query-string arguments replaced (None removes one)."""
    args = request.args.to_dict(flat=False)
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = [str(value)]
    query = urlencode(args, doseq=True)
    return f"{request.path}?{query}" if query else request.path


def url_keeping_filters(endpoint: str) -> str:
    """Another page (an export, say) with this page's query string, minus paging."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k not in ("after", "before", "page")]
    query = urlencode(args)
    return f"{url_for(endpoint)}?{query}" if query else url_for(endpoint)


def steps_for(rec: Any, addressee: Any = None) -> list[Step]:
    """The workflow steps the signed-in user may take now on the recommendation, or on
    one addressee's part. (Hides buttons only: the step's page checks again.)"""
    return workflow.steps_for(current_user, rec, addressee)


def role_label(role: str) -> str:
    try:
        return enums.Role(role).label
    except ValueError:
        return {"system": "RecTrack system", "anonymous": "Not signed in"}.get(role, role)


def downloadable(attachment: Any) -> bool:
    return policy.can_download_attachment(current_user, attachment)


def work_count() -> int:
    """Items in the signed-in user's work queues, for the header (one query)."""
    if not current_user.is_authenticated:
        return 0
    user = current_user._get_current_object()
    now, interval = today(), current_app.config["UPDATE_INTERVAL_DAYS"]
    found = queries.queues_for(user, now, interval)
    if not found:
        return 0

    def count() -> int:
        counts = [q.count.scalar_subquery() for q in found]
        return sum(db.session.execute(sa.select(*counts)).one())

    return cache.current(db.session, ("work", reader_scope(user), now, interval), count)


def register(app: Flask) -> None:
    app.jinja_env.globals.update(
        policy=policy,
        enums=enums,
        url_with=url_with,
        url_keeping_filters=url_keeping_filters,
        steps_for=steps_for,
        has_history_before_tracking=deadlines.has_history_before_tracking,
        work_count=work_count,
        today=today,
        keep_together=keep_together,
    )
    app.jinja_env.tests.update(downloadable=downloadable)
    app.jinja_env.filters.update(role_label=role_label, count=wording.count, noun=wording.noun)
    app.jinja_env.filters.update(
        date=format_date,
        datetime=format_datetime,
        money=format_money,
        blocks=text_blocks,
        source_lines=source_lines,
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
