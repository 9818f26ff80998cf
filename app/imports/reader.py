"""Reading an uploaded spreadsheet (CSV or XLSX, told apart by content) into rows of
text keyed by column name, with their row numbers as a spreadsheet shows them."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from app import wording
from app.exports.columns import FORMULA_PREFIXES, KEYS, REQUIRED

MAX_ROWS = 200_000


class FileProblem(ValueError):
    """The file as a whole cannot be read (not a spreadsheet, wrong columns...)."""


@dataclass(frozen=True)
class Sheet:
    kind: str  # "csv" or "xlsx"
    columns: tuple[str, ...]
    rows: list[tuple[int, dict[str, str]]]  # (spreadsheet row number, values)


def _normalize_header(value: Any) -> str:
    return str(value or "").strip().lower().replace(" ", "_").replace("-", "_")


def _text(value: Any) -> str:
    """A cell as text: dates as YYYY-MM-DD, whole numbers without ".0"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(Decimal(str(value)))
    text = str(value)
    if text.startswith("'") and text[1:2] and text[1:].startswith(FORMULA_PREFIXES):
        text = text[1:]  # our exports guard would-be formulas with an apostrophe
    text = text.strip()
    return text


def _check_columns(header: list[Any]) -> tuple[str, ...]:
    columns = tuple(_normalize_header(h) for h in header)
    if not any(columns):
        raise FileProblem("The first row must hold the column names; it is empty.")
    duplicates = sorted({c for c in columns if c and columns.count(c) > 1})
    if duplicates:
        raise FileProblem(f"These columns appear twice: {', '.join(duplicates)}.")
    unknown = [c for c in columns if c and c not in KEYS]
    if unknown:
        raise FileProblem(
            f"Unknown {wording.noun(len(unknown), 'column')}: {', '.join(unknown)}. "
            "Use the column names of the template."
        )
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise FileProblem(f"Missing required {wording.noun(len(missing), 'column')}: {', '.join(missing)}.")
    return columns


def _rows(columns: tuple[str, ...], raw_rows: Any) -> list[tuple[int, dict[str, str]]]:
    rows: list[tuple[int, dict[str, str]]] = []
    # One copy of each distinct cell text: a report's cells repeat on every row of its
    # recommendations, "yes", "no" and the components on most rows.
    same: dict[str, str] = {}
    for number, raw in raw_rows:
        values = {
            c: same.setdefault(t, t) for c, v in zip(columns, raw, strict=False) if c for t in (_text(v),)
        }
        if not any(values.values()):
            continue  # blank line
        if len(rows) >= MAX_ROWS:
            raise FileProblem(f"The file has more than {MAX_ROWS:,} rows; split it.")
        rows.append((number, values))
    return rows


def _is_xlsx(data: bytes) -> bool:
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


def read_sheet(data: bytes) -> Sheet:
    """Parse an upload; FileProblem when it is not a usable spreadsheet."""
    if not data:
        raise FileProblem("The file is empty.")
    if _is_xlsx(data):
        return _read_xlsx(data)
    if b"\x00" in data[:4096] or data.startswith(b"PK"):
        raise FileProblem("This file is not a spreadsheet. Upload a CSV file or an Excel .xlsx workbook.")
    try:
        data.decode("utf-8-sig")  # checked whole first; the text is then read line by line
    except UnicodeDecodeError:
        raise FileProblem(
            "This file is not UTF-8 text, so it is not a CSV RecTrack can read. Save it as "
            "CSV UTF-8, or upload the .xlsx workbook."
        ) from None
    return _read_csv(data)


def _read_csv(data: bytes) -> Sheet:
    """The rows, parsed as they are decoded: neither the whole text nor every parsed line
    is held besides the rows kept (a file of 50,000 rows held them all twice)."""
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    try:
        lines = csv.reader(text)
        header = next(lines, None)
        if header is None:
            raise FileProblem("The file is empty.")
        columns = _check_columns(header)
        return Sheet("csv", columns, _rows(columns, enumerate(lines, start=2)))
    except csv.Error as exc:
        raise FileProblem(f"This CSV file cannot be read: {exc}.") from None


DAMAGED = "This Excel workbook cannot be opened; it may be damaged."
DECLARATIONS = (
    "This Excel workbook carries XML declarations (a DOCTYPE or an entity) that Excel never "
    "writes, so RecTrack does not read it. Open it in Excel and save it again as .xlsx."
)


def _has_declarations(archive: zipfile.ZipFile) -> bool:
    """True when an XML part of the workbook holds <!DOCTYPE or <!ENTITY. Parts are read in
    chunks (a small zip can unpack to a lot), keeping the end of each for a marker split
    between two chunks."""
    markers = (b"<!DOCTYPE", b"<!ENTITY")
    keep = max(len(m) for m in markers) - 1
    for info in archive.infolist():
        if not info.filename.endswith((".xml", ".rels", ".vml")):
            continue
        with archive.open(info) as part:
            tail = b""
            while chunk := part.read(1 << 16):
                window = tail + chunk
                if any(m in window for m in markers):
                    return True
                tail = window[-keep:]
    return False


def _read_xlsx(data: bytes) -> Sheet:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            declared = _has_declarations(archive)
    except Exception:  # a damaged archive: bad CRC, unknown compression, truncated part...
        raise FileProblem(DAMAGED) from None
    if declared:
        raise FileProblem(DECLARATIONS)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged workbook
        raise FileProblem(DAMAGED) from None
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise FileProblem("The first sheet of the workbook is empty.")
        columns = _check_columns(list(header))
        return Sheet("xlsx", columns, _rows(columns, ((i, row) for i, row in enumerate(rows, start=2))))
    except FileProblem:
        raise
    except Exception:  # the sheet is parsed while its rows are read: the same damage shows here
        raise FileProblem(DAMAGED) from None
    finally:
        workbook.close()
