"""What a placeholder row hides stays hidden from every filter, count and menu.

A restricted recommendation in a public report shows a viewer only its number, status
and issue date. Filtering or counting by anything else it hides (components,
significance, money, closing date) must not reveal it, nor may a menu or a PDF name a
restricted report."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.auth.policy import Reader
from app.extensions import db
from app.models import (
    Addressee,
    Component,
    Concurrence,
    Recommendation,
    RecStatus,
    Report,
    Role,
    Sensitivity,
    TextSource,
)
from app.pdf.services import describe_filters
from app.recommendations import services as rec_services
from app.recommendations.queries import RecFilters
from tests.conftest import login, visible_text
from tests.test_imports_exports import _csv_rows, _export


def _component(abbr: str) -> Component:
    return db.session.scalar(sa.select(Component).where(Component.abbreviation == abbr))


@pytest.fixture
def hidden() -> int:
    """A public report (no report-level components) whose only recommendation is
    restricted, addressed to CBP, significant, with questioned costs, closed."""
    report = Report(
        number="TEST-PUB-1", title="Synthetic public report (test fixture)", issued_on=date(2019, 3, 4)
    )
    rec = Recommendation(
        number=1,
        text="SYNTHETIC-HIDDEN text for tests.",
        tracked_since=date(2019, 3, 4),
        text_source=TextSource.VERBATIM,
        sensitivity=Sensitivity.RESTRICTED,
        significant=True,
        questioned_costs=Decimal("1000"),
        status=RecStatus.CLOSED_IMPLEMENTED,
        closed_on=date(2020, 5, 6),
        addressees=[Addressee(component=_component("CBP"), is_lead=True, concurrence=Concurrence.CONCUR)],
    )
    report.recommendations.append(rec)
    db.session.add(report)
    db.session.commit()
    return report.id


def _numbers(client, query: str) -> list[str]:
    return re.findall(r"TEST-PUB-1 #\d+", visible_text(client.get(f"/recommendations?{query}")))


@pytest.mark.parametrize("role", ["viewer", "fema"])
def test_filters_on_hidden_content_never_match_a_placeholder(client, hidden, role: str) -> None:
    login(client, role)
    assert _numbers(client, f"report={hidden}") == ["TEST-PUB-1 #1"]  # the placeholder
    cbp = _component("CBP").id
    for query in (
        f"component={cbp}",
        "significant=yes",
        "money=yes",
        "closed_from=2020-01-01",
        "closed_to=2020-12-31",
    ):
        assert _numbers(client, query) == [], query
    assert _numbers(client, "status=closed_implemented") == ["TEST-PUB-1 #1"]  # status is shown


def test_staff_filters_still_find_it(client, hidden) -> None:
    login(client, "oig")
    assert _numbers(client, f"component={_component('CBP').id}&significant=yes") == ["TEST-PUB-1 #1"]


def test_report_list_does_not_match_a_component_through_a_hidden_recommendation(client, hidden) -> None:
    cbp = _component("CBP").id
    login(client, "viewer")
    assert "TEST-PUB-1" not in visible_text(client.get(f"/reports?component={cbp}"))
    login(client, "oig")
    assert "TEST-PUB-1" in visible_text(client.get(f"/reports?component={cbp}"))


def _cbp_counts(client) -> tuple[int, int]:
    """CBP's row on /components: (recommendations, open)."""
    page = client.get("/components").get_data(as_text=True)
    row = next(r for r in page.split("<tr>") if ">CBP</a>" in r)
    total, open_ = re.findall(r'class="text-right">(\d+)</td>', row)
    return int(total), int(open_)


def test_components_page_counts_only_what_the_reader_may_read(client, hidden) -> None:
    login(client, "oig")
    staff_total, _ = _cbp_counts(client)
    login(client, "viewer")
    viewer_total, _ = _cbp_counts(client)
    assert staff_total - viewer_total >= 1
    cbp = _component("CBP").id
    listed = visible_text(client.get(f"/recommendations?component={cbp}"))
    found = re.search(r"([\d,]+) recommendations? match", listed)
    assert (int(found.group(1)) if found else 0) == viewer_total


def test_year_menu_lists_only_years_of_reports_the_reader_may_open(client) -> None:
    db.session.add(
        Report(
            number="TEST-R-1999",
            title="Synthetic restricted report (test fixture)",
            issued_on=date(1999, 1, 1),
            sensitivity=Sensitivity.RESTRICTED,
        )
    )
    db.session.commit()
    option = '<option value="1999"'
    login(client, "oig")
    assert option in client.get("/recommendations").get_data(as_text=True)
    login(client, "viewer")
    assert option not in client.get("/recommendations").get_data(as_text=True)
    assert option not in client.get("/reports").get_data(as_text=True)


def test_pdf_filter_line_does_not_name_a_restricted_report() -> None:
    restricted = db.session.scalar(sa.select(Report).where(Report.number == "TEST-R-1"))
    filters = RecFilters(report_id=restricted.id)
    assert "TEST-R-1" not in describe_filters(db.session, Reader(Role.VIEWER), filters)
    assert "TEST-R-1" in describe_filters(db.session, Reader(Role.OIG), filters)


def test_pdf_filter_line_names_every_filter() -> None:
    text = describe_filters(
        db.session,
        Reader(Role.OIG),
        RecFilters(age="over_5_years", closed_from=date(2020, 1, 1), money=True),
    )
    assert "over 5 years" in text
    assert "closed from 2020-01-01" in text
    assert "questioned costs" in text


def test_export_filtered_on_recommendations_has_no_empty_reports(as_role) -> None:
    client = as_role("oig")
    assert any(r["report_number"] == "OIG-08-71" for r in _csv_rows(_export(client, "csv").get_data()))
    for query in ("money=yes", "age=over_5_years", "closed_from=2000-01-01"):
        rows = _csv_rows(_export(client, "csv", query).get_data())
        assert not any(r["report_number"] == "OIG-08-71" for r in rows), query


def test_no_filters_is_not_active() -> None:
    assert not RecFilters().active
    assert RecFilters(money=True).active
    assert RecFilters(significant=False).active


def test_a_recommendation_past_the_published_count_is_refused() -> None:
    report = Report(
        number="TEST-PUB-2",
        title="Synthetic report with one published recommendation (test fixture)",
        issued_on=date(2021, 1, 1),
        recommendations_published=1,
    )
    db.session.add(report)
    db.session.flush()

    def data(number: int) -> rec_services.RecommendationData:
        return rec_services.RecommendationData(
            number=number,
            text="Synthetic recommendation text.",
            text_source=TextSource.VERBATIM,
            significant=False,
            questioned_costs=None,
            funds_put_to_better_use=None,
            sensitivity=Sensitivity.PUBLIC,
            addressees=[
                rec_services.AddresseeData(
                    component_id=_component("CBP").id,
                    is_lead=True,
                    concurrence=Concurrence.PENDING,
                    response="",
                    response_date=None,
                    version=None,
                )
            ],
            version=None,
        )

    from app.audit import AuditActor

    actor = AuditActor.system("tests")
    rec_services.create_recommendation(db.session, actor, report, data(1), today=date(2026, 1, 1))
    with pytest.raises(rec_services.RecommendationError, match="published 1 recommendation and 1 is entered"):
        rec_services.create_recommendation(db.session, actor, report, data(2), today=date(2026, 1, 1))


def test_a_liaison_opens_a_restricted_report_addressed_to_them_either_way(client) -> None:
    """Through the report's own components, or through one recommendation's addressee."""
    fema = _component("FEMA")
    by_report = Report(
        number="TEST-R-BYREPORT",
        title="Synthetic restricted report addressed to FEMA (test fixture)",
        issued_on=date(2022, 2, 2),
        sensitivity=Sensitivity.RESTRICTED,
        components=[fema],
    )
    by_rec = Report(
        number="TEST-R-BYREC",
        title="Synthetic restricted report with a FEMA recommendation (test fixture)",
        issued_on=date(2022, 2, 3),
        sensitivity=Sensitivity.RESTRICTED,
    )
    by_rec.recommendations.append(
        Recommendation(
            number=1,
            text="SYNTHETIC-BYREC text for tests.",
            tracked_since=date(2022, 2, 3),
            text_source=TextSource.VERBATIM,
            sensitivity=Sensitivity.RESTRICTED,
            addressees=[Addressee(component=fema, is_lead=True, concurrence=Concurrence.PENDING)],
        )
    )
    db.session.add_all([by_report, by_rec])
    db.session.commit()
    ids = {"TEST-R-BYREPORT": by_report.id, "TEST-R-BYREC": by_rec.id}
    for role, expected in (("fema", 200), ("liaison", 403), ("viewer", 403)):
        login(client, role)
        listed = visible_text(client.get("/reports?q=TEST-R-BY"))
        for number, report_id in ids.items():
            assert client.get(f"/reports/{report_id}").status_code == expected, (role, number)
            assert (number in listed) == (expected == 200), (role, number)
