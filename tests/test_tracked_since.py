"""When RecTrack began tracking a recommendation, where its text was read, and a response
dated within an issue month that is known only to the month."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import Component, IssuePrecision
from tests.conftest import rec, report_by_number, visible_text


def _cid(abbreviation: str) -> int:
    found = db.session.scalar(sa.select(Component.id).where(Component.abbreviation == abbreviation))
    assert found is not None
    return found


def _form(number: str, **overrides: str) -> dict[str, str]:
    data = {
        "number": number,
        "text": "Establish written procedures for sharing threat information with EOCs.",
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
    data.update(overrides)
    return data


def test_a_recommendation_added_today_is_tracked_since_today(as_role, today: date) -> None:
    report = report_by_number("OIG-08-71")
    client = as_role("oig")
    url = "https://www.oversight.gov/reports/audit/example-recommendation-page"
    response = client.post(f"/reports/{report.id}/recommendations/new", data=_form("1", source_url=url))
    assert response.status_code == 302
    added = rec("OIG-08-71", 1)
    assert (added.tracked_since, added.source_url) == (today, url)
    page = client.get(f"/recommendations/{added.id}")
    assert f"Tracked in RecTrack since {today:%B} {today.day}, {today.year}" in visible_text(page)
    assert f'href="{url}"' in page.get_data(as_text=True)
    edit = client.get(f"/recommendations/{added.id}/edit").get_data(as_text=True)
    assert f'value="{url}"' in edit


def test_a_source_address_must_be_a_web_address(as_role) -> None:
    report = report_by_number("OIG-08-71")
    page = (
        as_role("oig")
        .post(f"/reports/{report.id}/recommendations/new", data=_form("1", source_url="oversight.gov/x"))
        .get_data(as_text=True)
    )
    assert "Enter a full web address starting with https://" in page


def test_a_response_dated_in_the_issue_month_is_not_before_the_issue(as_role, today: date) -> None:
    """A report issued "2024-09" is stored as September 30 for its clocks, yet a response
    dated September 10 is not "before the report was issued"; August 31 is."""
    client = as_role("oig")
    form = {
        "number": "OIG-24-98",
        "issuing_office": "DHS OIG",
        "title": "A month-only test report",
        "issued_on": "2024-09",
        "sensitivity": "public",
    }
    assert client.post("/reports/new", data=form).status_code == 302
    report = report_by_number("OIG-24-98")
    assert (report.issued_on, report.issued_precision) == (date(2024, 9, 30), IssuePrecision.MONTH)
    inside = _form("1", **{"addressees-0-concurrence": "concur", "addressees-0-response_date": "2024-09-10"})
    assert client.post(f"/reports/{report.id}/recommendations/new", data=inside).status_code == 302
    before = _form(
        "2",
        **{
            "addressees-0-concurrence": "concur",
            "addressees-0-response_date": (date(2024, 9, 1) - timedelta(days=1)).isoformat(),
        },
    )
    page = client.post(f"/reports/{report.id}/recommendations/new", data=before).get_data(as_text=True)
    assert "The response date cannot be before the report was issued." in page
