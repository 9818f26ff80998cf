"""Priority recommendations and repeat links (issue 12).

Priority: set or cleared by OIG staff and admins only, always with a reason, audited,
locked against stale forms; a list filter, a dashboard count, a PDF section, export and
import columns. Repeats: a link to an earlier recommendation, the chain on both pages
with restricted members as placeholders, the unique open count (a chain counts once),
export and import columns, and every bad link refused with a message and nothing saved.

The reports here are synthetic test fixtures (TEST-PR-*), not real OIG reports.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from pypdf import PdfReader

from app import audit, clock
from app.extensions import db
from app.imports.reader import read_sheet
from app.imports.services import ImportResult, Problem, run_import
from app.locking import ConflictError
from app.models import AuditEvent, Recommendation, Report, Sensitivity
from app.recommendations import priority, repeats
from app.recommendations import services as rec_services
from tests.conftest import login, rec, submit, visible_text
from tests.states import component

ACTOR = audit.AuditActor.system("tests: priority")
DEFINITION_START = "Priority recommendations are those whose implementation would most benefit"
ROLES = ("admin", "oig", "liaison", "fema", "viewer")


# --- fixtures ---------------------------------------------------------------------------


def _report(number: str, issued: date, recs: list[tuple[int, str]], sensitivity: str = "public") -> Report:
    """A synthetic report with recommendations addressed to the given components."""
    report = Report(
        number=number,
        title=f"Synthetic report {number} (test fixture)",
        issued_on=issued,
        sensitivity=Sensitivity(sensitivity),
        components=[component(c) for c in sorted({c for _, c in recs})],
    )
    db.session.add(report)
    db.session.flush()
    for n, abbreviation in recs:
        rec_services.create_recommendation(
            db.session,
            ACTOR,
            report,
            rec_services.RecommendationData(
                number=n,
                text=f"SYNTHETIC {number} #{n} text for tests.",
                sensitivity=Sensitivity(sensitivity),
                addressees=[rec_services.AddresseeData(component(abbreviation).id, is_lead=True)],
            ),
            today=clock.today(),
        )
    db.session.commit()
    return report


@pytest.fixture
def reports() -> None:
    _report("TEST-PR-1", date(2019, 3, 1), [(1, "FEMA"), (2, "FEMA")])
    _report("TEST-PR-2", date(2021, 6, 1), [(1, "FEMA"), (2, "I&A")])
    _report("TEST-PR-3", date(2023, 5, 2), [(1, "FEMA")])


def _link(later: tuple[str, int], earlier: tuple[str, int], note: str = "") -> None:
    repeats.set_repeat(db.session, rec(*later), repeats.RepeatData(earlier[0], earlier[1], note))
    db.session.commit()


def _flag(target: tuple[str, int], reason: str = "Test reason: large monetary impact.") -> None:
    priority.set_priority(db.session, rec(*target), priority.PriorityData(True, reason))
    db.session.commit()


def _client(app: Any, role: str) -> FlaskClient:
    client = app.test_client()
    login(client, role)
    return client


def _fresh(report_number: str, number: int) -> Recommendation:
    db.session.expire_all()
    return rec(report_number, number)


# --- priority: permissions, reason, audit, locking --------------------------------------


@pytest.mark.parametrize(
    ("role", "get_status", "post_status"),
    [("admin", 200, 302), ("oig", 200, 302), ("liaison", 403, 403), ("fema", 403, 403), ("viewer", 403, 403)],
)
def test_priority_form_by_role(app, reports, role: str, get_status: int, post_status: int) -> None:
    target = rec("TEST-PR-1", 1)
    client = _client(app, role)
    url = f"/recommendations/{target.id}/priority"
    assert client.get(url).status_code == get_status
    # A complete, valid form with the current version: refused on the server all the same.
    data = {"priority": "y", "reason": "Role test reason.", "version": str(target.version), "save": "y"}
    assert client.post(url, data=data).status_code == post_status
    saved = _fresh("TEST-PR-1", 1)
    assert saved.priority is (post_status == 302)


def test_priority_buttons_only_for_staff(app, reports) -> None:
    target = rec("TEST-PR-1", 1)
    for role, shown in (("oig", True), ("admin", True), ("fema", False), ("viewer", False)):
        page = _client(app, role).get(f"/recommendations/{target.id}").get_data(as_text=True)
        assert ("Change priority" in page) is shown, role
        assert ("Link to an earlier recommendation it repeats" in page) is shown, role


def test_setting_priority_shows_tag_reason_definition_and_is_audited(app, reports) -> None:
    target = rec("TEST-PR-1", 1)
    client = _client(app, "oig")
    form = client.get(f"/recommendations/{target.id}/priority").get_data(as_text=True)
    assert DEFINITION_START in form
    assert "health, safety and national security (CIGIE)" in form
    response = submit(
        client,
        f"/recommendations/{target.id}/priority",
        {"priority": "y", "reason": "Fraud risk.", "save": "y"},
    )
    assert response.status_code == 302
    page = visible_text(client.get(f"/recommendations/{target.id}"))
    assert "Recommendation 1 Open–Unresolved Priority" in page
    assert "Priority recommendation. Reason: Fraud risk." in page
    event = db.session.scalar(
        sa.select(AuditEvent)
        .where(AuditEvent.object_type == "recommendations", AuditEvent.object_id == target.id)
        .where(AuditEvent.action == "update")
        .order_by(AuditEvent.id.desc())
    )
    assert event is not None
    assert event.changes["priority"] == [False, True]
    assert event.changes["priority_reason"] == ["", "Fraud risk."]
    assert event.actor_label == "oig@test.example"

    # Cleared, with its own reason: the page says so and keeps the reason.
    response = submit(
        client,
        f"/recommendations/{target.id}/priority",
        {"priority": "", "reason": "Superseded.", "save": "y"},
    )
    assert response.status_code == 302
    page = visible_text(client.get(f"/recommendations/{target.id}"))
    assert "Not a priority recommendation. Reason given when the flag was last changed: Superseded." in page
    assert _fresh("TEST-PR-1", 1).priority is False


@pytest.mark.parametrize("reason", ["", "   "])
def test_priority_without_a_reason_is_refused_next_to_the_field(app, reports, reason: str) -> None:
    target = rec("TEST-PR-1", 1)
    client = _client(app, "oig")
    response = submit(
        client, f"/recommendations/{target.id}/priority", {"priority": "y", "reason": reason, "save": "y"}
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'id="reason-error"' in body
    assert "Give the reason for this priority decision; it is kept and shown on the recommendation." in body
    assert _fresh("TEST-PR-1", 1).priority is False


def test_priority_service_refuses_a_missing_reason() -> None:
    with pytest.raises(rec_services.RecommendationError) as caught:
        priority.check_priority(True, " ")
    assert caught.value.field == "reason"


def test_priority_form_loaded_before_another_save_is_a_409(app, reports) -> None:
    target = rec("TEST-PR-1", 1)
    client = _client(app, "oig")
    old_version = target.version
    _flag(("TEST-PR-1", 1), "Saved by someone else first.")
    response = client.post(
        f"/recommendations/{target.id}/priority",
        data={"priority": "", "reason": "Mine.", "version": str(old_version), "save": "y"},
    )
    assert response.status_code == 409
    saved = _fresh("TEST-PR-1", 1)
    assert (saved.priority, saved.priority_reason) == (True, "Saved by someone else first.")
    with pytest.raises(ConflictError):
        priority.set_priority(db.session, saved, priority.PriorityData(False, "x", version=old_version))


def test_priority_form_without_version_is_a_400(app, reports) -> None:
    target = rec("TEST-PR-1", 1)
    response = _client(app, "oig").post(
        f"/recommendations/{target.id}/priority", data={"priority": "y", "reason": "R.", "save": "y"}
    )
    assert response.status_code == 400
    assert _fresh("TEST-PR-1", 1).priority is False


# --- priority: list filter, dashboard, PDF --------------------------------------------------


def test_priority_filter_in_the_list(app, reports) -> None:
    _flag(("TEST-PR-2", 1))
    _flag(("TEST-R-1", 2))  # restricted, FEMA's
    staff = visible_text(_client(app, "oig").get("/recommendations?priority=1"))
    assert "2 recommendations match" in staff
    assert "TEST-PR-2 #1" in staff
    assert "TEST-R-1 #2" in staff
    assert "TEST-PR-1 #1" not in staff
    # The viewer may not read the restricted one: it never matches the filter.
    viewer = visible_text(_client(app, "viewer").get("/recommendations?priority=1"))
    assert "1 recommendation matches" in viewer
    assert "TEST-PR-2 #1" in viewer
    assert "TEST-R-1" not in viewer
    # FEMA's liaison reads both.
    assert "2 recommendations match" in visible_text(_client(app, "fema").get("/recommendations?priority=1"))
    # Without the filter, the row carries the tag.
    listing = _client(app, "oig").get("/recommendations?q=TEST-PR-2").get_data(as_text=True)
    assert listing.count(">Priority</span>") == 1


def _dashboard_numbers(client: FlaskClient) -> tuple[int, int, int]:
    """(open, unique open, priority open) as the dashboard shows them."""
    import re

    text = visible_text(client.get("/"))
    found = re.search(
        r"([\d,]+) open recommendations? \(([\d,]+) unique: a repeated recommendation counts once\)", text
    )
    assert found, text[:600]
    flagged = re.search(r"Priority open recommendations: ([\d,]+)", text)
    assert flagged, text[:600]
    return int(found[1].replace(",", "")), int(found[2].replace(",", "")), int(flagged[1].replace(",", ""))


def test_dashboard_priority_count_links_to_the_filtered_list(app, reports) -> None:
    client = _client(app, "oig")
    _open, _unique, before = _dashboard_numbers(client)
    assert before == 0
    _flag(("TEST-PR-1", 1))
    _flag(("TEST-PR-2", 2))
    _flag(("TEST-R-1", 1))  # restricted, I&A's
    assert _dashboard_numbers(_client(app, "oig"))[2] == 3
    assert _dashboard_numbers(_client(app, "viewer"))[2] == 2  # not the restricted one
    assert _dashboard_numbers(_client(app, "liaison"))[2] == 3  # I&A's liaison reads TEST-R-1 #1
    assert _dashboard_numbers(_client(app, "fema"))[2] == 2
    page = client.get("/").get_data(as_text=True)
    assert 'href="/recommendations?priority=1&amp;status=open"' in page
    # A closed priority recommendation is not counted.
    closing = _client(app, "oig")
    target = rec("TEST-PR-1", 1)
    response = submit(
        closing, f"/recommendations/{target.id}/close", {"outcome": "not_implemented", "note": "Withdrawn."}
    )
    assert response.status_code == 302
    assert _dashboard_numbers(_client(app, "oig"))[2] == 2


def _pdf_text(data: bytes) -> str:
    return " ".join(" ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages).split())


@pytest.mark.usefixtures("on_november_16")
def test_portfolio_pdf_has_the_priority_section_and_the_unique_count(app, reports) -> None:
    _flag(("TEST-PR-2", 1))
    _link(("TEST-PR-2", 1), ("TEST-PR-1", 1))
    response = _client(app, "oig").get("/recommendations/status.pdf?q=TEST-PR")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    text = _pdf_text(response.get_data())
    # The five TEST-PR recommendations are open; PR-2 #1 repeats PR-1 #1: four unique.
    assert "5 open recommendations (4 unique: a repeated recommendation counts once)" in text
    # Its entry in detail says so (only its own: one flagged recommendation).
    entry = text.split("TEST-PR-2 · Recommendation 1 ·")[-1].split("TEST-PR-2 · Recommendation 2 ·")[0]
    # (entered through the add path today, after its issue: the entry also says since when
    # RecTrack tracks it, tests/test_tracked_clocks.py)
    assert "; priority recommendation; tracked in RecTrack since November 16, 2026" in entry
    assert text.count("; priority recommendation") == 1
    section = text.split("Priority open recommendations", 2)[-1].split("Recommendations in detail")[0]
    assert "TEST-PR-2" in section
    assert "TEST-PR-1" not in section
    assert "TEST-PR-3" not in section


def test_portfolio_data_layer(app, reports) -> None:
    from app.filters import RecFilters
    from app.pdf import data as pdf_data
    from tests.conftest import user_by_email

    _flag(("TEST-PR-3", 1))
    _flag(("TEST-R-1", 2))
    _link(("TEST-PR-2", 1), ("TEST-PR-1", 1))
    _link(("TEST-PR-3", 1), ("TEST-PR-2", 1))
    _link(("TEST-PR-2", 2), ("TEST-PR-1", 1))
    viewer = user_by_email("viewer@test.example")
    portfolio = pdf_data.portfolio(db.session, viewer, RecFilters(), clock.today(), 90, 5000)
    assert [(line.rec.report.number, line.rec.number) for line in portfolio.priority_open] == [
        ("TEST-PR-3", 1)
    ]
    # One chain of four (PR-1 #1, PR-2 #1, PR-2 #2, PR-3 #1): three fewer unique.
    assert portfolio.unique_open == portfolio.summary.open - 3


# --- repeats: the chain, unique counts -------------------------------------------------------


def test_unique_open_count_on_the_dashboard(app, reports) -> None:
    client = _client(app, "oig")
    opened, unique, _ = _dashboard_numbers(client)
    assert unique == opened  # no links yet
    _link(("TEST-PR-2", 1), ("TEST-PR-1", 1))
    _link(("TEST-PR-2", 2), ("TEST-PR-1", 1))  # two later ones repeat the same one
    _link(("TEST-PR-3", 1), ("TEST-PR-2", 1))
    opened2, unique2, _ = _dashboard_numbers(_client(app, "oig"))
    assert (opened2, unique2) == (opened, opened - 3)
    # The chain's first member closed: its open members still count once.
    target = rec("TEST-PR-1", 1)
    submit(
        client, f"/recommendations/{target.id}/close", {"outcome": "not_implemented", "note": "Withdrawn."}
    )
    opened3, unique3, _ = _dashboard_numbers(_client(app, "oig"))
    assert (opened3, unique3) == (opened - 1, opened - 3)


def test_unique_count_python_and_sql_agree() -> None:
    roots = {2: 1, 3: 1, 1: 1, 5: 4, 4: 4}
    assert repeats.unique_count([1, 2, 3, 4, 6], roots) == 3
    assert repeats.unique_count([2, 3], roots) == 1
    assert repeats.unique_count([], roots) == 0


def test_chain_roots_and_sql_count(app, reports) -> None:
    _link(("TEST-PR-2", 1), ("TEST-PR-1", 1))
    _link(("TEST-PR-3", 1), ("TEST-PR-2", 1))
    a, b, c = rec("TEST-PR-1", 1).id, rec("TEST-PR-2", 1).id, rec("TEST-PR-3", 1).id
    other = rec("TEST-PR-2", 2).id
    roots = repeats.chain_roots(db.session)
    assert (roots[a], roots[b], roots[c]) == (a, a, a)
    assert other not in roots
    ids = sa.select(Recommendation.id).where(Recommendation.id.in_([a, b, c, other]))
    assert repeats.unique_count_sql(db.session, ids) == 2
    ids = sa.select(Recommendation.id).where(Recommendation.id.in_([b, c]))
    assert repeats.unique_count_sql(db.session, ids) == 1


def test_chain_on_both_pages_with_links(app, reports) -> None:
    _link(("TEST-PR-2", 1), ("TEST-PR-1", 1), note="Rolled forward unchanged.")
    _link(("TEST-PR-3", 1), ("TEST-PR-2", 1))
    client = _client(app, "viewer")
    first, middle, last = rec("TEST-PR-1", 1), rec("TEST-PR-2", 1), rec("TEST-PR-3", 1)
    page = client.get(f"/recommendations/{middle.id}").get_data(as_text=True)
    assert f'href="/recommendations/{first.id}">TEST-PR-1 #1</a>' in page
    assert f'href="/recommendations/{last.id}">TEST-PR-3 #1</a>' in page
    text = visible_text(client.get(f"/recommendations/{middle.id}"))
    assert "It repeats TEST-PR-1 #1 Open–Unresolved SYNTHETIC TEST-PR-1 #1 text for tests." in text
    assert "Rolled forward unchanged." in text
    assert "Repeated later by TEST-PR-3 #1" in text
    text = visible_text(client.get(f"/recommendations/{first.id}"))
    assert "Repeated later by TEST-PR-2 #1 Open–Unresolved SYNTHETIC TEST-PR-2 #1 text for tests." in text
    assert "TEST-PR-3 #1" in text  # through TEST-PR-2 #1
    text = visible_text(client.get(f"/recommendations/{last.id}"))
    assert "It repeats TEST-PR-2 #1" in text
    assert "TEST-PR-1 #1" in text
    assert "Each one repeats the one after it." in text


@pytest.mark.parametrize(
    ("role", "sees_text"),
    [("oig", True), ("admin", True), ("fema", True), ("liaison", False), ("viewer", False)],
)
def test_restricted_chain_member_is_a_placeholder(app, reports, role: str, sees_text: bool) -> None:
    # TEST-R-1 #2 (restricted, FEMA's, 2023-01-10) repeats TEST-PR-2 #1 (2021).
    _link(("TEST-R-1", 2), ("TEST-PR-2", 1))
    earlier = rec("TEST-PR-2", 1)
    page = _client(app, role).get(f"/recommendations/{earlier.id}").get_data(as_text=True)
    assert ("SYNTHETIC-RESTRICTED-FEMA text for tests." in page) is sees_text
    assert ("TEST-R-1 #2" in page) is sees_text  # a restricted report's number is not shown either
    if not sees_text:
        assert "Repeated later by" in page
        assert "Restricted: not available in this view." in page


def test_restricted_member_in_a_public_report_shows_its_number_only(app, reports) -> None:
    secret = "SYNTHETIC PR-3 RESTRICTED text for tests."
    later = rec("TEST-PR-3", 1)
    later.sensitivity = Sensitivity.RESTRICTED
    later.text = secret
    db.session.commit()
    _link(("TEST-PR-3", 1), ("TEST-PR-1", 1))
    page = visible_text(_client(app, "viewer").get(f"/recommendations/{rec('TEST-PR-1', 1).id}"))
    assert "Repeated later by TEST-PR-3 #1 Restricted: not available in this view." in page
    assert secret not in page


# --- repeats: the form and its bad input ------------------------------------------------------


def test_repeat_form_by_role(app, reports) -> None:
    target = rec("TEST-PR-2", 1)
    for role, expected in (("admin", 302), ("oig", 302), ("liaison", 403), ("fema", 403), ("viewer", 403)):
        client = _client(app, role)
        version = _fresh("TEST-PR-2", 1).version
        data = {"repeats_report": "TEST-PR-1", "repeats_number": "1", "version": str(version), "save": "y"}
        assert client.post(f"/recommendations/{target.id}/repeats", data=data).status_code == expected, role
        assert client.get(f"/recommendations/{target.id}/repeats").status_code == (
            200 if expected == 302 else 403
        )
        assert (_fresh("TEST-PR-2", 1).repeats_id is not None) is (expected == 302)
        if expected == 302:
            _fresh("TEST-PR-2", 1).repeats_id = None
            db.session.commit()


def test_repeat_link_set_changed_and_removed(app, reports) -> None:
    client = _client(app, "oig")
    target = rec("TEST-PR-3", 1)
    url = f"/recommendations/{target.id}/repeats"
    response = submit(
        client, url, {"repeats_report": "test-pr-2", "repeats_number": "1", "note": "N.", "save": "y"}
    )
    assert response.status_code == 302
    saved = _fresh("TEST-PR-3", 1)
    assert (saved.repeats_id, saved.repeat_note) == (rec("TEST-PR-2", 1).id, "N.")
    form = client.get(url).get_data(as_text=True)
    assert 'value="TEST-PR-2"' in form  # the form opens on the current link
    response = submit(client, url, {"repeats_report": "", "repeats_number": "", "note": "", "save": "y"})
    assert response.status_code == 302
    assert _fresh("TEST-PR-3", 1).repeats_id is None


def test_repeat_form_stale_version_is_a_409(app, reports) -> None:
    target = rec("TEST-PR-3", 1)
    old, url = target.version, f"/recommendations/{target.id}/repeats"
    _link(("TEST-PR-3", 1), ("TEST-PR-1", 1))
    response = _client(app, "oig").post(
        url,
        data={"repeats_report": "TEST-PR-2", "repeats_number": "1", "version": str(old), "save": "y"},
    )
    assert response.status_code == 409
    assert _fresh("TEST-PR-3", 1).repeats_id == rec("TEST-PR-1", 1).id


BAD_LINKS = [
    # (recommendation, links made first, what is typed, field, message)
    (
        ("TEST-PR-2", 1),
        [],
        ("TEST-NOPE-9", "1"),
        "repeats_report",
        "There is no report TEST-NOPE-9 in RecTrack.",
    ),
    (
        ("TEST-PR-2", 1),
        [],
        ("TEST-PR-1", "7"),
        "repeats_number",
        "TEST-PR-1 has no recommendation 7 entered.",
    ),
    (("TEST-PR-2", 1), [], ("TEST-PR-2", "1"), "repeats_number", "A recommendation cannot repeat itself."),
    (
        ("TEST-PR-2", 1),
        [],
        ("TEST-PR-2", "2"),
        "repeats_report",
        "A recommendation can only repeat one from an earlier report, not one of the same report.",
    ),
    (
        ("TEST-PR-1", 1),
        [],
        ("TEST-PR-3", "1"),
        "repeats_report",
        "A recommendation can only repeat one from an earlier report: TEST-PR-3 was issued 2023-05-02, "
        "not before TEST-PR-1 (2019-03-01).",
    ),
    (
        ("TEST-PR-1", 1),
        [(("TEST-PR-2", 1), ("TEST-PR-1", 1))],
        ("TEST-PR-2", "1"),
        "repeats_number",
        "That would make a circle of repeats: TEST-PR-1 #1 → TEST-PR-2 #1 → TEST-PR-1 #1.",
    ),
    (
        ("TEST-PR-1", 1),
        [(("TEST-PR-2", 1), ("TEST-PR-1", 1)), (("TEST-PR-3", 1), ("TEST-PR-2", 1))],
        ("TEST-PR-3", "1"),
        "repeats_number",
        "That would make a circle of repeats: TEST-PR-1 #1 → TEST-PR-3 #1 → TEST-PR-2 #1 → TEST-PR-1 #1.",
    ),
    (
        ("TEST-PR-2", 1),
        [],
        ("", "1"),
        "repeats_report",
        "Write the number of the earlier report, such as OIG-12-15.",
    ),
    (
        ("TEST-PR-2", 1),
        [],
        ("TEST-PR-1", ""),
        "repeats_number",
        "Write the number of the earlier recommendation in that report.",
    ),
]


@pytest.mark.parametrize(("target", "first", "typed", "field", "message"), BAD_LINKS)
def test_bad_repeat_links_are_refused_next_to_the_field(
    app, reports, target: tuple[str, int], first: list[Any], typed: tuple[str, str], field: str, message: str
) -> None:
    for later, earlier in first:
        _link(later, earlier)
    before = _fresh(*target)
    state = (before.repeats_id, before.version)
    client = _client(app, "oig")
    url = f"/recommendations/{before.id}/repeats"
    response = submit(client, url, {"repeats_report": typed[0], "repeats_number": typed[1], "save": "y"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert f'id="{field}-error"' in body
    error = body.split(f'id="{field}-error">', 1)[1].split("</span>", 1)[0]
    import html

    assert html.unescape(error).startswith(message)
    after = _fresh(*target)
    assert (after.repeats_id, after.version) == state


def test_deleting_the_earlier_recommendation_unlinks_the_later_one(app, reports) -> None:
    _link(("TEST-PR-2", 1), ("TEST-PR-1", 2))
    rec_services.delete_recommendation(db.session, rec("TEST-PR-1", 2))
    db.session.commit()
    assert _fresh("TEST-PR-2", 1).repeats_id is None


# --- export and import ------------------------------------------------------------------------


def _import(data: bytes, *, commit: bool = True) -> ImportResult:
    return run_import(
        db.session, ACTOR, read_sheet(data), filename="t.csv", data=data, commit=commit, today=clock.today()
    )


def _csv(rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    columns = list(rows[0])
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_export_carries_priority_and_repeat_columns_and_imports_back(app, reports) -> None:
    _flag(("TEST-PR-2", 1), "Large questioned costs.")
    _link(("TEST-PR-2", 1), ("TEST-PR-1", 1))
    data = _client(app, "oig").get("/recommendations/export.csv?q=TEST-PR").get_data()
    rows = {(r["report_number"], r["rec_number"]): r for r in _rows(data)}
    row = rows[("TEST-PR-2", "1")]
    assert (row["priority"], row["priority_reason"], row["repeats_report"], row["repeats_number"]) == (
        "yes",
        "Large questioned costs.",
        "TEST-PR-1",
        "1",
    )
    plain = rows[("TEST-PR-1", "1")]
    assert (
        plain["priority"],
        plain["priority_reason"],
        plain["repeats_report"],
        plain["repeats_number"],
    ) == (
        "no",
        "",
        "",
        "",
    )
    # Importing the same file changes nothing.
    result = _import(data)
    assert result.problems == []
    assert result.updated["recommendations"] == 0
    # Cleared in RecTrack, then imported back: the file restores both.
    target = rec("TEST-PR-2", 1)
    target.priority, target.priority_reason, target.repeats_id = False, "", None
    db.session.commit()
    result = _import(data)
    assert result.problems == []
    assert result.committed
    assert result.updated["recommendations"] == 1
    saved = _fresh("TEST-PR-2", 1)
    assert (saved.priority, saved.priority_reason, saved.repeats_id) == (
        True,
        "Large questioned costs.",
        rec("TEST-PR-1", 1).id,
    )


def test_xlsx_export_has_the_columns(app, reports) -> None:
    from openpyxl import load_workbook

    _flag(("TEST-PR-2", 1), "Reason X.")
    _link(("TEST-PR-2", 1), ("TEST-PR-1", 1))
    data = _client(app, "oig").get("/recommendations/export.xlsx?q=TEST-PR-2").get_data()
    sheet = load_workbook(io.BytesIO(data))["Recommendations"]
    values = list(sheet.iter_rows(values_only=True))
    header = list(values[0])
    row = next(dict(zip(header, r, strict=True)) for r in values[1:] if r[header.index("rec_number")] == 1)
    assert (row["priority"], row["priority_reason"], row["repeats_report"], row["repeats_number"]) == (
        "yes",
        "Reason X.",
        "TEST-PR-1",
        1,
    )


def test_export_hides_a_restricted_recommendations_flags_and_an_invisible_target(app, reports) -> None:
    _flag(("TEST-R-1", 2), "Restricted reason.")
    _link(("TEST-R-1", 2), ("TEST-PR-1", 1))
    _link(("TEST-PR-3", 1), ("TEST-R-1", 2))  # a public one repeating a restricted one
    data = _client(app, "viewer").get("/recommendations/export.csv").get_data()
    text = data.decode("utf-8-sig")
    assert "Restricted reason." not in text
    rows = {(r["report_number"], r["rec_number"]): r for r in _rows(data)}
    assert rows[("TEST-PR-3", "1")]["repeats_report"] == ""  # TEST-R-1 is not the viewer's to open


def _file_rows(**changes: dict[str, str]) -> list[dict[str, str]]:
    """Two synthetic reports of a file, IMP-2 #1 repeating IMP-1 #1; `changes` by report."""
    base = {
        "TEST-IMP-1": {
            "report_number": "TEST-IMP-1",
            "report_title": "Synthetic imported report one (test fixture)",
            "report_issued_on": "2018-02-05",
            "rec_number": "1",
            "rec_text": "Synthetic imported recommendation one.",
            "component": "FEMA",
            "priority": "",
            "priority_reason": "",
            "repeats_report": "",
            "repeats_number": "",
        },
        "TEST-IMP-2": {
            "report_number": "TEST-IMP-2",
            "report_title": "Synthetic imported report two (test fixture)",
            "report_issued_on": "2020-08-10",
            "rec_number": "1",
            "rec_text": "Synthetic imported recommendation two.",
            "component": "FEMA",
            "priority": "yes",
            "priority_reason": "Imported reason.",
            "repeats_report": "TEST-IMP-1",
            "repeats_number": "1",
        },
    }
    return [{**row, **changes.get(key.replace("-", "_"), {})} for key, row in base.items()]


def _imported(number: str) -> bool:
    return db.session.scalar(sa.select(Report.id).where(Report.number == number)) is not None


def test_import_of_priority_and_repeats(app) -> None:
    result = _import(_csv(_file_rows()))
    assert result.problems == []
    assert result.committed
    later, earlier = rec("TEST-IMP-2", 1), rec("TEST-IMP-1", 1)
    assert (later.priority, later.priority_reason, later.repeats_id) == (True, "Imported reason.", earlier.id)
    assert (earlier.priority, earlier.repeats_id) == (False, None)


BAD_IMPORTS = [
    (
        {"TEST_IMP_2": {"priority_reason": ""}},
        Problem(
            3, "priority_reason", "A priority recommendation needs a reason: write it in priority_reason."
        ),
    ),
    (
        {"TEST_IMP_2": {"repeats_report": "TEST-NOPE-9"}},
        Problem(3, "repeats_report", "There is no report TEST-NOPE-9 in RecTrack."),
    ),
    (
        {"TEST_IMP_2": {"repeats_number": "4"}},
        Problem(3, "repeats_number", "TEST-IMP-1 has no recommendation 4 entered."),
    ),
    (
        {"TEST_IMP_2": {"repeats_report": "TEST-IMP-2"}},
        Problem(3, "repeats_number", "A recommendation cannot repeat itself."),
    ),
    (
        {"TEST_IMP_1": {"repeats_report": "TEST-IMP-2", "repeats_number": "1"}},
        Problem(
            2,
            "repeats_report",
            "A recommendation can only repeat one from an earlier report: TEST-IMP-2 was issued 2020-08-10, "
            "not before TEST-IMP-1 (2018-02-05).",
        ),
    ),
    (
        {"TEST_IMP_2": {"repeats_number": ""}},
        Problem(
            3,
            "repeats_number",
            "Write the earlier recommendation number too, or leave both repeat columns blank.",
        ),
    ),
    (
        {"TEST_IMP_2": {"priority": "maybe"}},
        Problem(3, "priority", "Write yes or no."),
    ),
]


@pytest.mark.parametrize(("changes", "problem"), BAD_IMPORTS)
def test_bad_import_rows_are_reported_and_nothing_is_saved(
    app, changes: dict[str, Any], problem: Problem
) -> None:
    result = _import(_csv(_file_rows(**changes)))
    assert result.problems == [problem]
    assert not result.committed
    assert not _imported("TEST-IMP-1")
    assert not _imported("TEST-IMP-2")


def test_import_cycle_through_existing_links_is_refused(app, reports) -> None:
    # TEST-PR-2 #1 repeats TEST-PR-1 #1; a file making TEST-PR-1 #1 repeat TEST-PR-2 #1 closes a circle.
    _link(("TEST-PR-2", 1), ("TEST-PR-1", 1))
    data = _client(app, "oig").get("/recommendations/export.csv?q=TEST-PR-1").get_data()
    rows = [r for r in _rows(data) if r["report_number"] == "TEST-PR-1" and r["rec_number"] == "1"]
    rows[0].update({"repeats_report": "TEST-PR-2", "repeats_number": "1", "rec_text": "Changed text too."})
    result = _import(_csv(rows))
    assert result.problems == [
        Problem(
            2,
            "repeats_number",
            "That would make a circle of repeats: TEST-PR-1 #1 → TEST-PR-2 #1 → TEST-PR-1 #1. "
            "A recommendation cannot repeat one that already repeats it, directly or through others.",
        )
    ]
    saved = _fresh("TEST-PR-1", 1)
    assert (saved.repeats_id, saved.text) == (None, "SYNTHETIC TEST-PR-1 #1 text for tests.")


def test_import_clearing_a_priority_without_a_reason_is_refused(app, reports) -> None:
    _flag(("TEST-PR-1", 1), "Was a priority.")
    data = _client(app, "oig").get("/recommendations/export.csv?q=TEST-PR-1").get_data()
    rows = [r for r in _rows(data) if r["report_number"] == "TEST-PR-1" and r["rec_number"] == "1"]
    rows[0].update({"priority": "no", "priority_reason": ""})
    result = _import(_csv(rows))
    assert result.problems == [
        Problem(
            2,
            "priority_reason",
            "Give the reason for this priority decision; it is kept and shown on the recommendation.",
        )
    ]
    assert _fresh("TEST-PR-1", 1).priority is True


def test_import_keeps_the_note_of_an_unchanged_link_and_drops_it_with_a_new_one(app, reports) -> None:
    _link(("TEST-PR-3", 1), ("TEST-PR-2", 1), note="Rolled forward.")
    data = _client(app, "oig").get("/recommendations/export.csv?q=TEST-PR-3").get_data()
    rows = [r for r in _rows(data) if r["report_number"] == "TEST-PR-3"]
    assert _import(_csv(rows)).problems == []
    assert _fresh("TEST-PR-3", 1).repeat_note == "Rolled forward."
    rows[0].update({"repeats_report": "TEST-PR-1", "repeats_number": "2"})
    result = _import(_csv(rows))
    assert result.problems == []
    assert result.updated["recommendations"] == 1
    saved = _fresh("TEST-PR-3", 1)
    assert (saved.repeats_id, saved.repeat_note) == (rec("TEST-PR-1", 2).id, "")
