"""The seed: the real DHS OIG record (app/seed/data/dhs-oig-reports.yaml), nothing
invented, loaded idempotently.

The suite's base data is the four-report file of the first seed (tests/data); these tests
load the full real record on top of it, inside the test's transaction. Expected values
are written out by hand from the YAML file."""

from __future__ import annotations

import html
from datetime import date

import sqlalchemy as sa
import yaml

from app.audit import AuditActor
from app.extensions import db
from app.models import (
    AuditEvent,
    Component,
    Concurrence,
    IssuePrecision,
    ListedStatus,
    Recommendation,
    RecStatus,
    Report,
    ReportType,
    TextSource,
)
from app.seed.services import SEED_FILE, SeedResult, load_seed
from tests.conftest import FIXTURE_SEED, rec, report_by_number, visible_text

HSIN_TITLE = "DHS Partners Did Not Always Use DHS Technology to Obtain Emerging Threat Information"
TSA_TITLE = "TSA Policies Impede Effective Coordination and Investigation of Misconduct Allegations"
LOAD_DAY = date(2026, 11, 2)  # passed explicitly, unlike the suite's base data (the frozen today)

COMPONENTS = {
    "DHS": None,
    "I&A": "DHS",
    "FEMA": "DHS",
    "OIA": "DHS",
    "CBP": "DHS",
    "ICE": "DHS",
    "USCG": "DHS",
    "OSA": "DHS",
    "OCIO": "DHS",
    "TSA": "DHS",
    "USCIS": "DHS",
    "USSS": "DHS",
    "CISA": "DHS",
    "S&T": "DHS",
    "MGMT": "DHS",
    "OTE": "DHS",
    "OBIM": "DHS",
    "DNDO": "DHS",
    "NPPD": "DHS",
    "OPS": "DHS",
}
NO_NUMBER_LOADED = {
    HSIN_TITLE,
    "CBP Did Not Effectively Conduct International Mail Screening or Implement the STOP Act - (REDACTED)",
    "CBP's Management of International Mail Facilities Puts Officer Safety and Mission Requirements at Risk",
    "DHS Needs to Improve Its Screening and Vetting of Asylum Seekers and Noncitizens Applying for "
    "Admission into the United States",
    TSA_TITLE,
}


def _real() -> SeedResult:
    result = load_seed(db.session, AuditActor.system("tests"), today=LOAD_DAY)
    db.session.commit()  # the test's savepoint: pages see it; the test's transaction is still rolled back
    return result


def _count(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def _real_reports() -> sa.Select[tuple[int]]:
    return sa.select(sa.func.count(Report.id)).where(
        sa.or_(Report.number.is_(None), ~Report.number.like("TEST-%"))
    )


def test_the_project_copies_are_the_shared_facts_files(root):
    shared = root.parent / "shared" / "data"
    for copy, name in ((SEED_FILE, "dhs-oig-reports.yaml"), (FIXTURE_SEED, "seed-reports.yaml")):
        if (shared / name).exists():  # the project's copies must not drift from the curated facts
            assert copy.read_text() == (shared / name).read_text()


def test_the_real_record_loads_all_68_reports_and_74_recommendations():
    result = _real()
    # the base data already holds 4 of these reports, 7 recommendations, 9 components
    assert (result.created["reports"], result.created["recommendations"], result.created["components"]) == (
        64,
        67,
        11,
    )
    assert db.session.scalar(_real_reports()) == 68
    # the two whose number no source gives: loaded, number not known
    unnumbered = db.session.execute(
        sa.select(Report.number, Recommendation.text_source)
        .join(Recommendation.report)
        .where(Recommendation.number.is_(None))
        .order_by(Report.number)
    ).all()
    assert [tuple(r) for r in unnumbered] == [
        ("OIG-21-68", TextSource.VERBATIM),
        ("OIG-22-31", TextSource.VERBATIM),
    ]
    tsa = report_by_number(None, TSA_TITLE)  # no number, no date, no fiscal year in the file
    assert (tsa.issued_on, tsa.issue_date, len(tsa.recommendations)) == (None, None, 5)
    real_recs = sa.select(sa.func.count(Recommendation.id)).join(Report).where(~Report.number.like("TEST-%"))
    no_number = sa.select(sa.func.count(Recommendation.id)).join(Report).where(Report.number.is_(None))
    assert (db.session.scalar(real_recs) or 0) + (db.session.scalar(no_number) or 0) == 74
    names = db.session.scalars(sa.select(Report.title).where(Report.number.is_(None))).all()
    assert set(names) == NO_NUMBER_LOADED


def test_twenty_components_each_with_its_parent():
    _real()
    components = {c.id: c for c in db.session.scalars(sa.select(Component))}
    by_abbreviation = {c.abbreviation: c for c in components.values()}
    assert set(by_abbreviation) >= set(COMPONENTS)
    assert {
        a: components[by_abbreviation[a].parent_id].abbreviation if by_abbreviation[a].parent_id else None
        for a in COMPONENTS
    } == COMPONENTS


def test_seeding_the_real_record_twice_changes_nothing():
    _real()
    db.session.flush()
    before_events = _count(AuditEvent)
    counts = [_count(m) for m in (Component, Report, Recommendation)]
    result = _real()
    db.session.flush()
    assert result.summary() == "nothing to change"
    assert _count(AuditEvent) == before_events
    assert [_count(m) for m in (Component, Report, Recommendation)] == counts


def test_no_recommendation_text_is_invented():
    _real()
    facts = yaml.safe_load(SEED_FILE.read_text())
    known = {
        (r.get("number") or r["title"], item.get("number")): item["text"].strip()
        for r in facts["reports"]
        for item in r.get("recommendations") or []
    }
    stored = db.session.execute(
        sa.select(sa.func.coalesce(Report.number, Report.title), Recommendation.number, Recommendation.text)
        .join(Report)
        .where(~Report.number.like("TEST-%") | Report.number.is_(None))
    ).all()
    assert {(k, n): t for k, n, t in stored} == known
    assert len(known) == 74


def test_oig_12_15_still_shows_4_of_8_and_i_and_a_non_concurrence(as_role):
    _real()
    report = report_by_number("OIG-12-15")
    assert report.recommendations_published == 8
    cpg = rec("OIG-12-15", 3)
    concurrence = {a.component.abbreviation: a.concurrence for a in cpg.addressees}
    assert concurrence == {"I&A": Concurrence.NON_CONCUR, "FEMA": Concurrence.CONCUR}
    page = as_role("viewer").get(f"/reports/{report.id}").get_data(as_text=True)
    assert "4 of 8 recommendations entered" in page
    assert "Non-concur" in page
    assert "better directed to FEMA" in page
    assert 'href="http://www.oig.dhs.gov/assets/Mgmt/OIG_12-15_Dec11.pdf"' in page
    assert "Date read in: preface date stamp" in page


def test_issue_dates_as_precise_as_the_file(as_role):
    _real()
    expected = {
        "OIG-24-56": (date(2024, 9, 30), IssuePrecision.FISCAL_YEAR, False, "FY2024"),
        "OIG-22-32": (date(2022, 9, 30), IssuePrecision.FISCAL_YEAR, False, "FY2022"),
        "OIG-21-66": (date(2021, 9, 30), IssuePrecision.FISCAL_YEAR, False, "FY2021"),
        "OIG-24-49": (date(2024, 9, 3), IssuePrecision.DAY, False, "September 3, 2024"),
        "OIG-22-10": (date(2022, 1, 10), IssuePrecision.DAY, True, "about January 10, 2022"),
    }
    client = as_role("viewer")
    for number, (on, precision, approximate, shown) in expected.items():
        report = report_by_number(number)
        assert (report.issued_on, report.issued_precision, report.issued_on_approximate) == (
            on,
            precision,
            approximate,
        ), number
        assert f"Issued {shown}" in visible_text(client.get(f"/reports/{report.id}")), number
    mail = report_by_number(
        None,
        "CBP Did Not Effectively Conduct International Mail Screening or Implement the STOP Act - (REDACTED)",
    )
    assert (mail.issued_on, mail.issued_precision) == (date(2023, 9, 30), IssuePrecision.FISCAL_YEAR)
    text = visible_text(client.get(f"/reports/{mail.id}"))
    assert "Report number Not found in the sources read" in text
    assert (
        "Issued FY2023 Only the federal fiscal year is known (October 1, 2022 to September 30, 2023)" in text
    )


def test_report_types_the_oig_uses():
    _real()
    assert report_by_number("OIG-17-50-VR").report_type == ReportType.VERIFICATION_REVIEW
    assert report_by_number("OIG-16-102-D").report_type == ReportType.MANAGEMENT_ADVISORY
    assert report_by_number("OIG-18-21").report_type == ReportType.SPECIAL_REPORT
    assert report_by_number("OIG-09-43").report_type == ReportType.INVESTIGATION
    assert report_by_number("OIG-21-66").report_type is None  # "unknown" stays unknown


def test_a_listed_status_is_a_fact_about_a_page_not_a_decision(as_role):
    _real()
    closed = rec("OIG-23-42", 4)
    assert (closed.listed_status, closed.listed_read_on) == (ListedStatus.CLOSED, None)
    assert closed.status == RecStatus.OPEN_UNRESOLVED  # nothing was decided in RecTrack
    assert closed.addressees[0].concurrence == Concurrence.PENDING  # not stated in the file
    text = visible_text(as_role("viewer").get(f"/recommendations/{closed.id}"))
    assert (
        "Listed as closed on api.ai-analytics.org, a copy of oversight.gov data (date read not recorded)."
        in text
    )
    unresolved = rec("OIG-21-66", 1)
    text = visible_text(as_role("viewer").get(f"/recommendations/{unresolved.id}"))
    assert "Listed as open and unresolved on oig.dhs.gov (date read not recorded)." in text
    assert {a.component.abbreviation: (a.is_lead, a.concurrence) for a in unresolved.addressees} == {
        "DHS": (True, Concurrence.NON_CONCUR),
        "TSA": (False, Concurrence.PENDING),
        "USCG": (False, Concurrence.PENDING),
    }
    uscg = rec("OIG-24-56", 1)
    text = visible_text(as_role("viewer").get(f"/recommendations/{uscg.id}"))
    assert "Listed as open on oversight.gov (date read not recorded)." in text
    no_listing = rec("OIG-24-49", 1)
    assert no_listing.listed_status is None
    assert "Listed as" not in visible_text(as_role("viewer").get(f"/recommendations/{no_listing.id}"))


def test_text_source_and_tracking_date_on_the_recommendation_page(as_role):
    _real()
    client = as_role("viewer")
    for report_number, number, source, shown in (
        ("OIG-24-56", 1, TextSource.VERBATIM, "Text Verbatim"),
        ("OIG-24-56", 4, TextSource.PARTIAL, "Text Partial: cut off in every copy read"),
        ("OIG-21-24", 1, TextSource.SUMMARY, "Text Summary"),
    ):
        found = rec(report_number, number)
        assert found.text_source == source
        text = visible_text(client.get(f"/recommendations/{found.id}"))
        assert shown in text
        assert "Tracked in RecTrack since November 2, 2026" in text  # the load day
    # the base data is tracked from issuance (conftest._track_from_issuance: OIG-12-15 was
    # issued December 6, 2011); loading the real record keeps that
    assert rec("OIG-12-15", 1).tracked_since == date(2011, 12, 6)


def test_every_real_recommendation_page_links_its_sources(as_role):
    _real()
    client = as_role("viewer")
    # two written out by hand from the file
    for report_number, number, url in (
        ("OIG-23-34", 2, "https://oversight.gov/node/294713"),
        ("OIG-23-42", 4, "https://api.ai-analytics.org/ig-recommendation/95700.md"),
    ):
        page = client.get(f"/recommendations/{rec(report_number, number).id}").get_data(as_text=True)
        assert f'href="{url}"' in page
    # and every loaded recommendation: its own source, its report's page and sources
    facts = yaml.safe_load(SEED_FILE.read_text())
    checked = 0
    for item in facts["reports"]:
        report = report_by_number(item["number"], item["title"])
        ids = {(r.number, r.text): r.id for r in report.recommendations}
        urls = [s for s in item["sources"] if s.startswith("http")] + (
            [item["url"]] if item.get("url") else []
        )
        for rec_item in item.get("recommendations") or []:
            rec_id = ids[(rec_item.get("number"), rec_item["text"].strip())]
            page = client.get(f"/recommendations/{rec_id}").get_data(as_text=True)
            wanted = urls + ([rec_item["source"]] if rec_item.get("source") else [])
            assert wanted, f"{report} #{rec_item['number']} has no source link in the file"
            for url in wanted:
                assert f'href="{html.escape(url)}"' in page, (report.label, rec_item["number"], url)
            checked += 1
    assert checked == 74


def test_the_base_data_four_reports_still_load_from_the_first_file(as_role):
    """The suite's own data (tests/data/seed-reports.yaml) as before."""
    report = report_by_number("OIG-08-71")
    page = as_role("viewer").get(f"/reports/{report.id}").get_data(as_text=True)
    assert "0 of 18 recommendations entered" in page
    assert report.report_type is None
    hsin = report_by_number(None, HSIN_TITLE)
    recs = sorted(hsin.recommendations, key=lambda r: r.number)
    assert [r.number for r in recs] == [1, 2, 3]
    assert recs[2].text_source == TextSource.PARTIAL
    assert all(a.concurrence == Concurrence.PENDING for r in recs for a in r.addressees)
    assert {a.component.abbreviation for a in recs[0].addressees if a.is_lead} == {"OSA"}
    page = as_role("viewer").get(f"/reports/{hsin.id}").get_data(as_text=True)
    assert "3 recommendations entered; number published not known" in page
    assert "Partial text" in page
    assert "Number not known" in page


def test_seed_command_twice(app):
    """The suite's base data holds 4 of the real file's reports; the first run adds the
    rest (and says what it cannot load), the second changes nothing."""
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed"]).output
    assert "64 reports created" in first
    assert "RecTrack now holds 69 reports" in first  # 68 real and the suite's restricted one
    assert "Not loaded" not in first
    second = runner.invoke(args=["seed"]).output
    assert "Seed data: nothing to change." in second


def test_an_existing_component_gets_a_parent_created_in_the_same_load():
    from app.seed.services import _load_components

    db.session.add(Component(abbreviation="TESTCHILD", name="Synthetic child (test fixture)", active=True))
    db.session.flush()
    items = [
        {"abbreviation": "TESTPARENT", "name": "Synthetic parent (test fixture)"},
        {"abbreviation": "TESTCHILD", "name": "Synthetic child (test fixture)", "parent": "TESTPARENT"},
    ]
    found = _load_components(db.session, items, SeedResult())
    assert found["TESTCHILD"].parent_id == found["TESTPARENT"].id is not None
