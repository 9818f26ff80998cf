"""Importing real recommendations of reports that are not in the seed: CISA and USCIS
addressees, issue dates known only to the fiscal year. Every value below was read in the
public source cited beside it; nothing is filled in (a blank stays blank).

- OIG-23-19, "CISA Made Progress but Resources, Staffing, and Technology Challenges Hinder
  Cyber Threat Detection and Mitigation": the four recommendation texts, "Significant
  Recommendation: No", $0 questioned costs and $0 funds for better use as listed on
  https://www.oversight.gov/reports/audit/cisa-made-progress-resources-staffing-and-technology-challenges-hinder-cyber-threat
  (the number from https://www.defensedaily.com/solarwinds-breach-revealed-shortcomings-at-cisa-dhs-ig-report-shows/cyber/).
  FY2023: DHS OIG numbers reports by fiscal year (OIG-23-xx), and the report was covered
  in March 2023. Concurrence is not stated in what was read: left blank (Pending).
- OIG-13-97, "U.S. Citizenship and Immigration Services' Tracking and Monitoring of
  Potentially Fraudulent Petitions and Applications for Family-Based Immigration
  Benefits": the transmittal memorandum (June 12, 2013, so FY2013) says "The report
  contains one recommendation aimed at improving procedures to record, update, and monitor
  fraud-related information. Your office concurred with the recommendation."
  (https://pdfslide.net/documents/oig-13-97-us-citizenship-and-immigration-services-tracking-and.html).
  The recommendation's own wording was not read, so the text is that sentence, marked as
  a summary; it is recommendation 1 because it is the only one.
"""

from __future__ import annotations

import csv
import io
from datetime import date

import sqlalchemy as sa

from app import audit, clock
from app.extensions import db
from app.imports.services import ImportResult, Problem
from app.models import Component, Concurrence, IssuePrecision, Recommendation, Report, TextSource
from app.seed.services import load_seed
from tests.conftest import rec, report_by_number, visible_text
from tests.sheets import csv_of, import_file

ACTOR = audit.AuditActor.system("tests: real import")
CISA_URL = (
    "https://www.oversight.gov/reports/audit/"
    "cisa-made-progress-resources-staffing-and-technology-challenges-hinder-cyber-threat"
)
CISA_TITLE = (
    "CISA Made Progress but Resources, Staffing, and Technology Challenges Hinder Cyber Threat "
    "Detection and Mitigation"
)
CISA_TEXTS = {
    1: "We recommend the CISA Director update CISA’s Continuity of Operations Plan and develop and "
    "implement an information system contingency plan, to ensure availability of redundant systems, "
    "capabilities, and communication methods to use if primary systems or networks are compromised.",
    2: "We recommend the CISA Director require the facility and operations staff conduct an assessment "
    "to determine whether secure facility space is appropriately sized and configured to meet "
    "operational needs and document any changes necessary for staff to obtain and maintain appropriate "
    "access to intelligence information.",
    3: "We recommend the CISA Director require an assessment to document the levels of staffing, "
    "resources, and intelligence access needed for operational divisions, cyber detection and "
    "mitigation capabilities, and support functions.",
    4: "We recommend the CISA Director create and implement a long-term plan for the Cybersecurity "
    "Division that includes provisions for ownership, operations, and maintenance of the National "
    "Cybersecurity Protection System’s data analytics capabilities.",
}
USCIS_URL = (
    "https://pdfslide.net/documents/oig-13-97-us-citizenship-and-immigration-services-tracking-and.html"
)
USCIS_TITLE = (
    "U.S. Citizenship and Immigration Services’ Tracking and Monitoring of Potentially Fraudulent "
    "Petitions and Applications for Family-Based Immigration Benefits"
)
USCIS_TEXT = (
    "The report contains one recommendation aimed at improving procedures to record, update, and "
    "monitor fraud-related information."
)


def _rows() -> list[dict[str, str]]:
    cisa = {
        "report_number": "OIG-23-19",
        "report_title": CISA_TITLE,
        "report_issued_on": "FY2023",
        "report_type": "audit",
        "report_url": CISA_URL,
        "report_recommendations_published": "",
        "report_components": "CISA",
        "rec_text_source": "verbatim",
        "rec_significant": "no",
        "rec_questioned_costs": "0.00",
        "rec_funds_put_to_better_use": "0.00",
        "component": "CISA",
        "lead": "yes",
        "concurrence": "",
    }
    uscis = {
        "report_number": "OIG-13-97",
        "report_title": USCIS_TITLE,
        "report_issued_on": "FY2013",
        "report_type": "",
        "report_url": USCIS_URL,
        "report_recommendations_published": "1",
        "report_components": "USCIS",
        "rec_number": "1",
        "rec_text": USCIS_TEXT,
        "rec_text_source": "summary",
        "rec_significant": "",
        "rec_questioned_costs": "",
        "rec_funds_put_to_better_use": "",
        "component": "USCIS",
        "lead": "yes",
        "concurrence": "concur",
    }
    return [{**cisa, "rec_number": str(n), "rec_text": t} for n, t in CISA_TEXTS.items()] + [uscis]


def _csv(rows: list[dict[str, str]]) -> bytes:
    return csv_of(rows)


def _import(data: bytes) -> ImportResult:
    return import_file(data, ACTOR, "real.csv")


def _components() -> None:
    """What `flask --app app seed` gives every database: the 20 DHS components."""
    load_seed(db.session, ACTOR, today=clock.today(), components_only=True)
    db.session.commit()


def _counts() -> tuple[int, int]:
    return (
        db.session.scalar(sa.select(sa.func.count(Report.id))) or 0,
        db.session.scalar(sa.select(sa.func.count(Recommendation.id))) or 0,
    )


def test_without_the_seeded_components_cisa_is_unknown_and_the_known_ones_are_listed() -> None:
    before = _counts()
    result = _import(_csv(_rows()))
    known = "Use an abbreviation from the Components page: CBP, DHS, FEMA, I&A, ICE, OCIO, OIA, OSA, USCG."
    assert Problem(2, "report_components", f"Unknown component: CISA. {known}") in result.problems
    assert Problem(6, "component", f"Unknown component: USCIS. {known}") in result.problems
    assert not result.committed
    assert _counts() == before


def test_real_cisa_and_uscis_recommendations_import_with_zero_problems(as_role) -> None:
    _components()
    result = _import(_csv(_rows()))
    assert result.problems == []
    assert (result.created["reports"], result.created["recommendations"], result.created["addressees"]) == (
        2,
        5,
        5,
    )
    cisa = report_by_number("OIG-23-19")
    assert (cisa.issued_on, cisa.issued_precision, cisa.issued_first_day) == (
        date(2023, 9, 30),
        IssuePrecision.FISCAL_YEAR,
        date(2022, 10, 1),
    )
    assert {r.number: r.text for r in cisa.recommendations} == CISA_TEXTS
    assert all(a.concurrence == Concurrence.PENDING for r in cisa.recommendations for a in r.addressees)
    uscis = rec("OIG-13-97", 1)
    assert (uscis.text_source, [(a.component.abbreviation, a.concurrence) for a in uscis.addressees]) == (
        TextSource.SUMMARY,
        [("USCIS", Concurrence.CONCUR)],
    )
    assert uscis.report.issued_on == date(2013, 9, 30)
    assert uscis.tracked_since == clock.today()  # tracked from the day it was imported
    text = visible_text(as_role("viewer").get(f"/reports/{cisa.id}"))
    assert "Issued FY2023" in text
    assert "4 recommendations entered; number published not known" in text
    page = as_role("viewer").get(f"/recommendations/{uscis.id}").get_data(as_text=True)
    assert f'href="{USCIS_URL}"' in page


def test_the_real_rows_export_and_import_back_unchanged(as_role) -> None:
    _components()
    assert _import(_csv(_rows())).problems == []
    exported = as_role("admin").get("/recommendations/export.csv").get_data()
    rows = list(csv.DictReader(io.StringIO(exported.decode("utf-8")[1:])))
    mine = {
        (r["report_number"], r["rec_number"]): r
        for r in rows
        if r["report_number"] in ("OIG-23-19", "OIG-13-97")
    }
    assert len(mine) == 5
    for row in _rows():  # every value written in the file comes back as written
        out = mine[(row["report_number"], row["rec_number"])]
        for column, value in row.items():
            expected = {"concurrence": {"": "Pending", "concur": "Concur"}}.get(column, {}).get(value, value)
            if column == "lead":
                expected = value or "no"
            assert out[column] == expected, (row["report_number"], row["rec_number"], column)
    again = _import(exported)
    assert again.problems == []
    assert sum(again.created.values()) == sum(again.updated.values()) == 0


def test_bad_issue_dates_get_a_row_and_column_message_and_nothing_is_saved() -> None:
    _components()
    before = _counts()
    for value, message in (
        ("FY24", "Write the fiscal year with four digits, such as FY2024 (not FY24)."),
        ("2024-13", "2024-13 is not a month: write it as 2024-09 (month 01 to 12)."),
        (
            "2024-9-31",
            "2024-9-31 is not a real date. Write the issue date as 2024-09-27 (a day), 2024-09 (a month) "
            'or FY2024 (a federal fiscal year), or "not known".',
        ),
    ):
        rows = _rows()
        rows[4] = {**rows[4], "report_issued_on": value}
        result = _import(_csv(rows))
        assert result.problems == [Problem(6, "report_issued_on", message)], value
        assert not result.committed
        assert _counts() == before


def test_an_admin_adds_a_component_under_dhs_and_import_accepts_it(as_role) -> None:
    _components()
    dhs = db.session.scalar(sa.select(Component).where(Component.abbreviation == "DHS"))
    assert dhs is not None
    form = {
        "abbreviation": "CWMD",
        "name": "Countering Weapons of Mass Destruction Office",
        "parent_id": str(dhs.id),
        "active": "y",
    }
    assert as_role("admin").post("/components/new", data=form).status_code == 302
    added = db.session.scalar(sa.select(Component).where(Component.abbreviation == "CWMD"))
    assert added is not None
    assert added.parent_id == dhs.id
    synthetic = {
        "report_number": "OIG-99-77",
        "report_title": "A synthetic report (test fixture) addressed to a component added by an admin",
        "report_issued_on": "2024-09",
        "rec_number": "1",
        "rec_text": "Synthetic recommendation text (test fixture).",
        "component": "CWMD",
    }
    result = _import(_csv([synthetic]))
    assert result.problems == []
    report = report_by_number("OIG-99-77")
    assert (report.issued_on, report.issued_precision) == (date(2024, 9, 30), IssuePrecision.MONTH)
    assert [a.component.abbreviation for r in report.recommendations for a in r.addressees] == ["CWMD"]
