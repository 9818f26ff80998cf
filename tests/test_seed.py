"""The seed data: the real facts of the four reports, nothing invented, loaded idempotently."""

from __future__ import annotations

import sqlalchemy as sa
import yaml

from app.audit import AuditActor
from app.extensions import db
from app.models import AuditEvent, Component, Concurrence, Recommendation, Report, TextSource
from app.seed.services import SEED_FILE, load_seed
from tests.conftest import rec, report_by_number

HSIN_TITLE = "DHS Partners Did Not Always Use DHS Technology to Obtain Emerging Threat Information"


def test_seed_file_is_the_shared_facts_file(root):
    shared = root.parent / "shared" / "data" / "seed-reports.yaml"
    if shared.exists():  # the project's copy must not drift from the curated facts
        assert SEED_FILE.read_text() == shared.read_text()


def test_nine_components_with_parents():
    components = {c.abbreviation: c for c in db.session.scalars(sa.select(Component))}
    assert set(components) >= {"DHS", "I&A", "FEMA", "OIA", "CBP", "ICE", "USCG", "OSA", "OCIO"}
    assert components["I&A"].parent_id == components["DHS"].id
    assert components["DHS"].parent_id is None


def test_oig_12_15_shows_4_of_8_and_the_cpg_502_split(as_role):
    report = report_by_number("OIG-12-15")
    assert report.recommendations_published == 8
    cpg = rec("OIG-12-15", 3)
    concurrence = {a.component.abbreviation: a.concurrence for a in cpg.addressees}
    assert concurrence == {"I&A": Concurrence.NON_CONCUR, "FEMA": Concurrence.CONCUR}
    assert "CPG-502" in cpg.text

    page = as_role("viewer").get(f"/reports/{report.id}").get_data(as_text=True)
    assert "4 of 8 recommendations entered" in page
    assert "Non-concur" in page
    assert "better directed to FEMA" in page


def test_oig_08_71_shows_0_of_18(as_role):
    report = report_by_number("OIG-08-71")
    page = as_role("viewer").get(f"/reports/{report.id}").get_data(as_text=True)
    assert "0 of 18 recommendations entered" in page
    assert report.report_type is None  # "unknown" in the facts file stays unknown


def test_hsin_report_has_three_recommendations_third_partial(as_role):
    report = report_by_number(None, HSIN_TITLE)
    assert report.number is None
    assert report.issued_on_approximate
    recs = sorted(report.recommendations, key=lambda r: r.number)
    assert [r.number for r in recs] == [1, 2, 3]
    assert recs[2].text_source == TextSource.PARTIAL
    assert all(a.concurrence == Concurrence.PENDING for r in recs for a in r.addressees)
    lead = {a.component.abbreviation for a in recs[0].addressees if a.is_lead}
    assert lead == {"OSA"}
    page = as_role("viewer").get(f"/reports/{report.id}").get_data(as_text=True)
    assert "3 recommendations entered; number published not known" in page
    assert "Partial text" in page
    assert "Number not known" in page


def test_no_recommendation_text_is_invented():
    facts = yaml.safe_load(SEED_FILE.read_text())
    known = {
        (r.get("number") or r["title"], item["number"]): item["text"].strip()
        for r in facts["reports"]
        for item in r.get("recommendations") or []
    }
    stored = db.session.execute(
        sa.select(sa.func.coalesce(Report.number, Report.title), Recommendation.number, Recommendation.text)
        .join(Report)
        .where(~Report.number.like("TEST-%") | Report.number.is_(None))
    ).all()
    assert {(k, n): t for k, n, t in stored} == known


def test_seeding_twice_changes_nothing():
    before_events = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    counts = [
        db.session.scalar(sa.select(sa.func.count()).select_from(m))
        for m in (Component, Report, Recommendation)
    ]
    result = load_seed(db.session, AuditActor.system("tests"))
    db.session.flush()
    assert result.summary() == "nothing to change"
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == before_events
    assert [
        db.session.scalar(sa.select(sa.func.count()).select_from(m))
        for m in (Component, Report, Recommendation)
    ] == counts


def test_seed_command_twice(app):
    """`flask seed` on a seeded database (moved here from test_config_cli.py)."""
    runner = app.test_cli_runner()
    assert "nothing to change" in runner.invoke(args=["seed"]).output


def test_an_existing_component_gets_a_parent_created_in_the_same_load():
    from app.seed.services import SeedResult, _load_components

    db.session.add(Component(abbreviation="TESTCHILD", name="Synthetic child (test fixture)", active=True))
    db.session.flush()
    items = [
        {"abbreviation": "TESTPARENT", "name": "Synthetic parent (test fixture)"},
        {"abbreviation": "TESTCHILD", "name": "Synthetic child (test fixture)", "parent": "TESTPARENT"},
    ]
    found = _load_components(db.session, items, SeedResult())
    assert found["TESTCHILD"].parent_id == found["TESTPARENT"].id is not None
