"""A recommendation whose number no source gives (two of the 74 real ones: OIG-22-31's
management alert recommendation and OIG-21-68's). It is entered with "not known", shown
as "number not known", sorted after the numbered ones, and identified in files by its
text; a known number is still a whole number from 1 to 999, unique in its report."""

from __future__ import annotations

import csv
import io
import re

import sqlalchemy as sa

from app import audit, clock
from app.extensions import db
from app.imports.services import ImportResult
from app.models import AuditEvent, Component, Recommendation
from app.seed.services import load_seed
from tests.conftest import report_by_number, visible_text
from tests.sheets import csv_of, import_file

ACTOR = audit.AuditActor.system("tests: number not known")
# OIG-22-31 as dhs-oig-reports.yaml gives it: the recommendation's text as quoted in news
# coverage, its number not known; ICE did not concur.
ALERT_TITLE = (
    "Management Alert - Immediate Removal of All Detainees from the Torrance County Detention Facility"
)
ALERT_TEXT = (
    "We recommend the Acting Director of ICE immediately relocate all detainees from Torrance County "
    "Detention Facility and place no detainees there unless and until the facility ensures adequate "
    "staffing and appropriate living conditions."
)


def _cid(abbreviation: str) -> int:
    found = db.session.scalar(sa.select(Component.id).where(Component.abbreviation == abbreviation))
    assert found is not None
    return found


def _form(number: str, text: str) -> dict[str, str]:
    return {
        "number": number,
        "text": text,
        "text_source": "verbatim",
        "sensitivity": "public",
        "questioned_costs": "",
        "funds_put_to_better_use": "",
        "save": "y",
        "addressees-0-component_id": str(_cid("I&A")),
        "addressees-0-concurrence": "pending",
        "addressees-0-response": "",
        "addressees-0-response_date": "",
    }


def _unnumbered(report_id: int) -> list[Recommendation]:
    return list(
        db.session.scalars(
            sa.select(Recommendation)
            .where(Recommendation.report_id == report_id, Recommendation.number.is_(None))
            .order_by(Recommendation.id)
        )
    )


def test_oig_enters_two_recommendations_whose_numbers_are_not_known(as_role) -> None:
    report = report_by_number("OIG-08-71")
    report_id = report.id
    client = as_role("oig")
    url = f"/reports/{report_id}/recommendations/new"
    assert client.post(url, data=_form("Not known", "Share threat information first.")).status_code == 302
    assert client.post(url, data=_form("not known", "Share threat information second.")).status_code == 302
    assert client.post(url, data=_form("2", "Share threat information third.")).status_code == 302
    first, second = _unnumbered(report_id)
    assert (first.text, second.text) == (
        "Share threat information first.",
        "Share threat information second.",
    )
    page = client.get(f"/reports/{report_id}").get_data(as_text=True)
    # numbered first, then those whose number is not known, in the order entered
    sections = re.findall(r'<section class="rt-rec[^"]*" id="([^"]+)"', page)
    assert sections == ["rec-2", f"rec-id-{first.id}", f"rec-id-{second.id}"]
    # each: its heading and its "in full" link
    assert visible_text(client.get(f"/reports/{report_id}")).count("Recommendation, number not known") == 4
    detail = visible_text(client.get(f"/recommendations/{first.id}"))
    assert "Recommendation, number not known" in detail
    edit = client.get(f"/recommendations/{first.id}/edit").get_data(as_text=True)
    assert 'value="not known"' in edit


def test_a_number_is_still_a_whole_number_from_1_to_999_and_a_blank_is_refused(as_role) -> None:
    report_id = report_by_number("OIG-08-71").id
    client = as_role("oig")
    url = f"/reports/{report_id}/recommendations/new"
    for typed, message in (
        ("0", "Enter a whole number from 1 to 999."),
        ("nope", "Enter a whole number, such as 3, or “not known”."),
        ("", "Enter the recommendation's number as printed in the report, or “not known”."),
    ):
        page = visible_text(client.post(url, data=_form(typed, "Share threat information.")))
        assert message in page, typed
    assert _unnumbered(report_id) == []


def test_the_audit_trail_names_it_in_words(as_role) -> None:
    report_id = report_by_number("OIG-08-71").id
    client = as_role("oig")
    client.post(f"/reports/{report_id}/recommendations/new", data=_form("not known", "Share it."))
    labels = db.session.scalars(
        sa.select(AuditEvent.object_label).where(AuditEvent.object_type == "recommendations")
    ).all()
    assert "OIG-08-71 (number not known)" in labels


# --- import and export ------------------------------------------------------------------


def _csv(rows: list[dict[str, str]]) -> bytes:
    return csv_of(rows)


def _import(data: bytes) -> ImportResult:
    return import_file(data, ACTOR, "alert.csv")


def test_import_and_export_carry_not_known_and_find_it_again_by_its_text(as_role) -> None:
    load_seed(db.session, ACTOR, today=clock.today(), components_only=True)  # ICE
    db.session.commit()
    row = {
        "report_number": "OIG-22-31",
        "report_title": ALERT_TITLE,
        "report_issued_on": "2022-03-16",
        "report_issued_on_approximate": "yes",
        "report_type": "management_alert",
        "report_components": "ICE",
        "rec_number": "not known",
        "rec_text": ALERT_TEXT,
        "rec_text_source": "verbatim",
        "component": "ICE",
        "lead": "yes",
        "concurrence": "non_concur",
    }
    result = _import(_csv([row]))
    assert result.problems == []
    report_id = report_by_number("OIG-22-31").id
    (rec,) = _unnumbered(report_id)
    assert rec.text == ALERT_TEXT
    exported = as_role("oig").get(f"/recommendations/export.csv?report={report_id}")
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r["rec_number"], r["rec_text"]) for r in rows] == [("not known", ALERT_TEXT)]
    again = _import(exported.get_data())
    assert again.problems == []
    assert (again.created["recommendations"], again.updated["recommendations"]) == (0, 0)
    assert again.unchanged["recommendations"] == 1
    assert len(_unnumbered(report_id)) == 1
