"""Logging and finding reports: validation, filters, visibility, deletion."""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from app.extensions import db
from app.models import Component, IssuePrecision, Report, Sensitivity
from tests.conftest import report_by_number, submit


def _form(**overrides: str) -> dict[str, str]:
    data = {
        "number": "OIG-24-99",
        "issuing_office": "DHS OIG",
        "title": "A test report about information sharing",
        "issued_on": "2024-02-29",
        "report_type": "inspection",
        "sensitivity": "public",
        "recommendations_published": "2",
    }
    data.update(overrides)
    return data


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Report.id)))


def test_oig_logs_a_report(as_role) -> None:
    fema = db.session.scalar(sa.select(Component.id).where(Component.abbreviation == "FEMA"))
    response = as_role("oig").post(
        "/reports/new", data={**_form(number="oig-24-99"), "components": [str(fema)]}
    )
    assert response.status_code == 302
    report = report_by_number("OIG-24-99")  # stored upper-case
    assert report.recommendations_published == 2
    assert [c.abbreviation for c in report.components] == ["FEMA"]
    page = as_role("oig").get(response.headers["Location"]).get_data(as_text=True)
    assert "0 of 2 recommendations entered" in page


def test_blank_count_of_recommendations_is_allowed_and_stored_as_null(as_role) -> None:
    assert as_role("oig").post("/reports/new", data=_form(recommendations_published=" ")).status_code == 302
    assert report_by_number("OIG-24-99").recommendations_published is None


def test_blank_number_is_allowed_and_stored_as_null(as_role) -> None:
    assert as_role("oig").post("/reports/new", data=_form(number="  ")).status_code == 302
    assert db.session.scalar(sa.select(Report.number).where(Report.title == _form()["title"])) is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("number", "OIG-12-15", "Report OIG-12-15 is already in RecTrack."),
        ("number", "OIG 12/15", "Use letters, digits and single hyphens"),
        ("number", "OIG--12", "Use letters, digits and single hyphens"),
        ("issued_on", "2023-02-30", "2023-02-30 is not a real date. Write the issue date as 2024-09-27"),
        ("issued_on", "yesterday", "Write the issue date as 2024-09-27 (a day), 2024-09 (a month) or FY2024"),
        ("issued_on", "", "Enter the issue date: 2024-09-27 (a day), 2024-09 (a month) or FY2024"),
        ("issued_on", "FY24", "Write the fiscal year with four digits, such as FY2024 (not FY24)."),
        ("issued_on", "2024-13", "2024-13 is not a month: write it as 2024-09 (month 01 to 12)."),
        ("issued_on", "2024-9-31", "2024-9-31 is not a real date."),
        ("issued_on", "2024-9-30", "2024-9-30: write the month and the day with two digits each."),
        ("issued_on", "FY2028", "FY2028 has not ended yet (today is "),
        ("title", "", "Enter the report&#39;s title."),
        ("recommendations_published", "-1", "Enter a whole number from 0 to 999."),
        ("recommendations_published", "eight", "Enter a whole number from 0 to 999."),
        ("url", "ftp://example.org/report.pdf", "Enter a full web address starting with https://"),
    ],
)
def test_bad_input_gets_a_message_and_saves_nothing(as_role, field: str, value: str, message: str) -> None:
    before = _count()
    response = as_role("oig").post("/reports/new", data=_form(**{field: value}))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert "usa-input--error" in page or "usa-form-group--error" in page
    assert _count() == before


@pytest.mark.parametrize(
    ("typed", "stored", "precision", "shown"),
    [
        ("2024-09-27", date(2024, 9, 27), IssuePrecision.DAY, "September 27, 2024"),
        ("2024-09", date(2024, 9, 30), IssuePrecision.MONTH, "September 2024"),
        ("2024-02", date(2024, 2, 29), IssuePrecision.MONTH, "February 2024"),  # a leap year
        ("FY2024", date(2024, 9, 30), IssuePrecision.FISCAL_YEAR, "FY2024"),
        ("fy 2021", date(2021, 9, 30), IssuePrecision.FISCAL_YEAR, "FY2021"),
    ],
)
def test_issue_date_to_the_day_month_or_fiscal_year(as_role, typed, stored, precision, shown) -> None:
    """A month or fiscal year is stored as its last day (clocks never start early) and
    shown as precisely as it was given; the edit form gives it back as typed."""
    client = as_role("oig")
    assert client.post("/reports/new", data=_form(issued_on=typed)).status_code == 302
    report = report_by_number("OIG-24-99")
    assert (report.issued_on, report.issued_precision) == (stored, precision)
    page = client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert f"<dt>Issued</dt><dd>{shown}" in page
    edit = client.get(f"/reports/{report.id}/edit").get_data(as_text=True)
    assert f'value="{typed.upper().replace(" ", "")}"' in edit


def test_fiscal_year_page_says_which_days_it_covers(as_role) -> None:
    client = as_role("oig")
    client.post("/reports/new", data=_form(issued_on="FY2024", issued_on_approximate="y"))
    report = report_by_number("OIG-24-99")
    page = client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "<dt>Issued</dt><dd>about FY2024" in page
    assert "(October 1, 2023 to September 30, 2024)" in page
    assert report.issued_first_day == date(2023, 10, 1)


@pytest.mark.parametrize(
    ("instant", "refused", "accepted"),
    [
        # Sunday, November 29 in Washington: November is not over.
        ("2026-11-29T17:00:00+00:00", "2026-11", "2026-10"),
        # November 30, its last day: every day of November is today or earlier.
        ("2026-11-30T17:00:00+00:00", "2026-12", "2026-11"),
        # 21:30 on November 30 in Washington, already December 1 in UTC: still November's last day.
        ("2026-12-01T02:30:00+00:00", "2026-12", "2026-11"),
    ],
)
def test_a_month_is_accepted_once_its_last_day_has_come(
    as_role, instant: str, refused: str, accepted: str
) -> None:
    """Boundary: a month is an issue date once its last day is today or earlier (its
    representative date, the last day, is then not in the future)."""
    with time_machine.travel(datetime.fromisoformat(instant), tick=False):
        client = as_role("oig")
        page = client.post("/reports/new", data=_form(issued_on=refused)).get_data(as_text=True)
        assert f"{refused} has not ended yet" in page
        assert _count_numbered("OIG-24-99") == 0
        assert client.post("/reports/new", data=_form(issued_on=accepted)).status_code == 302
    year, month = (int(part) for part in accepted.split("-"))
    assert report_by_number("OIG-24-99").issued_on == date(year, month, calendar.monthrange(year, month)[1])


def _count_numbered(number: str) -> int:
    return db.session.scalar(sa.select(sa.func.count(Report.id)).where(Report.number == number))


def _long_date(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def test_issue_date_may_be_today_but_not_tomorrow(as_role, today: date) -> None:
    """The app's today (America/New_York on the frozen clock) is the last date accepted."""
    client = as_role("oig")
    before = _count()
    for day in (today + timedelta(days=1), date(2099, 1, 1)):
        response = client.post("/reports/new", data=_form(issued_on=day.isoformat()))
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        error = re.search(r'<span class="usa-error-message" id="issued_on-error">([^<]*)</span>', page)
        assert error, "the message must be next to the issue date"
        assert error.group(1) == f"The issue date cannot be later than today ({_long_date(today)})."
        assert _count() == before
    response = client.post("/reports/new", data=_form(issued_on=today.isoformat()))
    assert response.status_code == 302
    assert report_by_number("OIG-24-99").issued_on == today


def test_a_future_issue_date_is_listed_with_the_forms_other_problems(as_role, today: date) -> None:
    data = _form(issued_on=(today + timedelta(days=1)).isoformat(), url="example.org", title="")
    page = as_role("oig").post("/reports/new", data=data).get_data(as_text=True)
    for field in ("issued_on", "url", "title"):
        assert f'id="{field}-error"' in page, field


def test_editing_a_report_to_a_future_issue_date_is_refused(as_role, today: date) -> None:
    report = report_by_number("OIG-12-15")
    data = _form(
        number="OIG-12-15",
        title=report.title,
        issued_on=(today + timedelta(days=1)).isoformat(),
        recommendations_published="8",
        version=str(report.version),
    )
    page = as_role("oig").post(f"/reports/{report.id}/edit", data=data).get_data(as_text=True)
    assert "The issue date cannot be later than today" in page
    assert report_by_number("OIG-12-15").issued_on == date(2011, 12, 6)


@pytest.mark.parametrize(
    "url", ["example.org/report.pdf", "ftp://example.org/report.pdf", "https://", "www.oig.dhs.gov"]
)
def test_a_bad_web_address_gets_one_message(as_role, url: str) -> None:
    response = as_role("oig").post("/reports/new", data=_form(url=url))
    assert response.status_code == 200
    messages = re.findall(
        r'<span class="usa-error-message" id="url-error">([^<]*)</span>', response.get_data(as_text=True)
    )
    assert messages == ["Enter a full web address starting with https://, such as https://www.oig.dhs.gov/."]


def test_number_of_recommendations_reaches_the_server_as_typed(as_role) -> None:
    """Not type="number": the browser would send 1e309 as an empty value ("not known")."""
    page = as_role("oig").get("/reports/new").get_data(as_text=True)
    tag = re.search(r'<input[^>]*\bid="recommendations_published"[^>]*>', page)
    assert tag
    assert 'type="text"' in tag.group(0)
    assert 'inputmode="numeric"' in tag.group(0)
    response = as_role("oig").post("/reports/new", data=_form(recommendations_published="1e309"))
    assert response.status_code == 200
    messages = re.findall(
        r'<span class="usa-error-message" id="recommendations_published-error">([^<]*)</span>',
        response.get_data(as_text=True),
    )
    assert messages == ["Enter a whole number from 0 to 999."]  # once, not also as out of range


@pytest.mark.parametrize(
    ("field", "value"), [("report_type", "memo"), ("sensitivity", "secret"), ("components", "999999")]
)
def test_tampered_choices_are_a_bad_request(as_role, field: str, value: str) -> None:
    before = _count()
    response = as_role("oig").post("/reports/new", data=_form(**{field: value}))
    assert response.status_code == 400
    assert "not one of its choices" in response.get_data(as_text=True)
    assert _count() == before


def test_published_count_cannot_drop_below_entered(as_role) -> None:
    report = report_by_number("OIG-12-15")
    data = _form(
        number="OIG-12-15", title=report.title, issued_on="2011-12-06", recommendations_published="3"
    )
    page = submit(as_role("oig"), f"/reports/{report.id}/edit", data=data).get_data(as_text=True)
    assert "4 recommendations are already entered" in page
    assert report_by_number("OIG-12-15").recommendations_published == 8


def test_restricting_a_report_restricts_its_recommendations(as_role) -> None:
    report = report_by_number("OIG-12-15")
    data = _form(
        number="OIG-12-15",
        title=report.title,
        issued_on="2011-12-06",
        recommendations_published="8",
        sensitivity="restricted",
    )
    assert submit(as_role("oig"), f"/reports/{report.id}/edit", data=data).status_code == 302
    report = report_by_number("OIG-12-15")
    assert {r.sensitivity for r in report.recommendations} == {Sensitivity.RESTRICTED}


def test_edit_form_shows_current_values(as_role) -> None:
    report = report_by_number("OIG-12-15")
    page = as_role("oig").get(f"/reports/{report.id}/edit").get_data(as_text=True)
    assert 'value="OIG-12-15"' in page
    assert 'value="2011-12-06"' in page
    assert '<option selected value="audit">' in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=OIG-12", {"OIG-12-15"}),
        ("q=fusion", {"OIG-12-15"}),
        ("q=%25", set()),  # a literal percent sign matches nothing, not everything
        ("year=2008", {"OIG-08-71"}),
        ("status=none", {"OIG-08-71", "OIG-22-29"}),
        ("status=open", {"OIG-12-15", "Number not known"}),
        ("status=closed", set()),
        ("component=FEMA", {"OIG-12-15"}),
        ("component=OCIO", {"Number not known"}),
    ],
)
def test_list_search_and_filters(as_role, query: str, expected: set[str]) -> None:
    if query.startswith("component="):
        abbr = query.split("=", 1)[1]
        query = (
            f"component={db.session.scalar(sa.select(Component.id).where(Component.abbreviation == abbr))}"
        )
    page = as_role("viewer").get(f"/reports?{query}").get_data(as_text=True)
    shown = {
        n
        for n in ("OIG-08-71", "OIG-12-15", "OIG-22-29", "Number not known", "TEST-R-1")
        if f">{n}</a>" in page
    }
    assert shown == expected


def test_viewer_never_sees_a_restricted_report(as_role) -> None:
    client = as_role("viewer")
    assert "TEST-R-1" not in client.get("/reports").get_data(as_text=True)
    restricted = report_by_number("TEST-R-1")
    assert client.get(f"/reports/{restricted.id}").status_code == 403


def test_liaison_sees_restricted_report_of_own_component_with_placeholders(as_role) -> None:
    restricted = report_by_number("TEST-R-1")
    page = as_role("liaison").get(f"/reports/{restricted.id}").get_data(as_text=True)
    assert "SYNTHETIC-RESTRICTED-IA" in page
    assert "SYNTHETIC-RESTRICTED-FEMA" not in page
    assert "Restricted: not available in this view." in page


def test_oig_deletes_a_report_with_its_recommendations(as_role) -> None:
    report = report_by_number("OIG-12-15")
    client = as_role("oig")
    assert "This also deletes its\n      4 recommendations" in client.get(
        f"/reports/{report.id}/delete"
    ).get_data(as_text=True)
    assert client.post(f"/reports/{report.id}/delete").status_code == 302
    assert db.session.get(Report, report.id) is None
