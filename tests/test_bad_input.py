"""Bad input is a clear 400 or a message, never a 500 (issue 10, point 4), and the
production-only headers (point 9). The fuzz test over every route is in test_fuzz.py."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from openpyxl import Workbook

from app import create_app
from app.extensions import db
from app.imports.reader import FileProblem, read_sheet
from app.models import AuditEvent, Report
from config import DevelopmentConfig, ProductionConfig
from tests.conftest import rec, visible_text

CONTROL_MESSAGE = "does not accept control characters"

# A key as production wants it: 48 random URL-safe characters (secrets.token_urlsafe(36)).
SECRET = "q3Vb8xZr1LmN0pK7sT2wYc9dF4gH6jA5eR_uI-oPzXkWvBnMlQ"


# --- control characters at the edge --------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/search?q=a%00b",
        "/recommendations?q=a%00b",
        "/recommendations?sort=a%00b",
        "/reports?q=a%00b",
        "/admin/audit?actor=a%00b",
        "/admin/audit?action=a%00b",
        "/admin/audit?object_type=a%00b",
        "/recommendations/export.csv?q=a%00b",
        "/recommendations/export.xlsx?q=a%00b",
        "/recommendations/status.pdf?q=a%00b",
        "/reports/1/status.pdf?as_of=2020-01-01%00",
        "/recommendations?a%00b=1",  # in a name, too
        "/recommendations?q=a%01b",
        "/recommendations?q=%1b%5b31m",
        "/recommendations?q=a%7fb",
        "/recommendations?q=a%c2%85b",  # U+0085, a C1 control
        "/recommendations?q=a%0bb",  # vertical tab
    ],
)
def test_a_control_character_in_the_query_is_a_clear_400(as_role, url: str) -> None:
    response = as_role("admin").get(url)
    assert response.status_code == 400, url
    assert CONTROL_MESSAGE in visible_text(response)


@pytest.mark.parametrize("text", ["a%09b", "a%0ab", "a%0d%0ab", "caf%c3%a9", "%e2%80%94"])
def test_tab_line_breaks_and_ordinary_unicode_are_accepted(as_role, text: str) -> None:
    assert as_role("admin").get(f"/search?q={text}").status_code == 200


def test_nul_in_the_login_form_is_a_400_before_any_lookup(client) -> None:
    response = client.post("/login", data={"email": "a\x00b", "password": "x" * 20})
    assert response.status_code == 400
    assert CONTROL_MESSAGE in visible_text(response)
    assert "Sign in" in visible_text(response)


def test_nul_in_a_form_field_is_a_400_and_saves_nothing(as_role) -> None:
    before = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    response = as_role("oig").post(
        "/reports/new",
        data={"title": "Title with a NUL\x00 inside", "issued_on": "2020-01-01", "report_type": "audit"},
    )
    assert response.status_code == 400
    assert CONTROL_MESSAGE in visible_text(response)
    assert db.session.scalar(sa.select(Report).where(Report.title.startswith("Title with a NUL"))) is None
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == before


def test_a_control_character_in_a_text_area_is_a_400(as_role) -> None:
    first = rec("OIG-12-15", 1)
    url = f"/recommendations/{first.id}/components/{first.addressees[0].id}/respond"
    response = as_role("liaison").post(url, data={"concurrence": "concur", "response": "We concur.\x0b"})
    assert response.status_code == 400
    assert CONTROL_MESSAGE in visible_text(response)


def test_a_control_character_in_an_uploaded_file_name_is_a_400(as_role) -> None:
    response = as_role("oig").post(
        "/import",
        data={"file": (io.BytesIO(b"report_title,report_issued_on\r\n"), "list\x00.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert CONTROL_MESSAGE in visible_text(response)


# --- keyset cursors ---------------------------------------------------------------------------


def _cursor(values: list[object]) -> str:
    """A cursor encoded the way app/keyset.py encodes one (written out here on purpose)."""
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("sort", "values"),
    [
        ("newest", ["2025-01-15", 10**30, 1, 1]),
        ("newest", ["2025-01-15", -(10**30), 1, 1]),
        ("newest", ["2025-01-15", 2**31, 1, 1]),  # one past INTEGER's range
        ("newest", ["2025-01-15", 1, 1, -(2**31) - 1]),
        ("report", [0, "OIG-12-15\x00", 1, 1, 1]),  # a NUL hidden in a text key
    ],
)
def test_a_cursor_with_a_value_no_page_could_hold_is_a_400(as_role, sort: str, values: list) -> None:
    response = as_role("oig").get(f"/recommendations?sort={sort}&after={_cursor(values)}")
    assert response.status_code == 400
    assert "That page link is not valid" in visible_text(response)


def test_a_deeply_nested_cursor_is_a_400(as_role) -> None:
    token = base64.urlsafe_b64encode(b"[" * 5000).decode()
    assert as_role("oig").get(f"/recommendations?after={token}").status_code == 400


@pytest.mark.parametrize("edge", [2**31 - 1, -(2**31)])
def test_a_cursor_at_the_edge_of_the_integer_range_is_a_page(as_role, edge: int) -> None:
    response = as_role("oig").get(f"/recommendations?after={_cursor(['2025-01-15', edge, 1, 1])}")
    assert response.status_code == 200


# --- as-of dates of PDFs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/recommendations/status.pdf?as_of=0001-01-01&age=2_to_5_years",
        "/recommendations/status.pdf?as_of=0001-01-01&age=over_5_years",
        "/recommendations/status.pdf?as_of=1978-10-11",
        "/reports/{report}/status.pdf?as_of=0001-01-01",
        "/components/1/status.pdf?as_of=1900-01-01",
    ],
)
def test_an_as_of_date_before_the_ig_act_is_a_clear_400(as_role, url: str) -> None:
    url = url.format(report=rec("OIG-12-15", 1).report_id)
    response = as_role("oig").get(url)
    assert response.status_code == 400
    assert "cannot be before 1978-10-12, when the Inspector General Act was signed" in visible_text(response)


def test_as_of_on_the_day_of_the_ig_act_and_today_are_allowed(as_role, today) -> None:
    client = as_role("oig")
    report_id = rec("OIG-12-15", 1).report_id
    for day in ("1978-10-12", today.isoformat()):
        response = client.get(f"/reports/{report_id}/status.pdf?as_of={day}&age=over_5_years")
        assert response.status_code == 200, day
        assert response.mimetype == "application/pdf"
    tomorrow = (today + timedelta(days=1)).isoformat()
    response = client.get(f"/recommendations/status.pdf?as_of={tomorrow}&age=under_6_months")
    assert response.status_code == 400
    assert "cannot be in the future" in visible_text(response)


def test_cli_as_of_before_the_ig_act_is_refused(app: Flask, tmp_path) -> None:
    result = app.test_cli_runner().invoke(
        args=["pdf", "report", "OIG-12-15", "--as-of", "0001-01-01", "-o", str(tmp_path / "x.pdf")]
    )
    assert result.exit_code != 0
    assert "cannot be before 1978-10-12" in result.output


# --- spreadsheets with XML declarations or control characters ------------------------------

HEADER = ["report_number", "report_title", "report_issued_on", "rec_number", "rec_text", "component"]
ROW = ["OIG-99-77", "A synthetic report (test fixture)", "2024-05-01", "1", "Fixture text.", "FEMA"]


def _xlsx(rows: list[list[str]]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _with_part_changed(data: bytes, name: str, change) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            part = source.read(info.filename)
            target.writestr(info, change(part) if info.filename == name else part)
    return out.getvalue()


def _declare(declaration: bytes, cell: bytes):
    def change(part: bytes) -> bytes:
        end = part.index(b"?>") + 2 if part.startswith(b"<?xml") else 0
        return part[:end] + b"\n" + declaration + part[end:].replace(b"Fixture text.", cell)

    return change


LAUGHS = (
    b'<!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">'
    + b"".join(
        b'<!ENTITY %s "%s">' % (bytes([ord("a") + i + 1]), (b"&%s;" % bytes([ord("a") + i])) * 10)
        for i in range(6)
    )
    + b"]>"
)
XML_ATTACKS = [
    pytest.param(b'<!DOCTYPE w [<!ENTITY e SYSTEM "file:///etc/passwd">]>', b"&e;", id="external-entity"),
    pytest.param(LAUGHS, b"&g;", id="billion-laughs"),
    pytest.param(b'<!DOCTYPE w [<!ENTITY e "injected">]>', b"&e;", id="internal-entity"),
    pytest.param(b"<!DOCTYPE worksheet>", b"Fixture text.", id="bare-doctype"),
]


@pytest.mark.parametrize(("declaration", "cell"), XML_ATTACKS)
@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/workbook.xml"])
def test_an_xlsx_with_a_doctype_or_entity_is_refused_with_a_message(
    as_role, part: str, declaration: bytes, cell: bytes
) -> None:
    data = _with_part_changed(_xlsx([HEADER, ROW]), part, _declare(declaration, cell))
    with pytest.raises(FileProblem, match="XML declarations"):
        read_sheet(data)
    response = as_role("oig").post(
        "/import", data={"file": (io.BytesIO(data), "attack.xlsx")}, content_type="multipart/form-data"
    )
    assert response.status_code == 200
    assert "carries XML declarations (a DOCTYPE or an entity)" in visible_text(response)
    assert "attack.xlsx can be imported" not in visible_text(response)


def test_a_sheet_that_breaks_while_its_rows_are_read_is_a_file_problem() -> None:
    # A UTF-16 part hides its DOCTYPE from a byte search; the parser then fails mid-read.
    def change(part: bytes) -> bytes:
        body = part.decode().replace("Fixture text.", "&e;")
        head = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE w [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        return (head + body).encode("utf-16")

    data = _with_part_changed(_xlsx([HEADER, ROW]), "xl/worksheets/sheet1.xml", change)
    with pytest.raises(FileProblem, match="cannot be opened; it may be damaged"):
        read_sheet(data)


def _csv(rows: list[list[str]]) -> bytes:
    return "\r\n".join(",".join(row) for row in rows).encode()


@pytest.mark.parametrize("bad", ["\x00", "\x01", "\x1b", "\x7f", "\x85"])
def test_a_control_character_in_a_cell_is_a_row_problem(as_role, bad: str) -> None:
    # Far enough into the file that the first-4-KB binary check does not see it.
    filler = [
        [f"OIG-99-{n:02d}", f"Filler report {n} " + "x" * 200, "2024-05-01", "1", "Text.", "FEMA"]
        for n in range(30)
    ]
    text_row = [*ROW[:4], f"Fixture{bad}text.", "FEMA"]
    data = _csv([HEADER, *filler, text_row])
    assert len(data) > 4096
    response = as_role("oig").post(
        "/import", data={"file": (io.BytesIO(data), "cells.csv")}, content_type="multipart/form-data"
    )
    assert response.status_code == 200
    text = visible_text(response)
    assert "1 problem in cells.csv" in text
    assert f"{len(filler) + 2} rec_text Holds a control character (such as NUL)" in text
    assert db.session.scalar(sa.select(Report).where(Report.number == "OIG-99-77")) is None


# --- DATABASE_URL set but empty ----------------------------------------------------------------


@pytest.mark.parametrize("empty", ["", "   "])
def test_empty_database_url_means_the_sqlite_default_in_development(
    monkeypatch, tmp_path, empty: str
) -> None:
    import config as config_module

    monkeypatch.setattr(config_module, "INSTANCE_DIR", tmp_path)
    monkeypatch.setenv("DATABASE_URL", empty)
    monkeypatch.setenv("SECRET_KEY", SECRET)
    config = DevelopmentConfig()
    expected = "sqlite:///" + str(tmp_path / "rectrack.db")
    assert expected == config.SQLALCHEMY_DATABASE_URI
    app = create_app(config)
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")


@pytest.mark.parametrize("empty", ["", "   "])
def test_empty_database_url_is_named_in_production(monkeypatch, empty: str) -> None:
    monkeypatch.setenv("SECRET_KEY", SECRET)
    monkeypatch.setenv("DATABASE_URL", empty)
    with pytest.raises(RuntimeError, match=r"^DATABASE_URL is set but empty\. Production needs"):
        create_app(ProductionConfig())


@pytest.mark.parametrize("url", ["nonsense", "postgres//db.internal/rectrack"])
def test_a_database_url_that_is_not_one_is_named(monkeypatch, url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SECRET_KEY", SECRET)
    with pytest.raises(RuntimeError, match=r"^DATABASE_URL is not a database URL RecTrack can use"):
        create_app(DevelopmentConfig())


# --- production headers ----------------------------------------------------------------------


def _production_app(monkeypatch) -> Flask:
    """Production on PostgreSQL at a closed port (production refuses SQLite): the pages
    asked for here never reach the database, and the schema guard, which would, is off."""
    monkeypatch.setenv("SECRET_KEY", SECRET)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://rectrack@127.0.0.1:1/rectrack")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "memory://")
    config = ProductionConfig()
    config.SCHEMA_GUARD = False
    return create_app(config)


def test_production_sends_strict_transport_security(monkeypatch) -> None:
    app = _production_app(monkeypatch)
    for url in ("/login", "/static/css/app.css", "/no/such/page"):
        response = app.test_client().get(url, base_url="https://rectrack.example")
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains", url


def test_development_and_tests_send_no_strict_transport_security(app: Flask, monkeypatch, tmp_path) -> None:
    assert "Strict-Transport-Security" not in app.test_client().get("/login").headers
    import config as config_module

    monkeypatch.setattr(config_module, "INSTANCE_DIR", tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    development = create_app(DevelopmentConfig())
    assert "Strict-Transport-Security" not in development.test_client().get("/login").headers
