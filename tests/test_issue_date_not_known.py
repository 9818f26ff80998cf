"""A report whose issue date no source gives, not even its fiscal year (one of the 68
real reports: "TSA Policies Impede Effective Coordination and Investigation of Misconduct
Allegations"). Every clock counted from the issue date is "not known", never late; the
report sorts after every dated one; forms, import and export say "not known"."""

from __future__ import annotations

import csv
import io
from datetime import date

import sqlalchemy as sa
from pypdf import PdfReader

from app import audit, clock
from app.extensions import db
from app.filters import RecFilters
from app.imports.services import ImportResult
from app.keyset import page as keyset_page
from app.lifecycle import deadlines
from app.models import (
    Component,
    Concurrence,
    RecStatus,
    Report,
    ResponseState,
)
from app.recommendations import queries as rec_queries
from app.seed.services import load_seed
from tests.conftest import EMAILS, report_by_number, user_by_email, visible_text
from tests.factories import make_recommendation, make_report
from tests.sheets import csv_of, import_file


def pdf_text(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages).split())


ACTOR = audit.AuditActor.system("tests: issue date not known")
# The report and its recommendation 1 as dhs-oig-reports.yaml gives them (read on
# oversight.gov; no number, no date and no fiscal year in any copy read).
TSA_TITLE = "TSA Policies Impede Effective Coordination and Investigation of Misconduct Allegations"
TSA_URL = (
    "https://www.oversight.gov/reports/tsa-policies-impede-effective-coordination-and-investigation-"
    "misconduct-allegations"
)
TSA_REC_1 = (
    "We recommend the TSA Administrator evaluate the organizational placement of the Insider Threat "
    "Program within TSA to determine optimal alignment to achieve its goals and objectives."
)


# --- the deadline registry ------------------------------------------------------------


def test_no_resolution_or_year_open_date_without_an_issue_date() -> None:
    due = deadlines.rec_due_dates(RecStatus.OPEN_UNRESOLVED, None, date(2026, 11, 2))
    assert (due.resolution_due, due.gao_ig_act_from) == (None, None)
    # the same recommendation issued on a known day has both (six months, one year)
    known = deadlines.rec_due_dates(RecStatus.OPEN_UNRESOLVED, date(2026, 3, 2), date(2026, 3, 2))
    assert (known.resolution_due, known.gao_ig_act_from) == (date(2026, 9, 2), date(2027, 3, 2))


def _addressee_due(issued: date | None, response_due_on: date | None, state: ResponseState):
    return deadlines.addressee_due_dates(
        status=RecStatus.OPEN_UNRESOLVED,
        issued=issued,
        resolved_on=None,
        response_state=state,
        response_due_on=response_due_on,
        concurrence=Concurrence.PENDING,
        has_plan=False,
        last_update_on=None,
        closure_state="none",
        closure_state_on=None,
        target_date=date(2027, 1, 31),
        interval_days=90,
        tracked_since=date(2026, 11, 2),
    )


def test_the_first_response_is_not_known_but_a_revised_one_and_the_target_run() -> None:
    first = _addressee_due(None, None, ResponseState.NONE)
    assert (first.response_due, first.update_due, first.target_due) == (None, None, date(2027, 1, 31))
    # a returned response has its own due date, which does not count from the issue date
    revised = _addressee_due(None, date(2026, 12, 2), ResponseState.RETURNED)
    assert revised.response_due == date(2026, 12, 2)
    # with a known issue date, 90 days after it
    assert _addressee_due(date(2026, 11, 2), None, ResponseState.NONE).response_due == date(2027, 1, 31)


# --- pages ------------------------------------------------------------------------------


def _tsa() -> Component:
    """TSA, as `flask --app app seed` gives every database (the 20 DHS components)."""
    load_seed(db.session, ACTOR, today=clock.today(), components_only=True)
    found = db.session.scalar(sa.select(Component).where(Component.abbreviation == "TSA"))
    assert found is not None
    return found


def _undated_report() -> Report:
    tsa = _tsa()
    report = make_report(title=TSA_TITLE, issued_on=None, url=TSA_URL, components=[tsa])  # type: ignore[arg-type]
    report.number = None
    make_recommendation(
        report, [tsa], number=1, text=TSA_REC_1, tracked_since=clock.today(), with_history=True
    )
    db.session.commit()
    return report


def test_oig_logs_a_report_whose_issue_date_is_not_known(as_role) -> None:
    client = as_role("oig")
    form = {
        "number": "",
        "issuing_office": "DHS OIG",
        "title": TSA_TITLE,
        "issued_on": "Not known",
        "sensitivity": "public",
        "url": TSA_URL,
    }
    assert client.post("/reports/new", data=form).status_code == 302
    report = report_by_number(None, TSA_TITLE)
    assert report.issued_on is None
    text = visible_text(client.get(f"/reports/{report.id}"))
    assert "Issued Not known No source read gives the issue date or even its fiscal year" in text
    edit = client.get(f"/reports/{report.id}/edit").get_data(as_text=True)
    assert 'value="not known"' in edit


def test_a_misspelt_date_is_still_refused_with_the_forms_to_use(as_role) -> None:
    page = as_role("oig").post(
        "/reports/new", data={"title": TSA_TITLE, "issuing_office": "DHS OIG", "issued_on": "FY24"}
    )
    assert "Write the fiscal year with four digits, such as FY2024 (not FY24)." in visible_text(page)
    assert db.session.scalar(sa.select(sa.func.count(Report.id)).where(Report.title == TSA_TITLE)) == 0


def test_the_recommendation_page_says_which_deadlines_are_not_known(as_role) -> None:
    report = _undated_report()
    rec_id = report.recommendations[0].id
    text = visible_text(as_role("viewer").get(f"/recommendations/{rec_id}"))
    assert "Issued Not known; how long it has been open is not known." in text
    assert (
        "Resolution due date is not known: the report's issue date, which it counts from, is not known."
        in text
    )
    assert (
        "Response due date is not known: the report's issue date, which it counts from, is not known." in text
    )
    assert "overdue" not in text.lower()


def test_the_dashboard_counts_it_as_history_from_before_rectrack(as_role) -> None:
    before = visible_text(as_role("oig").get("/"))
    _undated_report()
    after = visible_text(as_role("oig").get("/"))

    def carried(text: str) -> int:
        marker = "open recommendations have history from before RecTrack"
        if marker not in text:
            marker = "open recommendation has history from before RecTrack"
        if marker not in text:
            return 0
        return int(text.split(marker)[0].split()[-1])

    assert carried(after) == carried(before) + 1


def test_the_report_pdf_of_an_undated_report(as_role) -> None:
    report_id = _undated_report().id
    response = as_role("viewer").get(f"/reports/{report_id}/status.pdf")
    assert (response.status_code, response.mimetype) == (200, "application/pdf")
    text = pdf_text(response.get_data())
    assert "Issued Not known · time open not known" in text
    assert "Resolution due date is not known" in text


# --- order ------------------------------------------------------------------------------


def test_an_undated_report_sorts_after_every_dated_one_newest_or_oldest_first(as_role, today: date) -> None:
    undated = _undated_report()
    for _ in range(2):  # three undated rows: with two a page, a cursor falls inside them
        make_recommendation(undated, tracked_since=today)
    db.session.commit()
    undated_id = undated.id
    user = user_by_email(EMAILS["oig"])
    for name in ("newest", "oldest"):
        sort = rec_queries.SORTS[name]
        stmt = rec_queries.recommendation_list(user, RecFilters(), today, 90)
        seen, after = [], None
        while True:  # two rows a page: the cursor crosses from dated reports to the undated one
            got = keyset_page(
                db.session, stmt, sort.keys, after=after, before=None, size=2, values_of=sort.values
            )
            seen += got.items
            if got.next_cursor is None:
                break
            after = got.next_cursor
        assert [r.report_id for r in seen[-3:]] == [undated_id] * 3, name
        assert undated_id not in [r.report_id for r in seen[:-3]], name
        assert (
            len({r.id for r in seen})
            == len(seen)
            == db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
        )
        dated = [r.report.issued_on for r in seen[:-3]]
        assert dated == sorted(dated, reverse=name == "newest"), name
        # and back from the last page (the cursor starts inside the NULLs) to the first
        back, before = list(got.items), got.prev_cursor
        while before is not None:
            got = keyset_page(
                db.session, stmt, sort.keys, after=None, before=before, size=2, values_of=sort.values
            )
            back = list(got.items) + back
            before = got.prev_cursor
        assert [r.id for r in back] == [r.id for r in seen], name


# --- import and export ------------------------------------------------------------------


def _csv(rows: list[dict[str, str]]) -> bytes:
    return csv_of(rows)


def _import(data: bytes) -> ImportResult:
    return import_file(data, ACTOR, "tsa.csv")


def _row(issued: str) -> dict[str, str]:
    return {
        "report_number": "",
        "report_title": TSA_TITLE,
        "report_issued_on": issued,
        "report_url": TSA_URL,
        "report_recommendations_published": "6",
        "report_components": "TSA",
        "rec_number": "1",
        "rec_text": TSA_REC_1,
        "rec_text_source": "verbatim",
        "rec_significant": "no",
        "component": "TSA",
        "lead": "yes",
        "concurrence": "concur",
    }


def test_import_reads_not_known_and_refuses_a_blank(as_role) -> None:
    _tsa()
    db.session.commit()
    blank = _import(_csv([_row("")]))
    assert [(p.row, p.column) for p in blank.problems] == [(2, "report_issued_on")]
    assert "Write the issue date as" in blank.problems[0].message
    assert db.session.scalar(sa.select(sa.func.count(Report.id)).where(Report.title == TSA_TITLE)) == 0
    result = _import(_csv([_row("not known")]))
    assert result.problems == []
    report = report_by_number(None, TSA_TITLE)
    assert (report.issued_on, len(report.recommendations)) == (None, 1)
    exported = as_role("oig").get(f"/recommendations/export.csv?report={report.id}")
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["report_issued_on"] for r in rows] == ["not known"]
    again = _import(exported.get_data())
    assert again.problems == []
    assert (again.created["reports"], again.updated["reports"], again.unchanged["reports"]) == (0, 0, 1)
    assert (again.created["recommendations"], again.updated["recommendations"]) == (0, 0)
