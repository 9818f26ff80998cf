"""Jinja globals and filters."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from flask import Flask, request

from app.auth import policy
from app.models import enums


def format_date(value: date | None, approximate: bool = False) -> str:
    if value is None:
        return "Not recorded"
    text = f"{value:%B} {value.day}, {value.year}"
    return f"about {text}" if approximate else text


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
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


def register(app: Flask) -> None:
    app.jinja_env.globals.update(policy=policy, enums=enums, url_with=url_with)
    app.jinja_env.filters.update(
        date=format_date, datetime=format_datetime, money=format_money, blocks=text_blocks
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
