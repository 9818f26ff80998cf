"""Entering recommendations with their addressees, and who can read them."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Component, Concurrence, Recommendation, RecStatus
from tests.conftest import rec, report_by_number, submit


def _cid(abbr: str) -> int:
    return db.session.scalar(sa.select(Component.id).where(Component.abbreviation == abbr))


def _form(number: str = "5", rows: list[dict[str, str]] | None = None, **overrides: str) -> dict[str, str]:
    data = {
        "number": number,
        "text": "Establish written procedures for sharing threat information with EOCs.",
        "text_source": "verbatim",
        "sensitivity": "public",
        "questioned_costs": "",
        "funds_put_to_better_use": "",
        "save": "y",
    }
    for i, row in enumerate(rows if rows is not None else [{"component_id": str(_cid("I&A"))}]):
        data[f"addressees-{i}-component_id"] = row.get("component_id", "")
        data[f"addressees-{i}-concurrence"] = row.get("concurrence", "pending")
        data[f"addressees-{i}-response"] = row.get("response", "")
        data[f"addressees-{i}-response_date"] = row.get("response_date", "")
        if row.get("is_lead"):
            data[f"addressees-{i}-is_lead"] = "y"
    data.update(overrides)
    return data


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Recommendation.id)))


def test_oig_adds_a_recommendation_to_two_components(as_role) -> None:
    report = report_by_number("OIG-12-15")
    rows = [
        {
            "component_id": str(_cid("I&A")),
            "is_lead": "y",
            "concurrence": "concur",
            "response_date": "2012-02-01",
        },
        {
            "component_id": str(_cid("FEMA")),
            "concurrence": "partially_concur",
            "response": "FEMA will revise CPG-502.",
        },
    ]
    response = as_role("oig").post(
        f"/reports/{report.id}/recommendations/new", data=_form(rows=rows, questioned_costs="$1,250,000.50")
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("#rec-5")
    new = rec("OIG-12-15", 5)
    assert new.status == RecStatus.OPEN_UNRESOLVED
    assert new.questioned_costs == Decimal("1250000.50")
    assert new.funds_put_to_better_use is None
    by_component = {a.component.abbreviation: a for a in new.addressees}
    assert by_component["I&A"].is_lead
    assert not by_component["FEMA"].is_lead
    assert by_component["FEMA"].concurrence == Concurrence.PARTIAL
    page = as_role("viewer").get(f"/reports/{report.id}").get_data(as_text=True)
    assert "5 of 8 recommendations entered" in page


def test_new_form_suggests_the_next_free_number(as_role) -> None:
    report = report_by_number("OIG-12-15")
    page = as_role("oig").get(f"/reports/{report.id}/recommendations/new").get_data(as_text=True)
    assert 'name="number" type="text" value="5"' in page or 'value="5"' in page


def test_single_addressee_becomes_the_lead(as_role) -> None:
    report = report_by_number("OIG-08-71")
    assert (
        as_role("oig").post(f"/reports/{report.id}/recommendations/new", data=_form(number="1")).status_code
        == 302
    )
    assert rec("OIG-08-71", 1).addressees[0].is_lead


def test_add_row_button_adds_a_row_without_saving(as_role) -> None:
    report = report_by_number("OIG-12-15")
    data = _form()
    data.pop("save")
    data["add_row"] = "y"
    before = _count()
    page = as_role("oig").post(f"/reports/{report.id}/recommendations/new", data=data).get_data(as_text=True)
    assert 'name="addressees-1-component_id"' in page
    assert _count() == before


def _rows(*abbrs: str, leads: tuple[str, ...] = ()) -> list[dict[str, str]]:
    return [{"component_id": str(_cid(a)), **({"is_lead": "y"} if a in leads else {})} for a in abbrs]


@pytest.mark.parametrize(
    ("overrides", "rows", "message"),
    [
        ({"number": "3"}, None, "OIG-12-15 already has a recommendation 3."),
        ({"number": "0"}, None, "Enter a whole number from 1 to 999."),
        # and no range message
        ({"number": "three"}, None, "Enter a whole number, such as 3, or “not known”.</span>"),
        ({"text": "   "}, None, "Enter the recommendation&#39;s text."),
        ({"questioned_costs": "-5"}, None, "The amount cannot be negative."),
        ({"questioned_costs": "lots"}, None, "Enter an amount in dollars"),
        ({"questioned_costs": "NaN"}, None, "Enter an amount in dollars"),
        ({"funds_put_to_better_use": "10.005"}, None, "Use at most two decimal places (cents)."),
        ({"funds_put_to_better_use": "1e15"}, None, "The amount is too large."),
        ({"questioned_costs": "1e309"}, None, "The amount is too large."),
        ({"questioned_costs": "-Infinity"}, None, "Enter an amount in dollars"),
        ({}, [{"component_id": ""}], "Choose at least one component"),
        ({}, "dup", "This component is already listed above."),
        ({}, "two-leads", "Mark only one component as the lead."),
        ({}, [{"component_id": "", "response": "orphan response"}], "Choose a component for this row."),
        ({}, "future", "The response date cannot be in the future."),
        ({}, "before-issue", "The response date cannot be before the report was issued."),
    ],
)
def test_bad_input_gets_a_message_and_saves_nothing(as_role, overrides, rows, message) -> None:
    report = report_by_number("OIG-12-15")
    if rows == "dup":
        rows = _rows("I&A", "I&A")
    elif rows == "two-leads":
        rows = _rows("I&A", "FEMA", leads=("I&A", "FEMA"))
    elif rows == "future":
        rows = [{"component_id": str(_cid("I&A")), "response_date": "2999-01-01"}]
    elif rows == "before-issue":
        rows = [{"component_id": str(_cid("I&A")), "response_date": "2010-01-01"}]
    before = _count()
    response = as_role("oig").post(
        f"/reports/{report.id}/recommendations/new", data=_form(rows=rows, **overrides)
    )
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _count() == before


@pytest.mark.parametrize("name", ["questioned_costs", "funds_put_to_better_use"])
def test_amounts_reach_the_server_as_typed(as_role, name: str) -> None:
    """A number input (type="number") lets the browser replace what it cannot read as a
    double, such as 1e309, with an empty value: the server would then save "Not recorded"
    without a word. Amounts are text inputs with a decimal keyboard; the server checks them."""
    report = report_by_number("OIG-12-15")
    page = as_role("oig").get(f"/reports/{report.id}/recommendations/new").get_data(as_text=True)
    tag = re.search(rf'<input[^>]*\bid="{name}"[^>]*>', page)
    assert tag, name
    assert 'type="text"' in tag.group(0)
    assert 'inputmode="decimal"' in tag.group(0)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("text_source", "rumour"),
        ("sensitivity", "top-secret"),
        ("addressees-0-concurrence", "maybe"),
        ("addressees-0-component_id", "424242"),
    ],
)
def test_tampered_choices_are_a_bad_request(as_role, field: str, value: str) -> None:
    report = report_by_number("OIG-12-15")
    before = _count()
    response = as_role("oig").post(f"/reports/{report.id}/recommendations/new", data=_form(**{field: value}))
    assert response.status_code == 400
    assert _count() == before


def test_restricted_report_needs_restricted_recommendations(as_role) -> None:
    report = report_by_number("TEST-R-1")
    page = (
        as_role("oig")
        .post(f"/reports/{report.id}/recommendations/new", data=_form(number="3"))
        .get_data(as_text=True)
    )
    assert "This report is restricted, so its recommendations must be restricted too." in page


def test_editing_moves_the_lead_and_drops_a_row(as_role) -> None:
    cpg = rec("OIG-12-15", 3)
    client = as_role("oig")
    data = _form(number="3", rows=_rows("I&A", "FEMA", leads=("FEMA",)), text=cpg.text, text_source="summary")
    assert submit(client, f"/recommendations/{cpg.id}/edit", data=data).status_code == 302
    assert {a.component.abbreviation for a in rec("OIG-12-15", 3).addressees if a.is_lead} == {"FEMA"}
    data = _form(number="3", rows=_rows("I&A", "FEMA", leads=("I&A",)), text=cpg.text, text_source="summary")
    assert submit(client, f"/recommendations/{cpg.id}/edit", data=data).status_code == 302
    assert {a.component.abbreviation for a in rec("OIG-12-15", 3).addressees if a.is_lead} == {"I&A"}
    data = _form(number="3", rows=_rows("FEMA"), text=cpg.text, text_source="summary")
    assert submit(client, f"/recommendations/{cpg.id}/edit", data=data).status_code == 302
    assert [(a.component.abbreviation, a.is_lead) for a in rec("OIG-12-15", 3).addressees] == [("FEMA", True)]


def test_edit_form_is_filled_with_addressee_rows(as_role) -> None:
    cpg = rec("OIG-12-15", 3)
    page = as_role("oig").get(f"/recommendations/{cpg.id}/edit").get_data(as_text=True)
    assert 'name="addressees-1-component_id"' in page
    assert "better directed to FEMA" in page
    assert '<option selected value="non_concur">' in page


def test_viewer_never_sees_restricted_recommendation_text(as_role) -> None:
    client = as_role("viewer")
    hidden = rec("TEST-R-1", 1)
    assert client.get(f"/recommendations/{hidden.id}").status_code == 403
    for url in ("/reports", "/components", f"/recommendations/{rec('OIG-12-15', 1).id}"):
        assert "SYNTHETIC-RESTRICTED" not in client.get(url).get_data(as_text=True)


def test_liaisons_see_restricted_recommendations_of_their_own_components_only(as_role) -> None:
    ia, fema = rec("TEST-R-1", 1), rec("TEST-R-1", 2)
    assert as_role("liaison").get(f"/recommendations/{ia.id}").status_code == 200
    assert as_role("liaison").get(f"/recommendations/{fema.id}").status_code == 403
    assert as_role("fema").get(f"/recommendations/{fema.id}").status_code == 200
    assert as_role("fema").get(f"/recommendations/{ia.id}").status_code == 403


def test_deleting_a_recommendation(as_role) -> None:
    target = rec("OIG-12-15", 4)
    assert as_role("oig").post(f"/recommendations/{target.id}/delete").status_code == 302
    assert db.session.get(Recommendation, target.id) is None
