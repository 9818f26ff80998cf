"""Spreadsheets as the import reads them: rows written to CSV in the documented column
order, and a file imported and committed (the test's savepoint, so pages see it)."""

from __future__ import annotations

import csv
import io

from app import audit, clock
from app.exports.columns import KEYS
from app.extensions import db
from app.imports.reader import read_sheet
from app.imports.services import ImportResult, run_import


def csv_of(rows: list[dict[str, str]]) -> bytes:
    """The rows as a CSV file with the columns any row names, in KEYS order."""
    columns = [k for k in KEYS if any(k in row for row in rows)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return buffer.getvalue().encode("utf-8")


def import_file(data: bytes, actor: audit.AuditActor, filename: str) -> ImportResult:
    """Import and commit the file (the test's transaction is still rolled back)."""
    result = run_import(
        db.session, actor, read_sheet(data), filename=filename, data=data, commit=True, today=clock.today()
    )
    db.session.commit()
    return result
