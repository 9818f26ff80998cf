"""An XLSX workbook written as a stream: the zip's bytes leave as the rows come, so the
first byte goes out at once and memory stays bounded (a batch of rows and the deflater's
window), whatever the number of rows.

The workbook holds the minimal parts Excel, LibreOffice and openpyxl need: the content
types, the package and workbook relationships, the workbook, a stylesheet (bold header,
dates as yyyy-mm-dd, money as #,##0.00) and one worksheet per sheet. Text is written as
inline strings (no shared-string table, which would have to be complete before the sheet),
never as a formula. The zip is written without seeking: each part's sizes follow it in a
data descriptor (zipfile does this by itself on a stream it cannot seek)."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape, quoteattr

SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

# Styles (cellXfs indexes): 0 plain, 1 bold (headers), 2 a date, 3 money.
BOLD, DATE, MONEY = 1, 2, 3
STYLES = (
    HEAD + f'<styleSheet xmlns="{SHEET_NS}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="#,##0.00"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
EPOCH = date(1899, 12, 30)  # Excel's day 0 (1900 date system, after its 1900-02-29)
# Characters XML 1.0 cannot hold, written as Excel's _xHHHH_ escapes (as XlsxWriter does);
# text that already looks like such an escape gets its underscore escaped first.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f]")
_LOOKS_ESCAPED = re.compile("(_x[0-9a-fA-F]{4}_)")
FLUSH_ROWS = 500  # rows joined into one write to the deflater
FLUSH_BYTES = 64 * 1024  # compressed bytes gathered before they are handed on


def column_letters(n: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _text(value: str, ref: str, style: int = 0) -> str:
    if _CONTROL.search(value) or "_x" in value:
        value = _LOOKS_ESCAPED.sub(r"_x005F\1", value)
        value = _CONTROL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", value)
    styled = f' s="{style}"' if style else ""
    return f'<c r="{ref}"{styled} t="inlineStr"><is><t xml:space="preserve">{escape(value)}</t></is></c>'


def cell(value: Any, ref: str) -> str:
    """One cell's XML; "" for an empty value (the cell is left out)."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return _text("yes" if value else "no", ref)
    if isinstance(value, datetime):
        serial = (value - datetime(1899, 12, 30)).total_seconds() / 86400
        return f'<c r="{ref}" s="{DATE}"><v>{serial!r}</v></c>'
    if isinstance(value, date):
        return f'<c r="{ref}" s="{DATE}"><v>{(value - EPOCH).days}</v></c>'
    if isinstance(value, Decimal):
        return f'<c r="{ref}" s="{MONEY}"><v>{float(value)!r}</v></c>'
    if isinstance(value, int):
        return f'<c r="{ref}"><v>{value}</v></c>'
    if isinstance(value, float):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    return _text(str(value), ref)


class _Sink(io.RawIOBase):
    """Where the zip writes: kept until taken. Not seekable, so zipfile streams."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[bytes] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        block = bytes(data)
        self.parts.append(block)
        self.size += len(block)
        return len(block)

    def take(self) -> bytes:
        block = b"".join(self.parts)
        self.parts.clear()
        self.size = 0
        return block


@dataclass(frozen=True)
class Sheet:
    """A worksheet: its name, the header (bold, first row), the rows' values in header
    order (None or "" leaves a cell empty; bool as yes/no; a date, Decimal or number
    typed; anything else as text) and, optionally, each column's width in characters."""

    name: str
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]
    widths: Sequence[float] = ()


def _sheet_head(widths: Sequence[float]) -> str:
    cols = "".join(f'<col min="{n}" max="{n}" width="{w}" customWidth="1"/>' for n, w in enumerate(widths, 1))
    return (
        HEAD
        + f'<worksheet xmlns="{SHEET_NS}" xmlns:r="{REL_NS}">'
        + (f"<cols>{cols}</cols>" if cols else "")
        + "<sheetData>"
    )


SHEET_TAIL = "</sheetData></worksheet>"


def _parts(names: Sequence[str]) -> dict[str, str]:
    """The parts around the sheets: content types, relationships, workbook, styles."""
    sheets = range(1, len(names) + 1)
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for n in sheets
    )
    return {
        "[Content_Types].xml": HEAD
        + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        f"{overrides}</Types>",
        "_rels/.rels": HEAD + f'<Relationships xmlns="{PKG_REL_NS}">'
        f'<Relationship Id="rId1" Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>",
        "xl/workbook.xml": HEAD
        + f'<workbook xmlns="{SHEET_NS}" xmlns:r="{REL_NS}"><sheets>'
        + "".join(
            f'<sheet name={quoteattr(name)} sheetId="{n}" r:id="rId{n}"/>'
            for n, name in zip(sheets, names, strict=True)
        )
        + "</sheets></workbook>",
        "xl/_rels/workbook.xml.rels": HEAD
        + f'<Relationships xmlns="{PKG_REL_NS}">'
        + "".join(
            f'<Relationship Id="rId{n}" Type="{REL_NS}/worksheet" Target="worksheets/sheet{n}.xml"/>'
            for n in sheets
        )
        + f'<Relationship Id="rId{len(names) + 1}" Type="{REL_NS}/styles" Target="styles.xml"/>'
        "</Relationships>",
        "xl/styles.xml": STYLES,
    }


def _row(n: int, refs: Sequence[str], values: Sequence[Any]) -> str:
    """A row's XML. The last column's cell is always written, empty or not: a reader
    that streams the sheet (openpyxl's read-only mode, which the import uses) then gets
    rows as wide as the header, although the sheet declares no dimension (its row count
    is not known before the rows are written)."""
    cells = "".join(cell(value, f"{ref}{n}") for ref, value in zip(refs, values, strict=True))
    last = values[-1] if values else None
    if refs and (last is None or last == ""):
        cells += f'<c r="{refs[-1]}{n}"/>'
    return f'<row r="{n}">{cells}</row>'


def workbook_chunks(sheets: Sequence[Sheet]) -> Iterator[bytes]:
    """The workbook's bytes in chunks of about FLUSH_BYTES. Should the rows fail midway,
    the zip is never finished (no central directory is sent), so a broken download
    cannot open as a complete-looking workbook."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, text in _parts([sheet.name for sheet in sheets]).items():
            archive.writestr(name, text)
        for number, sheet in enumerate(sheets, 1):
            refs = [column_letters(c) for c in range(1, len(sheet.header) + 1)]
            with archive.open(f"xl/worksheets/sheet{number}.xml", "w") as part:
                head = "".join(_text(h, f"{ref}1", BOLD) for ref, h in zip(refs, sheet.header, strict=True))
                part.write((_sheet_head(sheet.widths) + f'<row r="1">{head}</row>').encode())
                yield sink.take()  # the first bytes leave before any row is read
                batch: list[str] = []
                for n, values in enumerate(sheet.rows, 2):
                    batch.append(_row(n, refs, values))
                    if len(batch) == FLUSH_ROWS:
                        part.write("".join(batch).encode())
                        batch.clear()
                        if sink.size >= FLUSH_BYTES:
                            yield sink.take()
                batch.append(SHEET_TAIL)
                part.write("".join(batch).encode())
    yield sink.take()
