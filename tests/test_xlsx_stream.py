"""The streamed XLSX writer (app.exports.xlsx): a small hand-written dataset opens in
openpyxl with exactly the expected cells, types and formats; the export route streams it
and records what it sent."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook

from app.exports import xlsx
from app.exports.columns import KEYS
from app.exports.services import xlsx_chunks
from app.extensions import db
from app.imports.reader import read_sheet
from app.models import AuditEvent


def _book(sheets: list[xlsx.Sheet]) -> tuple[bytes, list[bytes]]:
    chunks = list(xlsx.workbook_chunks(sheets))
    return b"".join(chunks), chunks


def test_a_small_workbook_holds_exactly_the_cells_written() -> None:
    rows = [
        ["OIG-12-15", date(2011, 12, 6), 3, Decimal("1234.50"), True, None],
        ['<b>&amp; "quoted"</b>', date(1900, 3, 1), 0, Decimal("0.00"), False, "=SUM(A1:A2)"],
        ["", None, None, None, None, "  two spaces\nand a line  "],
    ]
    data, chunks = _book(
        [
            xlsx.Sheet("Recommendations", ["report", "issued", "number", "costs", "priority", "note"], rows),
            xlsx.Sheet("Columns", ["column", "what to write"], [("report", "The report.")], (32, 100)),
        ]
    )
    assert len(chunks) >= 2  # the parts and the header leave before the rows are read
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["Recommendations", "Columns"]
    sheet = workbook["Recommendations"]
    assert [list(r) for r in sheet.iter_rows(values_only=True)] == [
        ["report", "issued", "number", "costs", "priority", "note"],
        ["OIG-12-15", datetime(2011, 12, 6), 3, 1234.5, "yes", None],
        ['<b>&amp; "quoted"</b>', datetime(1900, 3, 1), 0, 0.0, "no", "=SUM(A1:A2)"],
        [None, None, None, None, None, "  two spaces\nand a line  "],
    ]
    assert all(c.font.b for c in sheet[1])
    assert not sheet["A2"].font.b
    assert sheet["B2"].number_format == "yyyy-mm-dd"
    assert sheet["D2"].number_format == "#,##0.00"
    assert sheet["C2"].number_format == "General"
    assert sheet["F3"].data_type == "s"  # text that looks like a formula stays text
    notes = workbook["Columns"]
    assert [list(r) for r in notes.iter_rows(values_only=True)] == [
        ["column", "what to write"],
        ["report", "The report."],
    ]
    assert (notes.column_dimensions["A"].width, notes.column_dimensions["B"].width) == (32, 100)
    # Read as the import reads it (streamed, no dimension declared): rows as wide as the header.
    streamed = load_workbook(io.BytesIO(data), read_only=True)["Recommendations"]
    assert [len(r) for r in streamed.iter_rows(values_only=True)] == [6, 6, 6, 6]
    assert list(streamed.iter_rows(values_only=True))[1] == (
        "OIG-12-15",
        datetime(2011, 12, 6),
        3,
        1234.5,
        "yes",
        None,
    )


def test_control_characters_are_written_as_excel_escapes() -> None:
    """XML cannot hold them: written _x000B_ (as Excel and XlsxWriter do); the zip stays valid."""
    data, _chunks = _book([xlsx.Sheet("S", ["a"], [["tab\there, vt\x0bthere"], ["_x0041_ literal"]])])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "vt_x000B_there" in sheet
    assert "tab\there" in sheet
    assert "_x005F_x0041_ literal" in sheet
    load_workbook(io.BytesIO(data))  # it opens


def test_column_letters() -> None:
    assert [xlsx.column_letters(n) for n in (1, 26, 27, 37, 52, 703)] == ["A", "Z", "AA", "AK", "AZ", "AAA"]


def test_rows_failing_midway_never_finish_the_zip() -> None:
    def rows() -> Iterator[list[Any]]:
        yield ["one"]
        raise RuntimeError("the database went away")

    sent: list[bytes] = []

    def download() -> None:
        sent.extend(xlsx.workbook_chunks([xlsx.Sheet("S", ["a"], rows())]))

    with pytest.raises(RuntimeError):
        download()
    assert b"".join(sent).startswith(b"PK\x03\x04")  # the parts and the header went out
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(b"".join(sent)))


def test_an_export_shaped_workbook_reads_back_as_an_import() -> None:
    row = {
        "report_title": "A report",
        "report_issued_on": date(2024, 9, 27),
        "rec_number": 1,
        "rec_text": "Do it.",
    }
    data = b"".join(xlsx_chunks(iter([row])))
    sheet = read_sheet(data)
    assert sheet.kind == "xlsx"
    assert sheet.columns == KEYS
    values = [v for _n, v in sheet.rows]
    assert len(values) == 1
    assert (values[0]["report_title"], values[0]["report_issued_on"], values[0]["rec_text"]) == (
        "A report",
        "2024-09-27",
        "Do it.",
    )


def test_the_xlsx_export_is_streamed_and_a_cut_off_one_is_recorded_as_such(as_role, today) -> None:
    from app.demo.generator import generate

    generate(db.session.connection(), reports=60, recommendations=700, seed=3, today=today, allow_mixed=True)
    db.session.commit()
    before = db.session.query(AuditEvent).filter_by(action="export").count()
    response = as_role("oig").get("/recommendations/export.xlsx", buffered=False)
    assert response.status_code == 200
    assert response.is_streamed
    chunks = iter(response.response)
    first = next(chunks)
    while not first:
        first = next(chunks)
    assert first.startswith(b"PK\x03\x04")  # a zip's first local header
    response.close()  # the client goes away
    db.session.expire_all()
    events = db.session.query(AuditEvent).filter_by(action="export").order_by(AuditEvent.id).all()[before:]
    assert len(events) == 1
    assert events[0].changes["format"] == "xlsx"
    assert events[0].changes["complete"] is False
    assert events[0].changes["rows"] == 0  # the header left before any row was read
