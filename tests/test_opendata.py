"""Open data (issue 16, "Open data"): the daily CSV and JSON files of public
recommendations, their listing, data dictionary and anonymous downloads.

Expected values are written out from the suite's fixture data (tests/data/seed-reports.yaml
and the restricted report TEST-R-1 of tests/conftest.py), never read back from the code
under test."""

from __future__ import annotations

import csv
import importlib
import io
import json
import re
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import Flask

from app import audit, clock, storage
from app.extensions import db
from app.models import AuditEvent, Blob, IssuePrecision, OpenDataFile, Sensitivity
from app.opendata import records, services
from tests.conftest import rec, visible_text

HSIN_TITLE = "DHS Partners Did Not Always Use DHS Technology to Obtain Emerging Threat Information"
# The fixture's public recommendations: OIG-12-15 #1-#4 and the HSIN report (no number) #1-#3.
PUBLIC = {
    ("OIG-12-15", "1"),
    ("OIG-12-15", "2"),
    ("OIG-12-15", "3"),
    ("OIG-12-15", "4"),
    ("", "1"),
    ("", "2"),
    ("", "3"),
}
# TEST-R-1's two restricted recommendations.
WITHHELD = 2
RESTRICTED_MARKERS = ("SYNTHETIC-RESTRICTED", "TEST-R-1", "Synthetic restricted report")
CPG_502_TEXT = (
    "Ensure that CPG-502 and other federal guidance regarding coordination and information "
    "sharing between Fusion Centers and EOCs is disseminated to all state, local, and tribal "
    "EOCs; promote the benefits of using CPG-502; and ensure that it is applicable to local EOCs."
)
HEADER = [
    "report_number",
    "report_title",
    "report_date",
    "report_date_precision",
    "report_date_approximate",
    "report_url",
    "recommendation_number",
    "recommendation_text",
    "recommendation_text_source",
    "significant",
    "questioned_costs",
    "funds_for_better_use",
    "status",
    "components",
    "lead_component",
    "concurrence",
    "priority",
    "target_dates",
    "tracked_since",
    "resolved_on",
    "closed_on",
    "last_status_change",
]


def _build(app: Flask) -> services.Built:
    audit.set_actor(db.session, audit.AuditActor.system("tests: open data"))
    built = services.build(db.session, storage.blob_store(app.config), now=clock.now(), today=clock.today())
    db.session.commit()
    return built


def _file(app: Flask, name: str) -> bytes:
    entry = db.session.get(OpenDataFile, name)
    assert entry is not None, name
    data = storage.blob_store(app.config).get(db.session, entry.sha256)
    assert data is not None
    return data


def _csv_rows(data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    return list(reader.fieldnames or []), list(reader)


def _long_date(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def test_the_files_hold_exactly_the_public_recommendations(app: Flask) -> None:
    built = _build(app)
    assert (built.rows, built.withheld) == (7, WITHHELD)
    header, rows = _csv_rows(_file(app, "recommendations.csv"))
    assert header == HEADER
    assert len(rows) == 7
    assert {(r["report_number"], r["recommendation_number"]) for r in rows} == PUBLIC
    document = json.loads(_file(app, "recommendations.json"))
    assert document["count"] == 7
    assert document["withheld"] == WITHHELD
    assert document["as_of"] == clock.today().isoformat()
    assert document["fields"] == HEADER
    assert {
        (r["report_number"] or "", str(r["recommendation_number"])) for r in document["recommendations"]
    } == PUBLIC
    assert all(list(r) == HEADER for r in document["recommendations"])


def test_no_restricted_text_in_either_file(app: Flask) -> None:
    """TEST-R-1 (a restricted report) and a restricted recommendation of a public report
    are left out entirely, and counted."""
    four = rec("OIG-12-15", 4)
    four.sensitivity = Sensitivity.RESTRICTED
    hidden_text = four.text
    db.session.commit()
    built = _build(app)
    assert (built.rows, built.withheld) == (6, WITHHELD + 1)
    for name in ("recommendations.csv", "recommendations.json"):
        text = _file(app, name).decode("utf-8")
        for marker in (*RESTRICTED_MARKERS, hidden_text, "portion-marked"):
            assert marker not in text, (name, marker)
    _, rows = _csv_rows(_file(app, "recommendations.csv"))
    assert ("OIG-12-15", "4") not in {(r["report_number"], r["recommendation_number"]) for r in rows}


def test_a_public_recommendation_of_a_restricted_report_is_left_out(app: Flask) -> None:
    three = rec("OIG-12-15", 3)
    three.report.sensitivity = Sensitivity.RESTRICTED
    db.session.commit()
    built = _build(app)
    assert (built.rows, built.withheld) == (3, WITHHELD + 4)
    assert b"CPG-502" not in _file(app, "recommendations.csv")
    assert b"OIG-12-15" not in _file(app, "recommendations.json")


def test_the_csv_header_is_the_data_dictionary(app: Flask, client: Any) -> None:
    _build(app)
    page = client.get("/open-data/dictionary")
    assert page.status_code == 200
    listed = re.findall(
        r'<th scope="row" data-label="Field"><code>([a-z_]+)</code></th>', page.get_data(as_text=True)
    )
    assert listed == HEADER
    header, _ = _csv_rows(_file(app, "recommendations.csv"))
    assert header == listed
    text = visible_text(page)
    assert "The files of " + _long_date(clock.today()) + " leave out 2 recommendations" in text
    assert "Not recorded in RecTrack for this recommendation" in text  # significant, costs, funds


CPG_502_CSV = {
    "report_number": "OIG-12-15",
    "report_title": "Relationships Between Fusion Centers and Emergency Operations Centers",
    "report_date": "2011-12-06",
    "report_date_precision": "day",
    "report_date_approximate": "no",
    "report_url": "",
    "recommendation_number": "3",
    "recommendation_text": CPG_502_TEXT,
    "recommendation_text_source": "summary",
    "significant": "",
    "questioned_costs": "",
    "funds_for_better_use": "",
    "status": "Open–Unresolved",
    "components": "FEMA; I&A",
    "lead_component": "",
    "concurrence": "FEMA: Concur; I&A: Non-concur",
    "priority": "no",
    "target_dates": "",
    "tracked_since": "2011-12-06",
    "resolved_on": "",
    "closed_on": "",
    "last_status_change": "2011-12-06",
}
CPG_502_JSON = {
    "report_number": "OIG-12-15",
    "report_title": "Relationships Between Fusion Centers and Emergency Operations Centers",
    "report_date": "2011-12-06",
    "report_date_precision": "day",
    "report_date_approximate": False,
    "report_url": None,
    "recommendation_number": 3,
    "recommendation_text": CPG_502_TEXT,
    "recommendation_text_source": "summary",
    "significant": None,
    "questioned_costs": None,
    "funds_for_better_use": None,
    "status": "Open–Unresolved",
    "components": ["FEMA", "I&A"],
    "lead_component": None,
    "concurrence": {"FEMA": "Concur", "I&A": "Non-concur"},
    "priority": False,
    "target_dates": {},
    "tracked_since": "2011-12-06",
    "resolved_on": None,
    "closed_on": None,
    "last_status_change": "2011-12-06",
}


def _cpg_502(app: Flask) -> tuple[dict[str, str], dict[str, Any]]:
    _, rows = _csv_rows(_file(app, "recommendations.csv"))
    (csv_row,) = [r for r in rows if r["report_number"] == "OIG-12-15" and r["recommendation_number"] == "3"]
    document = json.loads(_file(app, "recommendations.json"))
    (json_row,) = [
        r
        for r in document["recommendations"]
        if r["report_number"] == "OIG-12-15" and r["recommendation_number"] == 3
    ]
    return csv_row, json_row


def test_cpg_502_in_csv_and_json_field_by_field(app: Flask) -> None:
    _build(app)
    csv_row, json_row = _cpg_502(app)
    for name in HEADER:
        assert csv_row[name] == CPG_502_CSV[name], name
        assert json_row[name] == CPG_502_JSON[name], name


def test_money_dates_and_flags_as_written(app: Flask) -> None:
    """Recorded values: FEMA as lead with a target date, priority, costs in cents."""
    three = rec("OIG-12-15", 3)
    fema = next(a for a in three.addressees if a.component.abbreviation == "FEMA")
    fema.is_lead, fema.target_date = True, date(2027, 3, 31)
    three.priority, three.priority_reason = True, "Test: named a priority."
    three.significant = True
    three.questioned_costs = records.Decimal("1234567.5")
    three.funds_put_to_better_use = records.Decimal("0")
    db.session.commit()
    _build(app)
    csv_row, json_row = _cpg_502(app)
    assert (csv_row["lead_component"], json_row["lead_component"]) == ("FEMA", "FEMA")
    assert (csv_row["components"], json_row["components"]) == ("FEMA; I&A", ["FEMA", "I&A"])
    assert (csv_row["target_dates"], json_row["target_dates"]) == ("FEMA: 2027-03-31", {"FEMA": "2027-03-31"})
    assert (csv_row["priority"], json_row["priority"]) == ("yes", True)
    assert (csv_row["significant"], json_row["significant"]) == ("yes", True)
    assert (csv_row["questioned_costs"], json_row["questioned_costs"]) == ("1234567.50", 1234567.5)
    assert (csv_row["funds_for_better_use"], json_row["funds_for_better_use"]) == ("0.00", 0)


def test_issue_dates_at_their_precision() -> None:
    assert records.report_date(date(2011, 12, 6), IssuePrecision.DAY) == "2011-12-06"
    assert records.report_date(date(2024, 9, 30), IssuePrecision.MONTH) == "2024-09"
    assert records.report_date(date(2024, 9, 30), IssuePrecision.FISCAL_YEAR) == "2023-10-01/2024-09-30"
    assert records.report_date(None, IssuePrecision.DAY) is None


def test_hsin_report_without_a_number(app: Flask) -> None:
    """The HSIN report: no number, an approximate date, a URL, costs recorded as 0."""
    _build(app)
    _, rows = _csv_rows(_file(app, "recommendations.csv"))
    hsin = [r for r in rows if r["report_title"] == HSIN_TITLE]
    assert [r["recommendation_number"] for r in hsin] == ["1", "2", "3"]
    first = hsin[0]
    assert first["report_number"] == ""
    assert first["report_date"] == "2024-09-27"
    assert first["report_date_approximate"] == "yes"
    assert first["report_url"].startswith("https://www.oversight.gov/reports/audit/")
    assert (first["significant"], first["questioned_costs"], first["funds_for_better_use"]) == (
        "no",
        "0.00",
        "0.00",
    )
    assert (first["components"], first["lead_component"]) == ("OSA; I&A", "OSA")
    assert first["concurrence"] == "OSA: Pending; I&A: Pending"


def test_building_again_the_same_day_replaces_the_set(app: Flask) -> None:
    _build(app)
    first = {e.name: e.sha256 for e in db.session.scalars(sa.select(OpenDataFile))}
    three = rec("OIG-12-15", 3)
    three.priority, three.priority_reason = True, "Test: named a priority."
    db.session.commit()
    _build(app)
    files = db.session.scalars(sa.select(OpenDataFile).order_by(OpenDataFile.name)).all()
    assert [f.name for f in files] == ["recommendations.csv", "recommendations.json"]
    assert all(f.as_of == clock.today() for f in files)
    assert all(first[f.name] != f.sha256 for f in files)
    csv_row, json_row = _cpg_502(app)
    assert (csv_row["priority"], json_row["priority"]) == ("yes", True)
    # The first set's bytes are referenced by nothing now: storage gc may remove them.
    referenced = set(db.session.scalars(storage.referenced_hashes()))
    assert not set(first.values()) & referenced
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "open data build")).all()
    assert len(events) == 2
    assert all(e.actor_role == "system" for e in events)
    assert events[-1].changes["rows"] == 7
    assert events[-1].changes["withheld"] == WITHHELD


def test_human_sizes() -> None:
    assert services.human_size(0) == "0 bytes"
    assert services.human_size(999) == "999 bytes"
    assert services.human_size(1000) == "1.0 KB"
    assert services.human_size(12_345) == "12.3 KB"
    assert services.human_size(4_500_000) == "4.5 MB"
    assert services.human_size(7_260_000_000) == "7.3 GB"


def test_the_listing_shows_date_and_size(app: Flask, client: Any) -> None:
    _build(app)
    csv_size = len(_file(app, "recommendations.csv"))
    json_size = len(_file(app, "recommendations.json"))
    page = client.get("/open-data")  # signed out
    assert page.status_code == 200
    text = visible_text(page)
    assert f"Files as of {_long_date(clock.today())}: 7 public recommendations" in text
    for name, size in (("recommendations.csv", csv_size), ("recommendations.json", json_size)):
        # sizes of a few kilobytes: written to one decimal, as a reader sees them
        assert f"{name} " in text
        assert f"{size / 1000:.1f} KB" in text, (name, size)
    body = page.get_data(as_text=True)
    assert 'href="/open-data/recommendations.csv"' in body
    assert 'href="/open-data/recommendations.json"' in body
    assert "2 recommendations were left out" in text


def test_anonymous_download_is_served_and_audited(app: Flask, client: Any) -> None:
    _build(app)
    today = clock.today().isoformat()
    for name, mimetype in (("recommendations.csv", "text/csv"), ("recommendations.json", "application/json")):
        response = client.get(f"/open-data/{name}")
        assert response.status_code == 200, name
        assert response.mimetype == mimetype
        stem, extension = name.split(".")
        assert (
            response.headers["Content-Disposition"]
            == f'attachment; filename="rectrack-{stem}-{today}.{extension}"'
        )
        assert response.get_data() == _file(app, name)
        etag = response.headers["ETag"]
        assert response.headers["Last-Modified"]
        again = client.get(f"/open-data/{name}", headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert client.head(f"/open-data/{name}").status_code == 200
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "open data download").order_by(AuditEvent.id)
    ).all()
    assert [e.changes["file"] for e in events] == [
        "recommendations.csv",
        "recommendations.json",
    ]  # not the 304s or HEADs
    assert all(e.actor_role == "anonymous" and e.actor_id is None for e in events)
    assert events[0].changes["as_of"] == today


def test_no_file_yet_friendly_page_and_404(client: Any) -> None:
    page = client.get("/open-data")
    assert page.status_code == 200
    assert "No open-data file has been built yet" in visible_text(page)
    dictionary = client.get("/open-data/dictionary")
    assert dictionary.status_code == 200
    assert "No file has been built yet" in visible_text(dictionary)
    for name in ("recommendations.csv", "recommendations.json"):
        assert client.get(f"/open-data/{name}").status_code == 404


def test_a_file_whose_bytes_are_gone_is_404(app: Flask, client: Any) -> None:
    _build(app)
    db.session.execute(sa.delete(Blob))
    db.session.commit()
    assert client.get("/open-data/recommendations.csv").status_code == 404


def test_the_footer_links_open_data(client: Any) -> None:
    assert 'href="/open-data"' in client.get("/login").get_data(as_text=True)


def test_the_build_command(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["opendata", "build"])
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"Open data as of {clock.today().isoformat()}: 7 public recommendations, "
        "2 restricted recommendations left out.\n"
    )
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "open data build"))
    assert event is not None
    assert (event.actor_role, event.actor_label) == ("system", "cli: opendata build")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OpenDataFile)) == 2


def test_the_beat_task_builds_daily(app: Flask) -> None:
    importlib.import_module("app.opendata.tasks")  # registers the task
    celery = app.extensions["celery"]
    entry = celery.conf.beat_schedule["opendata-build"]
    assert entry["task"] == "rectrack.opendata_build"
    assert "app.opendata.tasks" in celery.conf.include  # a worker registers the task at start
    assert entry["schedule"].hour == {5}
    assert entry["schedule"].minute == {15}
    assert celery.tasks["rectrack.opendata_build"]() == 7
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "open data build"))
    assert event is not None
    assert event.actor_role == "system"


def test_files_with_no_recommendation_are_still_valid() -> None:
    files = services.Writer()
    document = json.loads(files.json_bytes(generated_at=clock.now(), as_of=date(2026, 11, 16), withheld=3))
    assert (document["count"], document["withheld"], document["recommendations"]) == (0, 3, [])
    assert document["as_of"] == "2026-11-16"
    header, rows = _csv_rows(files.csv_bytes())
    assert (header, rows) == (HEADER, [])
