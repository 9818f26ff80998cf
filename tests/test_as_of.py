""" "As of" everywhere: the list, the dashboard, the CSV export and the portfolio PDF, as
they stood at the end of a past day, agree with each other and with the history
(history.replay), for each role; the semiannual tables equal the list filters; the
period picker offers the ends of past semiannual periods.

The history walked here (OIG-12-15 was issued 2011-12-06, TEST-R-1 2023-01-10):
- OIG-12-15 #1 (I&A): closed, not implemented, 2013-03-01.
- OIG-12-15 #3, addressed to I&A (non-concur) and FEMA (concur): FEMA responds
  2012-02-20 (target 2012-12-31), resolved 2012-05-01, FEMA update 2013-05-15, closure
  requested 2014-04-02, closed as implemented 2014-06-01, reopened 2016-01-04 (each
  component's new response due 2016-04-03).
- TEST-R-1 #2 (restricted, FEMA): closed, not implemented, 2024-02-01.
Every expected value below is worked out by hand from those dates.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from app import clock
from app.dashboard import queries as dashboard_queries
from app.extensions import db
from app.filters import RecFilters, past_day, period_ends
from app.lifecycle import deadlines, history, periods, workflow
from app.lifecycle.deadlines import DeadlinePolicy
from app.lifecycle.workflow import Context, ResponseData, UpdateData
from app.models import Concurrence, Recommendation, RecStatus
from app.pdf import data as pdf_data
from app.recommendations.queries import recommendation_list
from tests.conftest import EMAILS, rec, user_by_email, visible_text

OU, OR, CI, CN = (
    RecStatus.OPEN_UNRESOLVED,
    RecStatus.OPEN_RESOLVED,
    RecStatus.CLOSED_IMPLEMENTED,
    RecStatus.CLOSED_NOT_IMPLEMENTED,
)
INTERVAL = 90


def _ctx(role: str, day: date) -> Context:
    return Context(user=user_by_email(EMAILS[role]), today=day)


def _part(r: Recommendation, abbreviation: str) -> Any:
    return next(a for a in r.addressees if a.component.abbreviation == abbreviation)


@pytest.fixture
def walked() -> None:
    workflow.close(
        db.session,
        _ctx("oig", date(2013, 3, 1)),
        rec("OIG-12-15", 1),
        implemented=False,
        note="Not feasible.",
    )
    three = rec("OIG-12-15", 3)
    fema = _part(three, "FEMA")
    workflow.submit_response(
        db.session,
        _ctx("fema", date(2012, 2, 20)),
        three,
        fema,
        ResponseData(Concurrence.CONCUR, "FEMA concurs.", "The plan.", date(2012, 12, 31), "Director"),
    )
    workflow.resolve(db.session, _ctx("oig", date(2012, 5, 1)), three, "The plan is responsive.")
    workflow.post_update(db.session, _ctx("fema", date(2013, 5, 15)), three, fema, UpdateData("Progress."))
    workflow.request_closure(db.session, _ctx("fema", date(2014, 4, 2)), three, fema, "Done.")
    workflow.close(db.session, _ctx("oig", date(2014, 6, 1)), three, implemented=True, note="Verified.")
    workflow.reopen(db.session, _ctx("oig", date(2016, 1, 4)), three, "Guidance withdrawn.")
    workflow.close(
        db.session, _ctx("oig", date(2024, 2, 1)), rec("TEST-R-1", 2), implemented=False, note="Moot."
    )
    db.session.commit()


# Labels of the recommendations, as the list writes them.
ALL_12_15 = {"OIG-12-15 #1", "OIG-12-15 #2", "OIG-12-15 #3", "OIG-12-15 #4"}
R1, R2 = "TEST-R-1 #1", "TEST-R-1 #2"

# (day, {label: status}) of everything issued by then.
STATUSES = {
    date(2012, 4, 30): {"OIG-12-15 #1": OU, "OIG-12-15 #2": OU, "OIG-12-15 #3": OU, "OIG-12-15 #4": OU},
    date(2012, 5, 1): {"OIG-12-15 #1": OU, "OIG-12-15 #2": OU, "OIG-12-15 #3": OR, "OIG-12-15 #4": OU},
    date(2016, 1, 3): {"OIG-12-15 #1": CN, "OIG-12-15 #2": OU, "OIG-12-15 #3": CI, "OIG-12-15 #4": OU},
    date(2016, 1, 4): {"OIG-12-15 #1": CN, "OIG-12-15 #2": OU, "OIG-12-15 #3": OU, "OIG-12-15 #4": OU},
    date(2014, 3, 31): {"OIG-12-15 #1": CN, "OIG-12-15 #2": OU, "OIG-12-15 #3": OR, "OIG-12-15 #4": OU},
    date(2016, 3, 31): {"OIG-12-15 #1": CN, "OIG-12-15 #2": OU, "OIG-12-15 #3": OU, "OIG-12-15 #4": OU},
    date(2024, 3, 31): {
        "OIG-12-15 #1": CN,
        "OIG-12-15 #2": OU,
        "OIG-12-15 #3": OU,
        "OIG-12-15 #4": OU,
        R1: OU,
        R2: CN,
    },
}

# What each role may list at all on 2024-03-31: viewers never see the restricted report;
# each liaison sees both of its recommendations (the other component's as a placeholder).
LISTED_2024 = {
    "viewer": ALL_12_15,
    "oig": ALL_12_15 | {R1, R2},
    "liaison": ALL_12_15 | {R1, R2},
    "fema": ALL_12_15 | {R1, R2},
}

# (day, role, query) -> labels, by hand.
CASES = [
    # the day before a step, and the day of it (the state at the end of that day)
    (date(2012, 4, 30), "oig", "status=open_resolved", set()),
    (date(2012, 5, 1), "oig", "status=open_resolved", {"OIG-12-15 #3"}),
    (date(2012, 5, 1), "viewer", "", ALL_12_15),
    (date(2016, 1, 3), "oig", "status=closed", {"OIG-12-15 #1", "OIG-12-15 #3"}),
    (date(2016, 1, 4), "oig", "status=closed", {"OIG-12-15 #1"}),
    (date(2016, 1, 4), "viewer", "status=open", {"OIG-12-15 #2", "OIG-12-15 #3", "OIG-12-15 #4"}),
    (date(2014, 3, 31), "oig", "", ALL_12_15),
    (date(2014, 3, 31), "oig", "status=open", {"OIG-12-15 #2", "OIG-12-15 #3", "OIG-12-15 #4"}),
    (date(2014, 3, 31), "oig", "status=closed", {"OIG-12-15 #1"}),
    (date(2014, 3, 31), "oig", "status=open_resolved", {"OIG-12-15 #3"}),
    (date(2014, 3, 31), "viewer", "clock=response_overdue", {"OIG-12-15 #2", "OIG-12-15 #4"}),
    (date(2014, 3, 31), "viewer", "clock=resolution_overdue", {"OIG-12-15 #2", "OIG-12-15 #4"}),
    (date(2014, 3, 31), "viewer", "clock=target_overdue", {"OIG-12-15 #3"}),
    (date(2014, 3, 31), "viewer", "clock=update_overdue", {"OIG-12-15 #3"}),
    (date(2014, 3, 31), "liaison", "clock=update_overdue&component=FEMA", {"OIG-12-15 #3"}),
    (date(2014, 3, 31), "liaison", "clock=update_overdue&component=I%26A", set()),
    (date(2014, 3, 31), "oig", "clock=gao_ig_act", {"OIG-12-15 #2", "OIG-12-15 #3", "OIG-12-15 #4"}),
    (date(2016, 3, 31), "oig", "status=open_resolved", set()),
    (date(2016, 3, 31), "viewer", "status=open", {"OIG-12-15 #2", "OIG-12-15 #3", "OIG-12-15 #4"}),
    (date(2016, 3, 31), "viewer", "clock=update_overdue", set()),
    (date(2016, 3, 31), "oig", "clock=target_overdue", {"OIG-12-15 #3"}),
    # the reopened recommendation's new responses are due 2016-04-03: late from the 4th
    (date(2016, 4, 2), "viewer", "clock=response_overdue", {"OIG-12-15 #2", "OIG-12-15 #4"}),
    (date(2016, 4, 3), "viewer", "clock=response_overdue", {"OIG-12-15 #2", "OIG-12-15 #4"}),
    (date(2016, 4, 4), "viewer", "clock=response_overdue", {"OIG-12-15 #2", "OIG-12-15 #3", "OIG-12-15 #4"}),
    (date(2024, 3, 31), "viewer", "", ALL_12_15),
    (date(2024, 3, 31), "oig", "", ALL_12_15 | {R1, R2}),
    (date(2024, 3, 31), "liaison", "", ALL_12_15 | {R1, R2}),
    (date(2024, 3, 31), "viewer", "status=closed", {"OIG-12-15 #1"}),
    (date(2024, 3, 31), "oig", "status=closed", {"OIG-12-15 #1", R2}),
    (date(2024, 3, 31), "liaison", "status=closed", {"OIG-12-15 #1", R2}),  # R2 as a placeholder
    (
        date(2024, 3, 31),
        "oig",
        "clock=response_overdue",
        {"OIG-12-15 #2", "OIG-12-15 #3", "OIG-12-15 #4", R1},
    ),
    (
        date(2024, 3, 31),
        "liaison",
        "clock=response_overdue",
        {"OIG-12-15 #2", "OIG-12-15 #3", "OIG-12-15 #4", R1},
    ),
    # FEMA's liaison may not read R1 (I&A's): a clock reads what a placeholder hides
    (date(2024, 3, 31), "fema", "clock=response_overdue", {"OIG-12-15 #2", "OIG-12-15 #3", "OIG-12-15 #4"}),
    (date(2024, 3, 31), "fema", "clock=gao_ig_act", {"OIG-12-15 #2", "OIG-12-15 #3", "OIG-12-15 #4", R1}),
    (date(2024, 3, 31), "viewer", "clock=gao_ig_act", {"OIG-12-15 #2", "OIG-12-15 #3", "OIG-12-15 #4"}),
]


def _listed(client: FlaskClient, query: str) -> set[str]:
    text = visible_text(client.get(f"/recommendations?{query}"))
    return {f"{n} #{k}" for n, k in re.findall(r"(OIG-\d\d-\d\d|TEST-R-1) #(\d)", text)}


def _csv(client: FlaskClient, query: str) -> list[dict[str, str]]:
    response = client.get(f"/recommendations/export.csv?{query}")
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def _label(r: Any) -> str:
    return f"{r.report.number} #{r.number}"


def _component_id(abbreviation: str) -> int:
    from app.models import Component

    return db.session.scalar(sa.select(Component.id).where(Component.abbreviation == abbreviation))


def _query(day: date, query: str) -> str:
    query = query.replace("component=FEMA", f"component={_component_id('FEMA')}")
    query = query.replace("component=I%26A", f"component={_component_id('I&A')}")
    return f"as_of={day.isoformat()}" + (f"&{query}" if query else "")


@pytest.mark.parametrize(("day", "role", "query", "expected"), CASES)
def test_list_csv_and_pdf_as_of_a_past_date_agree_with_history(
    walked: None, as_role: Any, day: date, role: str, query: str, expected: set[str]
) -> None:
    client = as_role(role)
    q = _query(day, query)
    assert _listed(client, q) == expected
    rows = _csv(client, q)
    assert {f"{r['report_number']} #{r['rec_number']}" for r in rows} == expected
    # each row's status is that day's (nothing changed between 2016-03-31 and 2016-04-04)
    statuses = STATUSES[max(d for d in STATUSES if d <= day)]
    for r in rows:
        if r["rec_text"] != "Restricted: not available in this version.":
            assert r["status"] == statuses[f"{r['report_number']} #{r['rec_number']}"].label
    # the portfolio PDF's lines, and the history's own replay of that day
    pdf = client.get(f"/recommendations/status.pdf?{q}")
    assert pdf.status_code == 200
    user = user_by_email(EMAILS[role])
    args = dict(p.split("=") for p in q.split("&"))
    filters = RecFilters(
        status=args.get("status", ""),
        clock=args.get("clock", ""),
        component_id=int(args["component"]) if "component" in args else None,
        as_of=day,
    )
    folio = pdf_data.portfolio(db.session, user, filters, day, INTERVAL, 1000)
    assert {_label(line.rec) for line in folio.lines} == expected
    for line in folio.lines:
        replayed = history.state_as_of(db.session, line.rec.id, day)
        assert line.status == replayed.status


@pytest.mark.parametrize("role", ["viewer", "oig", "liaison", "fema"])
def test_statuses_and_concurrences_as_of_2014_03_31(walked: None, as_role: Any, role: str) -> None:
    """The list shows the status of that day (OIG-12-15 #3 was Open–Resolved, today it is
    Open–Unresolved), and the CSV each component's part of that day."""
    client = as_role(role)
    page = client.get("/recommendations?as_of=2014-03-31&status=open_resolved").get_data(as_text=True)
    assert "As of March 31, 2014" in page
    assert "Open–Resolved" in visible_text(
        client.get("/recommendations?as_of=2014-03-31&status=open_resolved")
    )
    rows = {
        (r["rec_number"], r["component"]): r for r in _csv(client, "as_of=2014-03-31&status=open_resolved")
    }
    assert set(rows) == {("3", "FEMA"), ("3", "I&A")}
    assert rows["3", "FEMA"]["status"] == "Open–Resolved"
    assert rows["3", "FEMA"]["response_state"] == "Accepted by the OIG"
    assert rows["3", "FEMA"]["closure_state"] == "Not requested"  # requested two days later
    assert rows["3", "FEMA"]["last_update_on"] == "2013-05-15"
    assert rows["3", "I&A"]["concurrence"] == "Non-concur"
    # today the same recommendation is Open–Unresolved, its closure long gone
    today_rows = _csv(client, "status=open_unresolved")
    assert ("3", "FEMA") in {
        (r["rec_number"], r["component"]) for r in today_rows if r["report_number"] == "OIG-12-15"
    }


def _reader(role: str) -> Any:
    if role == "anonymous":
        return SimpleNamespace(is_authenticated=False, role=None, component_ids=frozenset())
    return user_by_email(EMAILS[role])


@pytest.mark.parametrize(
    ("day", "role", "by_status", "late"),
    [
        (date(2014, 3, 31), "viewer", {OU: 2, OR: 1, CI: 0, CN: 1}, (2, 2, 1, 1)),
        (date(2014, 6, 1), "viewer", {OU: 2, OR: 0, CI: 1, CN: 1}, (2, 2, 0, 0)),
        (date(2016, 1, 4), "oig", {OU: 3, OR: 0, CI: 0, CN: 1}, (2, 3, 1, 0)),
        (date(2016, 3, 31), "oig", {OU: 3, OR: 0, CI: 0, CN: 1}, (2, 3, 1, 0)),
        (date(2016, 4, 4), "oig", {OU: 3, OR: 0, CI: 0, CN: 1}, (3, 3, 1, 0)),
        (date(2024, 3, 31), "viewer", {OU: 3, OR: 0, CI: 0, CN: 1}, (3, 3, 1, 0)),
        (date(2024, 3, 31), "oig", {OU: 4, OR: 0, CI: 0, CN: 2}, (4, 4, 1, 0)),
        (date(2024, 3, 31), "liaison", {OU: 4, OR: 0, CI: 0, CN: 2}, (4, 4, 1, 0)),
        (date(2024, 3, 31), "fema", {OU: 4, OR: 0, CI: 0, CN: 2}, (3, 3, 1, 0)),
    ],
)
def test_dashboard_counts_as_of_equal_the_lists(
    walked: None, as_role: Any, day: date, role: str, by_status: dict[RecStatus, int], late: tuple[int, ...]
) -> None:
    """(response overdue, resolution overdue, target passed, update overdue), by hand;
    each equals the length of the list it links to, as of the same day."""
    dash = dashboard_queries.build(db.session, _reader(role), day, INTERVAL, day)
    assert dash.by_status == by_status
    assert tuple(dash.overdue[name] for name in deadlines.LATE_CLOCKS) == late
    client = as_role(role)
    for name, n in zip(deadlines.LATE_CLOCKS, late, strict=True):
        assert len(_listed(client, f"as_of={day.isoformat()}&clock={name}")) == n
    page = client.get(f"/?as_of={day.isoformat()}").get_data(as_text=True)
    assert f"As of {day:%B} {day.day}, {day.year}" in page
    assert f"as_of={day.isoformat()}&amp;clock=response_overdue" in page  # its links keep the day


# --- the statutory tables equal the list filters -------------------------------------

ROLES = ["admin", "oig", "liaison", "fema", "viewer", "anonymous"]
TABLE_DAYS = [
    date(2014, 3, 31),
    date(2016, 1, 3),
    date(2016, 1, 4),
    date(2016, 4, 3),
    # TEST-R-1 (2023-01-10): more than six months from 2023-07-11, GAO-IG Act from 2024-01-10
    date(2023, 7, 10),
    date(2023, 7, 11),
    date(2024, 1, 9),
    date(2024, 1, 10),
    date(2024, 1, 11),
    None,  # today
]


def _ids(user: Any, filters: RecFilters, day: date) -> set[int]:
    stmt = recommendation_list(user, filters, day, INTERVAL)
    return set(db.session.scalars(stmt.with_only_columns(Recommendation.id)))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("day", TABLE_DAYS)
def test_semiannual_tables_equal_the_list_filters(walked: None, role: str, day: date | None) -> None:
    user = _reader(role)
    when = day or clock.today()
    as_of = past_day(when, clock.today())
    folio = pdf_data.portfolio(db.session, user, RecFilters(as_of=as_of), when, INTERVAL, 1000)
    tables = folio.tables
    pairs = [
        (tables.open_over_6_months, RecFilters(age="over_6_months", as_of=as_of)),
        (tables.significant_without_final_action, RecFilters(significant=True, status="open", as_of=as_of)),
        (tables.gao_ig_act, RecFilters(clock="gao_ig_act", as_of=as_of)),
    ]
    for table, filters in pairs:
        assert {line.rec.id for line in table} == _ids(user, filters, when), filters


@pytest.mark.parametrize(
    ("day", "over_6_months", "gao_ig_act"),
    [
        (date(2023, 7, 10), False, False),
        (date(2023, 7, 11), True, False),
        (date(2024, 1, 9), True, False),
        (date(2024, 1, 10), True, True),
        (date(2024, 1, 11), True, True),
    ],
)
def test_test_r_1_enters_the_tables_on_the_right_days(
    walked: None, day: date, over_6_months: bool, gao_ig_act: bool
) -> None:
    user = _reader("oig")
    folio = pdf_data.portfolio(db.session, user, RecFilters(as_of=day), day, INTERVAL, 1000)
    r1 = rec("TEST-R-1", 1).id
    assert (r1 in {line.rec.id for line in folio.tables.open_over_6_months}) is over_6_months
    assert (r1 in {line.rec.id for line in folio.tables.gao_ig_act}) is gao_ig_act
    # the viewer never sees it, on any day
    viewer = pdf_data.portfolio(db.session, _reader("viewer"), RecFilters(as_of=day), day, INTERVAL, 1000)
    assert r1 not in {line.rec.id for line in viewer.lines}


# --- periods, the picker, bad dates --------------------------------------------------


def test_periods_of_the_reopened_recommendation(walked: None) -> None:
    from app.models import AddresseePeriod, RecommendationPeriod

    three = rec("OIG-12-15", 3)
    rows = db.session.execute(
        sa.select(
            RecommendationPeriod.valid_from, RecommendationPeriod.valid_until, RecommendationPeriod.status
        )
        .where(RecommendationPeriod.recommendation_id == three.id)
        .order_by(RecommendationPeriod.valid_from)
    ).all()
    assert [tuple(r) for r in rows] == [
        (date(2011, 12, 6), date(2012, 5, 1), OU),
        (date(2012, 5, 1), date(2014, 6, 1), OR),
        (date(2014, 6, 1), date(2016, 1, 4), CI),
        (date(2016, 1, 4), None, OU),
    ]
    fema = _part(three, "FEMA")
    dues = db.session.execute(
        sa.select(AddresseePeriod.valid_from, AddresseePeriod.response_due, AddresseePeriod.update_due)
        .where(AddresseePeriod.addressee_id == fema.id)
        .order_by(AddresseePeriod.valid_from)
    ).all()
    assert [tuple(r) for r in dues] == [
        (date(2011, 12, 6), date(2012, 3, 5), None),  # 90 days after issue
        (date(2012, 2, 20), None, None),  # responded
        (date(2012, 5, 1), None, date(2012, 7, 30)),  # resolved: update 90 days on
        (date(2013, 5, 15), None, date(2013, 8, 13)),
        (date(2014, 4, 2), None, None),  # closure requested: paused
        (date(2014, 6, 1), None, None),  # closed
        (date(2016, 1, 4), date(2016, 4, 3), None),  # reopened
    ]


def test_rebuild_all_writes_the_same_periods(walked: None) -> None:
    from app.models import AddresseePeriod, RecommendationPeriod

    def snapshot() -> list[Any]:
        out = []
        for model in (RecommendationPeriod, AddresseePeriod):
            columns = [c for c in model.__table__.c if c.name != "id"]
            out.append(sorted(tuple(r) for r in db.session.execute(sa.select(*columns))))
        return out

    before = snapshot()
    periods.rebuild_all(db.session.connection(), DeadlinePolicy())
    assert snapshot() == before


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 11, 16), [date(2026, 9, 30), date(2026, 3, 31), date(2025, 9, 30)]),
        (date(2026, 9, 29), [date(2026, 3, 31), date(2025, 9, 30), date(2025, 3, 31)]),
        (date(2026, 9, 30), [date(2026, 9, 30), date(2026, 3, 31), date(2025, 9, 30)]),
        (date(2026, 10, 1), [date(2026, 9, 30), date(2026, 3, 31), date(2025, 9, 30)]),
        (date(2027, 3, 31), [date(2027, 3, 31), date(2026, 9, 30), date(2026, 3, 31)]),
    ],
)
def test_period_picker_offers_past_period_ends(today: date, expected: list[date]) -> None:
    assert [d for d, _ in period_ends(today, 3)] == expected


def test_period_picker_labels_and_earliest() -> None:
    assert period_ends(date(2026, 11, 16), 2) == [
        (date(2026, 9, 30), "End of the semiannual period ending September 30, 2026"),
        (date(2026, 3, 31), "End of the semiannual period ending March 31, 2026"),
    ]
    # nothing before the Inspector General Act (1978-10-12)
    assert period_ends(date(1979, 4, 1), 10) == [
        (date(1979, 3, 31), "End of the semiannual period ending March 31, 1979")
    ]
    assert len(period_ends(date(2026, 11, 16))) == 10


def test_the_pages_offer_the_picker(as_role: Any) -> None:
    client = as_role("viewer")
    for url in ("/recommendations", "/"):
        page = client.get(url).get_data(as_text=True)
        assert 'value="2026-09-30"' in page
        assert "End of the semiannual period ending March 31, 2026" in page
    page = client.get("/recommendations?as_of=2026-03-31").get_data(as_text=True)
    assert '<option value="2026-03-31" selected>' in page
    assert "As of March 31, 2026" in page
    # the downloads keep the day
    assert "export.csv?as_of=2026-03-31" in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("as_of=2014-02-30", "must be a real date"),
        ("as_of=2999-01-01", "cannot be in the future"),
        ("as_of_date=1978-10-11", "cannot be before 1978-10-12"),
        ("as_of=yesterday", "must be a real date"),
    ],
)
def test_a_bad_as_of_date_is_a_message_by_the_field(as_role: Any, query: str, message: str) -> None:
    client = as_role("oig")
    for url in ("/recommendations", "/"):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert 'id="as_of-error"' in page
        assert message in page
    for url in ("/recommendations/export.csv", "/recommendations/export.xlsx", "/recommendations/status.pdf"):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)


def test_as_of_today_is_the_live_list(walked: None, as_role: Any, today: date) -> None:
    client = as_role("oig")
    assert _listed(client, f"as_of={today.isoformat()}") == _listed(client, "")
    page = client.get(f"/recommendations?as_of={today.isoformat()}").get_data(as_text=True)
    assert ">Recommendations</h1>" in page


def test_free_date_wins_over_the_period(walked: None, as_role: Any) -> None:
    client = as_role("oig")
    listed = _listed(client, "as_of=2026-03-31&as_of_date=2014-03-31&status=open_resolved")
    assert listed == {"OIG-12-15 #3"}


def test_reader_scope_anonymous_sees_nothing(walked: None) -> None:
    assert _ids(_reader("anonymous"), RecFilters(as_of=date(2024, 3, 31)), date(2024, 3, 31)) == set()


def test_deadlines_recompute_rebuilds_the_periods(walked: None, app: Any) -> None:
    from app.models import RecommendationPeriod

    three = rec("OIG-12-15", 3).id
    db.session.execute(sa.delete(RecommendationPeriod).where(RecommendationPeriod.recommendation_id == three))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["deadlines", "recompute"])
    assert result.exit_code == 0, result.output
    assert "rebuilt from history" in result.output
    starts = db.session.scalars(
        sa.select(RecommendationPeriod.valid_from)
        .where(RecommendationPeriod.recommendation_id == three)
        .order_by(RecommendationPeriod.valid_from)
    ).all()
    assert starts == [date(2011, 12, 6), date(2012, 5, 1), date(2014, 6, 1), date(2016, 1, 4)]


def test_as_of_the_list_is_not_sorted_by_todays_status(walked: None, as_role: Any) -> None:
    """As of 2014-03-31 a status sort would order by today's status: the list keeps the
    newest-first order and offers no status sort."""
    client = as_role("oig")
    page = client.get("/recommendations?as_of=2014-03-31&sort=status").get_data(as_text=True)
    assert "sorted by newest report first" in page
    assert '<th scope="col">Status</th>' in page  # a plain heading, not a sort link
    today_page = client.get("/recommendations?sort=newest").get_data(as_text=True)
    assert '<th scope="col">Status</th>' not in today_page


def test_xlsx_as_of_a_past_date(walked: None, as_role: Any) -> None:
    from openpyxl import load_workbook

    response = as_role("viewer").get("/recommendations/export.xlsx?as_of=2014-03-31&status=open_resolved")
    assert response.status_code == 200
    assert "rectrack-recommendations-2014-03-31.xlsx" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True)["Recommendations"]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    found = {
        (r[header.index("rec_number")], r[header.index("component")], r[header.index("status")])
        for r in rows[1:]
    }
    assert found == {(3, "FEMA", "Open–Resolved"), (3, "I&A", "Open–Resolved")}
