"""Building and reading the open-data files. `build` writes both files, stores their
bytes as blobs (every web server then serves the same file) and replaces the previous
set: one set at a time, so building again the same day replaces that day's files.
Flushes, never commits."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app import audit, storage
from app.models import OpenDataFile
from app.opendata import records
from app.opendata.fields import NAMES
from app.storage import BlobStore

storage.register_reference(OpenDataFile.sha256)

CSV_NAME = "recommendations.csv"
JSON_NAME = "recommendations.json"
CONTENT_TYPES = {CSV_NAME: "text/csv; charset=utf-8", JSON_NAME: "application/json"}
BUILD_ACTION = "open data build"
DOWNLOAD_ACTION = "open data download"


class Writer:
    """Both files, written in one pass over the rows, as UTF-8 bytes from the start (text
    buffers would hold every character in up to four bytes): the CSV, with the
    dictionary's names as its header and a byte-order mark as the spreadsheet export
    writes it, so Excel reads it; and the JSON's recommendations, one compact object per
    line, for the document `json_bytes` assembles around them."""

    def __init__(self) -> None:
        self.csv = io.BytesIO()
        self.text = io.TextIOWrapper(self.csv, encoding="utf-8", newline="", write_through=True)
        self.text.write("\ufeff")
        self.writer = csv.writer(self.text, lineterminator="\r\n")
        self.writer.writerow(NAMES)
        self.objects = io.BytesIO()
        self.count = 0

    def add(self, row: records.Row) -> None:
        self.writer.writerow(records.csv_cells(row, NAMES))
        values = {name: records.json_value(row.get(name)) for name in NAMES}
        if self.count:
            self.objects.write(b",\n")
        self.objects.write(json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode())
        self.count += 1

    def csv_bytes(self) -> bytes:
        return self.csv.getvalue()

    def json_bytes(self, *, generated_at: datetime, as_of: date, withheld: int) -> bytes:
        head = {
            "generated_at": generated_at.isoformat(timespec="seconds"),
            "as_of": as_of.isoformat(),
            "count": self.count,
            "withheld": withheld,
            "withheld_note": "Recommendations in RecTrack left out of this file because they are "
            "restricted or belong to a restricted report.",
            "fields": list(NAMES),
        }
        opening = json.dumps(head, ensure_ascii=False, indent=1)[:-2]  # without the closing "\n}"
        self.objects.write(b"\n]}\n")
        self.objects.seek(0)
        return f'{opening},\n "recommendations": [\n'.encode() + self.objects.read()


@dataclass(frozen=True)
class Built:
    as_of: date
    rows: int
    withheld: int
    files: dict[str, int]  # name -> bytes


def build(session: Session, store: BlobStore, *, now: datetime, today: date) -> Built:
    """Write both files as of `today` and make them the published set (replacing any
    earlier set), with a "open data build" audit event by the session's actor."""
    files = Writer()
    for row in records.public_rows(session):
        files.add(row)
    rows = files.count
    withheld = records.withheld_count(session, rows)
    contents = {
        CSV_NAME: files.csv_bytes(),
        JSON_NAME: files.json_bytes(generated_at=now, as_of=today, withheld=withheld),
    }
    del files
    for name, data in contents.items():
        values = {
            "as_of": today,
            "generated_at": now,
            "content_type": CONTENT_TYPES[name],
            "sha256": store.put(session, data),
            "size_bytes": len(data),
            "rows": rows,
            "withheld": withheld,
        }
        # An upsert: two builds at once (beat and a cron job) both succeed, the last wins.
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        session.execute(
            insert(OpenDataFile)
            .values(name=name, **values)
            .on_conflict_do_update(index_elements=["name"], set_=values)
        )
    session.execute(sa.delete(OpenDataFile).where(OpenDataFile.name.not_in(list(contents))))
    sizes = {name: len(data) for name, data in contents.items()}
    audit.record(
        session,
        BUILD_ACTION,
        changes={"as_of": today.isoformat(), "rows": rows, "withheld": withheld, "bytes": sizes},
    )
    session.flush()
    return Built(today, rows, withheld, sizes)


def published(session: Session) -> list[OpenDataFile]:
    """The files of the newest set, CSV first."""
    stmt = sa.select(OpenDataFile).order_by(OpenDataFile.name).execution_options(populate_existing=True)
    return list(session.scalars(stmt).all())


def published_file(session: Session, name: str) -> OpenDataFile | None:
    return session.get(OpenDataFile, name, populate_existing=True)


def human_size(size: int) -> str:
    """1,234 bytes; 12.3 KB; 4.5 MB (powers of 1,000, as file sizes on the web)."""
    if size < 1000:
        return f"{size:,} bytes"
    value: float = size
    for unit in ("KB", "MB", "GB"):
        value /= 1000
        if value < 1000 or unit == "GB":
            return f"{value:,.1f} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def details(entry: OpenDataFile) -> dict[str, Any]:
    """What a download's audit event records."""
    return {"file": entry.name, "as_of": entry.as_of.isoformat(), "bytes": entry.size_bytes}
