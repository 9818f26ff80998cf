"""Spreadsheet exports and imports.

Exports: CSV and XLSX downloads of the recommendation list with its filters and the pages'
visibility rules, one row per recommendation and component, streamed, with formulas
neutralised. Imports: an XLSX export round-trips into an empty database, a second import
of the same file changes nothing, bad files get clear errors and change nothing (all or
nothing), the web upload shows a dry run before committing, the `flask import` command,
and the templates.
"""

from __future__ import annotations

import csv
import io
import random
import re
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from openpyxl import load_workbook
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, selectinload

from app import audit, clock, create_app
from app.database import AppSession
from app.exports.columns import COLUMNS, KEYS, PLACEHOLDER
from app.extensions import db
from app.imports.reader import FileProblem, read_sheet
from app.imports.services import ImportResult, Problem, run_import
from app.models import Addressee, AuditEvent, Component, Recommendation, Report, Sensitivity
from config import TestingConfig
from tests.conftest import rec, report_by_number, visible_text

ACTOR = audit.AuditActor.system("tests: imports")
MIB = 1024 * 1024
PLACEHOLDER_MESSAGE = (
    "This row is a restricted placeholder from an export by someone who may not read it; "
    "it holds no recommendation text to import."
)


# --- helpers ----------------------------------------------------------------------------


def _export(client: FlaskClient, kind: str, query: str = "") -> Any:
    response = client.get(f"/recommendations/export.{kind}{'?' + query if query else ''}")
    assert response.status_code == 200
    return response


def _csv_rows(data: bytes) -> list[dict[str, str]]:
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    reader = csv.DictReader(io.StringIO(text[1:]))
    assert reader.fieldnames == list(KEYS)
    return list(reader)


def _xlsx_rows(data: bytes) -> tuple[list[str], list[dict[str, Any]]]:
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    return header, [dict(zip(header, row, strict=True)) for row in rows[1:]]


def _key(row: dict[str, Any]) -> tuple[str, str, str]:
    """A row's report (number, or title when unknown), recommendation number and component."""
    report = row["report_number"] or row["report_title"]
    return (str(report), str(row["rec_number"] or ""), str(row["component"] or ""))


def _expected_keys() -> list[tuple[str, str, str]]:
    """Every (report, recommendation, component) in the database, plus one row per report
    without recommendations."""
    rows = db.session.execute(
        sa.select(Report.number, Report.title, Recommendation.number, Component.abbreviation)
        .join(Recommendation, Recommendation.report_id == Report.id)
        .join(Addressee, Addressee.recommendation_id == Recommendation.id)
        .join(Component, Component.id == Addressee.component_id)
    ).all()
    keys = [
        (number or title, str(rec_number), abbreviation) for number, title, rec_number, abbreviation in rows
    ]
    empty = db.session.execute(
        sa.select(Report.number, Report.title).where(~Report.recommendations.any())
    ).all()
    keys += [(number or title, "", "") for number, title in empty]
    return sorted(keys)


def _component_id(abbreviation: str) -> int:
    found = db.session.scalar(sa.select(Component.id).where(Component.abbreviation == abbreviation))
    assert found is not None
    return found


def _counts() -> dict[str, int]:
    return {
        name: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for name, model in (
            ("reports", Report),
            ("recommendations", Recommendation),
            ("addressees", Addressee),
            ("audit", AuditEvent),
        )
    }


def _csv(rows: list[dict[str, str]]) -> bytes:
    """A CSV file with the columns the rows use, in the template's order."""
    columns = [k for k in KEYS if any(k in row for row in rows)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return buffer.getvalue().encode("utf-8")


NEW_REPORT = {
    "report_number": "OIG-99-01",
    "report_title": "A synthetic imported report (test fixture)",
    "report_issued_on": "2024-05-01",
    "report_type": "audit",
    "report_components": "FEMA; I&A",
}


def _new_rows() -> list[dict[str, str]]:
    """One new report, two recommendations, three addressees."""
    return [
        {
            **NEW_REPORT,
            "rec_number": "1",
            "rec_text": "Imported recommendation one.",
            "component": "FEMA",
            "lead": "yes",
            "concurrence": "concur",
        },
        {
            **NEW_REPORT,
            "rec_number": "1",
            "rec_text": "Imported recommendation one.",
            "component": "I&A",
            "lead": "no",
            "concurrence": "non-concur",
        },
        {
            **NEW_REPORT,
            "rec_number": "2",
            "rec_text": "Imported recommendation two.",
            "component": "I&A",
            "lead": "",
            "concurrence": "",
        },
    ]


def _import(data: bytes, *, commit: bool = True, filename: str = "test.csv") -> ImportResult:
    return run_import(
        db.session,
        ACTOR,
        read_sheet(data),
        filename=filename,
        data=data,
        commit=commit,
        today=clock.today(),
    )


def _upload(client: FlaskClient, data: bytes, name: str) -> Any:
    return client.post("/import", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def _report_numbers(*numbers: str) -> list[str]:
    return list(db.session.scalars(sa.select(Report.number).where(Report.number.in_(numbers))))


# --- exports ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "mimetype"),
    [
        ("csv", "text/csv"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
)
def test_exports_download_as_attachments(as_role, kind: str, mimetype: str) -> None:
    response = _export(as_role("oig"), kind)
    assert response.mimetype == mimetype
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(
        rf'attachment; filename="rectrack-recommendations-\d{{4}}-\d\d-\d\d\.{kind}"', disposition
    )
    assert response.headers["Cache-Control"] == "private, no-store"


def test_csv_header_is_the_column_keys_and_the_csv_is_streamed(as_role) -> None:
    response = as_role("oig").get("/recommendations/export.csv")
    assert response.status_code == 200
    assert response.is_streamed
    first_line = response.get_data(as_text=True).split("\r\n", 1)[0]
    assert first_line == "\ufeff" + ",".join(KEYS)
    assert len(KEYS) == len(COLUMNS) == 37


def test_xlsx_header_is_the_column_keys(as_role) -> None:
    header, _rows = _xlsx_rows(_export(as_role("oig"), "xlsx").get_data())
    assert header == list(KEYS)


def test_one_row_per_recommendation_and_component(as_role) -> None:
    client = as_role("admin")
    csv_rows = _csv_rows(_export(client, "csv").get_data())
    _header, xlsx_rows = _xlsx_rows(_export(client, "xlsx").get_data())
    expected = _expected_keys()
    assert sorted(_key(r) for r in csv_rows) == expected
    assert sorted(_key(r) for r in xlsx_rows) == expected
    addressees = db.session.scalar(sa.select(sa.func.count()).select_from(Addressee))
    empty_reports = db.session.scalar(
        sa.select(sa.func.count()).select_from(Report).where(~Report.recommendations.any())
    )
    assert len(csv_rows) == addressees + empty_reports
    # OIG-12-15 #3 is addressed to I&A (non-concur) and FEMA (concur): two rows.
    rec3 = {
        r["component"]: r for r in csv_rows if (r["report_number"], r["rec_number"]) == ("OIG-12-15", "3")
    }
    assert sorted(rec3) == ["FEMA", "I&A"]
    assert rec3["I&A"]["concurrence"] == "Non-concur"
    assert rec3["FEMA"]["concurrence"] == "Concur"
    assert rec3["FEMA"]["report_components"] == "FEMA; I&A"
    assert rec3["FEMA"]["report_issued_on"] == "2011-12-06"
    # Reports with no recommendation entered get one row with the recommendation columns blank.
    for number in ("OIG-08-71", "OIG-22-29"):
        rows = [r for r in csv_rows if r["report_number"] == number]
        assert len(rows) == 1
        assert rows[0]["rec_number"] == rows[0]["rec_text"] == rows[0]["component"] == ""


def _all_xlsx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return "".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())


def test_viewer_export_never_contains_restricted_text(as_role) -> None:
    viewer = as_role("viewer")
    viewer_csv = _export(viewer, "csv").get_data()
    viewer_xlsx = _export(viewer, "xlsx").get_data()
    for body in (viewer_csv.decode("utf-8"), _all_xlsx_text(viewer_xlsx)):
        assert "SYNTHETIC-RESTRICTED" not in body
        assert "TEST-R-1" not in body
    rows = _csv_rows(viewer_csv)
    assert rows  # the public reports are there
    assert {r["report_sensitivity"] for r in rows} == {"public"}
    assert {r["rec_sensitivity"] for r in rows if r["rec_number"]} == {"public"}

    admin = as_role("admin")
    admin_csv = _export(admin, "csv").get_data().decode("utf-8")
    admin_xlsx = _all_xlsx_text(_export(admin, "xlsx").get_data())
    for body in (admin_csv, admin_xlsx):
        assert "SYNTHETIC-RESTRICTED-IA" in body
        assert "SYNTHETIC-RESTRICTED-FEMA" in body


def test_liaison_export_shows_a_placeholder_for_a_restricted_recommendation(as_role) -> None:
    """The I&A liaison reads TEST-R-1 #1 (addressed to I&A) but not #2 (FEMA only)."""
    body = _export(as_role("liaison"), "csv").get_data()
    assert b"SYNTHETIC-RESTRICTED-FEMA" not in body
    rows = {r["rec_number"]: r for r in _csv_rows(body) if r["report_number"] == "TEST-R-1"}
    assert sorted(rows) == ["1", "2"]
    assert rows["1"]["rec_text"] == "SYNTHETIC-RESTRICTED-IA text for tests."
    assert rows["1"]["component"] == "I&A"
    placeholder = rows["2"]
    assert placeholder["rec_text"] == PLACEHOLDER
    assert placeholder["component"] == placeholder["response"] == placeholder["concurrence"] == ""


def test_viewer_export_shows_a_placeholder_for_a_restricted_recommendation_of_a_public_report(
    as_role,
) -> None:
    hidden = rec("OIG-12-15", 1)
    secret = hidden.text
    hidden.sensitivity = Sensitivity.RESTRICTED
    db.session.commit()
    body = _export(as_role("viewer"), "csv").get_data()
    assert secret.encode() not in body
    rows = [r for r in _csv_rows(body) if (r["report_number"], r["rec_number"]) == ("OIG-12-15", "1")]
    assert len(rows) == 1
    assert rows[0]["rec_text"] == PLACEHOLDER
    assert rows[0]["rec_sensitivity"] == "restricted"
    assert rows[0]["component"] == ""


def test_status_filter_closed_gives_no_recommendation_rows(as_role) -> None:
    client = as_role("admin")
    assert _csv_rows(_export(client, "csv", "status=closed").get_data()) == []
    header, rows = _xlsx_rows(_export(client, "xlsx", "status=closed").get_data())
    assert header == list(KEYS)
    assert rows == []


def test_status_filter_open_leaves_out_reports_without_recommendations(as_role) -> None:
    rows = _csv_rows(_export(as_role("admin"), "csv", "status=open").get_data())
    assert sorted(_key(r) for r in rows) == [k for k in _expected_keys() if k[1]]
    assert all(r["status"].startswith("Open") for r in rows)


def test_component_filter_keeps_only_recommendations_addressed_to_it(as_role) -> None:
    fema = _component_id("FEMA")
    expected = {("OIG-12-15", "3", "FEMA"), ("OIG-12-15", "3", "I&A"), ("TEST-R-1", "2", "FEMA")}
    csv_rows = _csv_rows(_export(as_role("admin"), "csv", f"component={fema}").get_data())
    assert sorted(_key(r) for r in csv_rows) == sorted(expected)
    _header, xlsx_rows = _xlsx_rows(
        _export(as_role("admin"), "xlsx", f"component={fema}&status=open").get_data()
    )
    assert sorted(_key(r) for r in xlsx_rows) == sorted(expected)
    # A viewer gets the same filter without the restricted report.
    viewer_rows = _csv_rows(_export(as_role("viewer"), "csv", f"component={fema}").get_data())
    assert sorted(_key(r) for r in viewer_rows) == sorted(expected - {("TEST-R-1", "2", "FEMA")})


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@"])
def test_formula_like_text_is_neutralised(as_role, prefix: str) -> None:
    text = f'{prefix}HYPERLINK("https://evil.example/","click me")'
    target = rec("OIG-12-15", 1)
    target.text = text
    db.session.commit()
    client = as_role("admin")

    csv_data = _export(client, "csv").get_data()
    row = next(r for r in _csv_rows(csv_data) if (r["report_number"], r["rec_number"]) == ("OIG-12-15", "1"))
    assert row["rec_text"] == "'" + text
    # Importing the export removes the apostrophe again.
    sheet = read_sheet(csv_data)
    values = next(v for _n, v in sheet.rows if (v["report_number"], v["rec_number"]) == ("OIG-12-15", "1"))
    assert values["rec_text"] == text

    workbook = load_workbook(io.BytesIO(_export(client, "xlsx").get_data()))
    sheet_xlsx = workbook.worksheets[0]
    header = [c.value for c in sheet_xlsx[1]]
    number_col, rec_col, text_col = (
        header.index("report_number"),
        header.index("rec_number"),
        header.index("rec_text"),
    )
    cells = [
        row[text_col]
        for row in sheet_xlsx.iter_rows(min_row=2)
        if row[number_col].value == "OIG-12-15" and row[rec_col].value == 1
    ]
    assert len(cells) == 1
    assert cells[0].value == text
    assert cells[0].data_type == "s"


# --- round trip -------------------------------------------------------------------------


@pytest.fixture
def scratch_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A separate empty database (a new SQLite file, or a new PostgreSQL database)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'round-trip.db'}"
        return
    name = "rectrack_import_round_trip_test"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


def _dump(session: Session) -> list[tuple[Any, ...]]:
    """Reports, recommendations and addressees as plain values, in a stable order."""
    reports = session.scalars(
        sa.select(Report)
        .options(
            selectinload(Report.components),
            selectinload(Report.recommendations)
            .selectinload(Recommendation.addressees)
            .joinedload(Addressee.component),
        )
        .execution_options(populate_existing=True)
    ).all()
    out = []
    for report in reports:
        recs = tuple(
            (
                r.number,
                r.text,
                r.text_source.value,
                r.significant,
                r.questioned_costs,
                r.funds_put_to_better_use,
                r.sensitivity.value,
                tuple(
                    sorted(
                        (
                            a.component.abbreviation,
                            a.is_lead,
                            a.concurrence.value,
                            a.response,
                            a.response_date,
                        )
                        for a in r.addressees
                    )
                ),
            )
            for r in sorted(report.recommendations, key=lambda r: r.number)
        )
        out.append(
            (
                report.number or "",
                report.title,
                report.issuing_office,
                report.issued_on,
                report.issued_on_approximate,
                report.report_type.value if report.report_type else None,
                report.sensitivity.value,
                report.url,
                report.recommendations_published,
                tuple(sorted(c.abbreviation for c in report.components)),
                recs,
            )
        )
    return sorted(out, key=lambda t: (t[0], t[1]))


def _table_counts(session: Session) -> tuple[int, int, int]:
    return tuple(
        session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Report, Recommendation, Addressee)
    )


def _component_rows() -> list[Any]:
    return db.session.execute(
        sa.select(Component.id, Component.abbreviation, Component.name, Component.parent_id, Component.active)
    ).all()


def _copy_components(rows: list[Any], target: Session) -> None:
    """The same components (abbreviation, name, parent, active), parents first."""
    abbreviation_of = {row.id: row.abbreviation for row in rows}
    created: dict[str, Component] = {}
    pending = list(rows)
    while pending:
        ready = [r for r in pending if r.parent_id is None or abbreviation_of[r.parent_id] in created]
        assert ready, "components with a parent cycle"
        for row in ready:
            component = Component(
                abbreviation=row.abbreviation,
                name=row.name,
                active=row.active,
                parent=created[abbreviation_of[row.parent_id]] if row.parent_id is not None else None,
            )
            target.add(component)
            created[row.abbreviation] = component
        pending = [r for r in pending if r not in ready]
        target.flush()


def test_xlsx_export_imports_back_into_an_empty_database(as_role, scratch_url: str) -> None:
    """An XLSX export, imported back into an empty database, gives the same reports,
    recommendations and addressees."""
    data = _export(as_role("admin"), "xlsx").get_data()
    expected = _dump(db.session)
    expected_counts = _table_counts(db.session)
    assert expected_counts[0] >= 5  # the seed reports and the synthetic restricted one
    assert any(t[0] == "TEST-R-1" for t in expected)
    assert any(t[0] == "" for t in expected)  # the report whose number is unknown
    components = _component_rows()

    scratch = create_app(TestingConfig(scratch_url))
    with scratch.app_context():
        upgrade()
        engine = db.engine
    try:
        with scratch.app_context(), AppSession(engine) as session:
            audit.set_actor(session, ACTOR)
            assert _table_counts(session) == (0, 0, 0)
            _copy_components(components, session)
            session.commit()
            result = run_import(
                session,
                ACTOR,
                read_sheet(data),
                filename="export.xlsx",
                data=data,
                commit=True,
                today=clock.today(),
            )
            assert result.problems == []
            assert result.committed
            session.commit()
            assert (
                result.created["reports"],
                result.created["recommendations"],
                result.created["addressees"],
            ) == (expected_counts)
        with AppSession(engine) as session:
            actual = _dump(session)
            actual_counts = _table_counts(session)
            imports = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "import")).all()
            assert [(e.actor_label, e.changes["file"]) for e in imports] == [
                ("tests: imports", "export.xlsx")
            ]
    finally:
        engine.dispose()
    assert actual_counts == expected_counts
    assert actual == expected


# --- idempotency ------------------------------------------------------------------------


def test_importing_the_same_file_twice_changes_nothing_the_second_time() -> None:
    data = _csv(_new_rows())
    before = _counts()
    first = _import(data)
    assert first.problems == []
    assert first.committed
    assert dict(first.created) == {"reports": 1, "recommendations": 2, "addressees": 3}
    after_first = _counts()
    assert after_first["recommendations"] == before["recommendations"] + 2
    assert after_first["addressees"] == before["addressees"] + 3

    second = _import(data)
    assert second.problems == []
    assert sum(second.created.values()) == 0
    assert sum(second.updated.values()) == 0
    assert dict(second.unchanged) == {"reports": 1, "recommendations": 2, "addressees": 3}
    after_second = _counts()
    for kind in ("reports", "recommendations", "addressees"):
        assert after_second[kind] == after_first[kind]

    report = report_by_number("OIG-99-01")
    assert [c.abbreviation for c in report.components] == ["FEMA", "I&A"]
    assert [
        (r.number, r.text, [(a.component.abbreviation, a.is_lead, a.concurrence.value) for a in r.addressees])
        for r in report.recommendations
    ] == [
        (1, "Imported recommendation one.", [("FEMA", True, "concur"), ("I&A", False, "non_concur")]),
        (2, "Imported recommendation two.", [("I&A", True, "pending")]),  # the only one leads
    ]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_an_export_imported_into_the_same_database_changes_nothing(as_role, kind: str) -> None:
    data = _export(as_role("admin"), kind).get_data()
    before = _dump(db.session)
    counts = _counts()
    result = _import(data, filename=f"export.{kind}")
    assert result.problems == []
    assert sum(result.created.values()) == 0
    assert sum(result.updated.values()) == 0
    assert result.unchanged["reports"] == counts["reports"]
    assert result.unchanged["recommendations"] == counts["recommendations"]
    assert result.unchanged["addressees"] == counts["addressees"]
    assert _dump(db.session) == before


# --- bad files --------------------------------------------------------------------------


FILE_PROBLEMS = [
    pytest.param(
        "unknown.csv",
        b"report_title,report_issued_on,colour\r\nA report,2024-01-01,red\r\n",
        "Unknown column: colour. Use the column names of the template.",
        id="unknown-column",
    ),
    pytest.param(
        "missing.csv",
        b"report_number,rec_number,rec_text\r\nOIG-99-01,1,Text\r\n",
        "Missing required columns: report_title, report_issued_on.",
        id="missing-columns",
    ),
    pytest.param(
        "report.pdf",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Length 256 >>\nstream\n" + bytes(range(256)),
        "This file is not a spreadsheet. Upload a CSV file or an Excel .xlsx workbook.",
        id="pdf",
    ),
    pytest.param(
        "noise.bin",
        random.Random(1234).randbytes(8192),
        "This file is not a spreadsheet. Upload a CSV file or an Excel .xlsx workbook.",
        id="random-binary",
    ),
    pytest.param(
        "broken.xlsx",
        b"PK\x03\x04" + b"not really a zip archive" * 10,
        "This file is not a spreadsheet. Upload a CSV file or an Excel .xlsx workbook.",
        id="fake-xlsx",
    ),
    pytest.param(
        "latin1.csv",
        "report_title,report_issued_on\r\nCaf\u00e9,2024-01-01\r\n".encode("latin-1"),
        "This file is not UTF-8 text",
        id="not-utf8",
    ),
    pytest.param("empty.csv", b"", "The file is empty.", id="empty"),
]


@pytest.mark.parametrize(("name", "data", "message"), FILE_PROBLEMS)
def test_unreadable_files_are_refused_by_the_reader(name: str, data: bytes, message: str) -> None:
    with pytest.raises(FileProblem) as caught:
        read_sheet(data)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(("name", "data", "message"), FILE_PROBLEMS)
def test_unreadable_files_show_their_problem_on_the_upload_page(
    as_role, name: str, data: bytes, message: str
) -> None:
    before = _counts()
    response = _upload(as_role("oig"), data, name)
    assert response.status_code == 200
    text = visible_text(response)
    assert message in text
    assert f"{name} can be imported" not in text
    assert 'name="token"' not in response.get_data(as_text=True)
    assert _counts() == before


ISSUE_DATE_FORMS = (
    "Write the issue date as 2024-09-27 (a day), 2024-09 (a month) or FY2024 (a federal fiscal year), "
    'or "not known".'
)
# the components of the suite's base data (tests/data/seed-reports.yaml), in order
KNOWN_COMPONENTS = (
    "Use an abbreviation from the Components page: CBP, DHS, FEMA, I&A, ICE, OCIO, OIA, OSA, USCG."
)

ROW_PROBLEMS = [
    pytest.param(
        [{**_new_rows()[0], "report_issued_on": "2024-02-30"}],
        [Problem(2, "report_issued_on", f"2024-02-30 is not a real date. {ISSUE_DATE_FORMS}")],
        id="bad-date",
    ),
    pytest.param(
        [
            {**_new_rows()[0], "report_issued_on": "May 1, 2024"},
            {**_new_rows()[2], "response_date": "2024-13-01"},
        ],
        [
            Problem(2, "report_issued_on", ISSUE_DATE_FORMS),
            Problem(3, "response_date", "Write a real date as YYYY-MM-DD, for example 2011-12-06."),
        ],
        id="bad-dates-on-two-rows",
    ),
    pytest.param(
        [_new_rows()[0], _new_rows()[1], _new_rows()[0]],
        [Problem(4, "component", "FEMA is already on row 2 for this recommendation.")],
        id="duplicate-number-and-component",
    ),
    pytest.param(
        [{**_new_rows()[0], "component": "NOPE"}],
        [Problem(2, "component", f"Unknown component: NOPE. {KNOWN_COMPONENTS}")],
        id="unknown-component",
    ),
    pytest.param(
        [{**_new_rows()[0], "report_components": "FEMA; XYZ"}],
        [Problem(2, "report_components", f"Unknown component: XYZ. {KNOWN_COMPONENTS}")],
        id="unknown-report-component",
    ),
    pytest.param(
        [_new_rows()[0], {**_new_rows()[1], "rec_text": "A different text for the same recommendation."}],
        [Problem(3, "rec_text", "Differs from row 2 for the same item.")],
        id="contradicting-rows",
    ),
    pytest.param(
        [_new_rows()[0], {**_new_rows()[1], "lead": "yes"}],
        [Problem(3, "lead", "Only one lead per recommendation (row 2 is one).")],
        id="two-leads",
    ),
]


@pytest.mark.parametrize(("rows", "problems"), ROW_PROBLEMS)
def test_row_problems_are_reported_by_row_and_column_and_change_nothing(
    rows: list[dict[str, str]], problems: list[Problem]
) -> None:
    before = _counts()
    result = _import(_csv(rows))
    assert result.problems == problems
    assert not result.ok
    assert not result.committed
    assert _counts() == before
    assert _report_numbers("OIG-99-01") == []


def test_an_issue_date_after_today_is_a_problem_and_today_is_not() -> None:
    today = clock.today()
    before = _counts()
    tomorrow = today + timedelta(days=1)
    result = _import(_csv([{**_new_rows()[0], "report_issued_on": tomorrow.isoformat()}]))
    assert result.problems == [
        Problem(
            2,
            "report_issued_on",
            f"The issue date cannot be later than today ({today:%B} {today.day}, {today.year}).",
        )
    ]
    assert not result.committed
    assert _counts() == before
    result = _import(_csv([{**_new_rows()[0], "report_issued_on": today.isoformat()}]))
    assert result.problems == []
    assert result.committed
    assert report_by_number("OIG-99-01").issued_on == today


def test_row_problems_are_listed_on_the_upload_page(as_role) -> None:
    before = _counts()
    data = _csv(
        [{**_new_rows()[0], "report_issued_on": "2024-02-30"}, {**_new_rows()[1], "component": "NOPE"}]
    )
    response = _upload(as_role("oig"), data, "bad.csv")
    assert response.status_code == 200
    text = visible_text(response)
    assert "2 problems in bad.csv" in text
    assert "Nothing was imported." in text
    assert f"2 report_issued_on 2024-02-30 is not a real date. {ISSUE_DATE_FORMS}" in text
    assert "3 component Unknown component: NOPE." in text
    assert _counts() == before


def test_a_50_mb_upload_gets_the_413_page(app: Flask, as_role) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] < 50 * MIB
    before = _counts()
    payload = b"report_title,report_issued_on\r\n" + b"x" * (50 * MIB)
    response = _upload(as_role("oig"), payload, "huge.csv")
    assert response.status_code == 413
    text = visible_text(response)
    assert "File too large" in text
    assert f"The largest file RecTrack accepts is {app.config['ATTACHMENT_MAX_BYTES'] // MIB} MB." in text
    assert _counts() == before


def test_a_placeholder_row_from_a_viewer_export_is_a_problem(as_role) -> None:
    hidden = rec("OIG-12-15", 1)
    hidden.sensitivity = Sensitivity.RESTRICTED
    db.session.commit()
    data = _export(as_role("viewer"), "csv").get_data()
    rows = _csv_rows(data)
    placeholder_rows = [n for n, r in enumerate(rows, start=2) if r["rec_text"] == PLACEHOLDER]
    assert len(placeholder_rows) == 1
    before = _counts()
    result = _import(data, filename="viewer-export.csv")
    assert result.problems == [Problem(placeholder_rows[0], "rec_text", PLACEHOLDER_MESSAGE)]
    assert _counts() == before
    assert rec("OIG-12-15", 1).text.startswith("Promote the benefits of the all-hazards approach")


def _all_or_nothing_rows() -> list[dict[str, str]]:
    """A valid new report, then a restricted report whose recommendation says public."""
    return [
        *_new_rows(),
        {
            "report_number": "OIG-99-02",
            "report_title": "A restricted synthetic report (test fixture)",
            "report_issued_on": "2024-06-01",
            "report_sensitivity": "restricted",
            "rec_number": "1",
            "rec_text": "A recommendation marked public on a restricted report.",
            "rec_sensitivity": "public",
            "component": "FEMA",
        },
    ]


ALL_OR_NOTHING_PROBLEM = Problem(
    5, "rec_sensitivity", "This report is restricted, so its recommendations must be restricted too."
)


def test_a_refused_row_rolls_back_the_whole_file() -> None:
    before = _counts()
    result = _import(_csv(_all_or_nothing_rows()))
    assert result.problems == [ALL_OR_NOTHING_PROBLEM]
    assert not result.committed
    assert _counts() == before
    assert _report_numbers("OIG-99-01", "OIG-99-02") == []
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "import")) is None


def test_a_refused_row_is_shown_in_the_dry_run_and_nothing_can_be_committed(as_role) -> None:
    before = _counts()
    response = _upload(as_role("oig"), _csv(_all_or_nothing_rows()), "mixed.csv")
    text = visible_text(response)
    assert "1 problem in mixed.csv" in text
    assert (
        "5 rec_sensitivity This report is restricted, so its recommendations must be restricted too." in text
    )
    assert 'name="token"' not in response.get_data(as_text=True)
    assert _counts() == before
    assert _report_numbers("OIG-99-01", "OIG-99-02") == []


# --- the web flow -----------------------------------------------------------------------


def _token(response: Any) -> str:
    found = re.search(r'<input[^>]*name="token"[^>]*value="([0-9a-f]{64})"', response.get_data(as_text=True))
    assert found is not None
    return found.group(1)


def test_oig_checks_a_file_then_commits_it(as_role) -> None:
    client = as_role("oig")
    before = _counts()
    response = _upload(client, _csv(_new_rows()), "new-reports.csv")
    assert response.status_code == 200
    text = visible_text(response)
    assert "new-reports.csv can be imported" in text
    assert "3 rows checked. Nothing has been saved yet." in text
    assert "Reports 1 0 0 Recommendations 2 0 0 Addressees 3 0 0" in text
    assert _counts() == before
    assert _report_numbers("OIG-99-01") == []

    token = _token(response)
    committed = client.post("/import/commit", data={"token": token})
    assert committed.status_code == 302
    assert committed.headers["Location"].endswith("/reports")
    report = report_by_number("OIG-99-01")
    assert report.title == "A synthetic imported report (test fixture)"
    assert [
        (r.number, sorted(a.component.abbreviation for a in r.addressees)) for r in report.recommendations
    ] == [
        (1, ["FEMA", "I&A"]),
        (2, ["I&A"]),
    ]
    after = _counts()
    assert after["reports"] == before["reports"] + 1
    assert after["recommendations"] == before["recommendations"] + 2
    assert after["addressees"] == before["addressees"] + 3
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "import"))
    assert event is not None
    assert event.actor_label == "oig@test.example"
    assert event.object_type == "imports"
    assert event.changes["file"] == "new-reports.csv"
    assert event.changes["rows"] == 3
    assert event.changes["created"] == {"reports": 1, "recommendations": 2, "addressees": 3}

    # The staged file is used up: the same token cannot be committed twice.
    again = client.post("/import/commit", data={"token": token})
    assert again.status_code == 409
    assert _counts()["recommendations"] == after["recommendations"]


def test_a_file_already_in_rectrack_offers_nothing_to_commit(as_role) -> None:
    client = as_role("oig")
    data = _export(client, "csv").get_data()
    response = _upload(client, data, "export.csv")
    text = visible_text(response)
    assert "export.csv can be imported" in text
    assert "Everything in the file is already in RecTrack." in text
    assert "Import these changes" not in text


def test_commit_refuses_a_token_that_is_not_one(as_role) -> None:
    assert as_role("oig").post("/import/commit", data={"token": "../../etc/passwd"}).status_code == 400
    assert as_role("oig").post("/import/commit", data={"token": "0" * 64}).status_code == 409


@pytest.mark.parametrize("role", ["liaison", "fema", "viewer"])
def test_only_oig_staff_may_import(as_role, role: str) -> None:
    client = as_role(role)
    before = _counts()
    assert client.get("/import").status_code == 403
    assert _upload(client, _csv(_new_rows()), "new.csv").status_code == 403
    assert client.post("/import/commit", data={"token": "0" * 64}).status_code == 403
    assert client.get("/import/template.csv").status_code == 403
    assert client.get("/import/template.xlsx").status_code == 403
    # Nothing imported; each of the five refusals is in the audit trail (outcome "denied").
    assert _counts() == {**before, "audit": before["audit"] + 5}
    outcomes = db.session.scalars(sa.select(AuditEvent.outcome).order_by(AuditEvent.id.desc()).limit(5))
    assert list(outcomes) == ["denied"] * 5


def test_admin_may_import(as_role) -> None:
    assert as_role("admin").get("/import").status_code == 200


# --- command line -----------------------------------------------------------------------


def test_cli_dry_run_saves_nothing(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "new.csv"
    path.write_bytes(_csv(_new_rows()))
    before = _counts()
    result = app.test_cli_runner().invoke(args=["import", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert (
        "Dry run, nothing saved. Would import: reports: 1 new, 0 changed, 0 unchanged; "
        "recommendations: 2 new, 0 changed, 0 unchanged; addressees: 3 new, 0 changed, 0 unchanged."
    ) in result.output
    assert _counts() == before
    assert _report_numbers("OIG-99-01") == []


def test_cli_import_saves(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "new.csv"
    path.write_bytes(_csv(_new_rows()))
    before = _counts()
    result = app.test_cli_runner().invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    assert "Imported 3 rows: reports: 1 new" in result.output
    assert _report_numbers("OIG-99-01") == ["OIG-99-01"]
    after = _counts()
    assert after["recommendations"] == before["recommendations"] + 2
    assert after["addressees"] == before["addressees"] + 3
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "import"))
    assert event is not None
    assert event.actor_label == "cli: import"
    assert event.changes["file"] == "new.csv"


@pytest.mark.parametrize(
    ("rows", "line"),
    [
        (
            [{**_new_rows()[0], "report_issued_on": "2024-02-30"}],
            f"row 2, report_issued_on: 2024-02-30 is not a real date. {ISSUE_DATE_FORMS}",
        ),
        (
            _all_or_nothing_rows(),
            "row 5, rec_sensitivity: This report is restricted, so its recommendations must be "
            "restricted too.",
        ),
    ],
    ids=["bad-date", "all-or-nothing"],
)
def test_cli_import_with_problems_fails_and_saves_nothing(
    app: Flask, tmp_path: Path, rows: list[dict[str, str]], line: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(_csv(rows))
    before = _counts()
    result = app.test_cli_runner().invoke(args=["import", str(path)])
    assert result.exit_code != 0
    assert line in result.output
    assert "1 problem(s); nothing was imported." in result.output
    assert _counts() == before
    assert _report_numbers("OIG-99-01", "OIG-99-02") == []


def test_cli_refuses_a_file_that_is_not_a_spreadsheet(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)))
    before = _counts()
    result = app.test_cli_runner().invoke(args=["import", str(path)])
    assert result.exit_code != 0
    assert "This file is not a spreadsheet." in result.output
    assert _counts() == before


# --- templates --------------------------------------------------------------------------


def test_csv_template_is_exactly_the_header(as_role) -> None:
    response = as_role("oig").get("/import/template.csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="rectrack-import-template.csv"'
    assert response.get_data().decode("utf-8-sig") == ",".join(KEYS) + "\r\n"
    sheet = read_sheet(response.get_data())
    assert sheet.columns == KEYS
    assert sheet.rows == []


def test_xlsx_template_has_the_header_and_a_columns_sheet(as_role) -> None:
    response = as_role("oig").get("/import/template.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="rectrack-import-template.xlsx"'
    workbook = load_workbook(io.BytesIO(response.get_data()))
    assert workbook.sheetnames == ["Recommendations", "Columns"]
    assert [list(r) for r in workbook["Recommendations"].iter_rows(values_only=True)] == [list(KEYS)]
    explained = list(workbook["Columns"].iter_rows(values_only=True))
    assert explained[0] == ("column", "what to write")
    assert explained[1:] == [(c.key, c.description) for c in COLUMNS]
    sheet = read_sheet(response.get_data())
    assert sheet.kind == "xlsx"
    assert sheet.columns == KEYS
    assert sheet.rows == []
