"""The due-date registry (app/lifecycle/deadlines.py) function by function, on plain
values and on stand-in rows, so that `make mutation` can judge it quickly: each clock in
each state, the day before, on and after each cut-off, and the SQL criteria on
recommendations built for the purpose (SQLite and PostgreSQL).

Every expected date below was worked out by hand from a calendar:
issued January 15, 2024 (a leap year) → response due April 14, 2024 (90 days: 16 days
left in January, 29 in February, 31 in March, 14 in April); resolution due July 15,
2024 (six months); GAO-IG Act from January 15, 2025 (one year).
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.lifecycle import deadlines
from app.lifecycle.clocks import AgeBucket, Clock
from app.lifecycle.deadlines import (
    AddresseeClocks,
    AddresseeDueDates,
    ClockFilter,
    DeadlinePolicy,
    RecDueDates,
    RecommendationClocks,
)
from app.models import Addressee, ClosureState, Concurrence, Recommendation, RecStatus, Report, ResponseState
from tests.factories import make_component, make_recommendation, make_report, part

ISSUED = date(2024, 1, 15)
RESPONSE = date(2024, 4, 14)
RESOLUTION = date(2024, 7, 15)
GAO = date(2025, 1, 15)
TARGET = date(2024, 12, 31)
RESOLVED = date(2024, 3, 1)  # + 90 days: May 30, 2024 (30 + 30 + 30)
LAST_UPDATE = date(2024, 4, 10)  # + 90 days: July 9, 2024 (20 + 31 + 30 + 9)
RETURNED_ON = date(2024, 6, 1)  # + 90 days: August 30, 2024 (29 + 31 + 30)

# --- DeadlinePolicy ---------------------------------------------------------------------


def test_policy_defaults_and_from_config() -> None:
    assert DeadlinePolicy() == DeadlinePolicy(update_interval_days=90, revised_response_days=30)
    assert DeadlinePolicy.from_config({}) == DeadlinePolicy(update_interval_days=90, revised_response_days=30)
    got = DeadlinePolicy.from_config({"UPDATE_INTERVAL_DAYS": "60", "REVISED_RESPONSE_DAYS": "45"})
    assert got == DeadlinePolicy(update_interval_days=60, revised_response_days=45)
    assert got.update_interval_days == 60
    assert got.revised_response_days == 45
    only_update = DeadlinePolicy.from_config({"UPDATE_INTERVAL_DAYS": 120})
    assert (only_update.update_interval_days, only_update.revised_response_days) == (120, 30)
    only_revised = DeadlinePolicy.from_config({"REVISED_RESPONSE_DAYS": 14})
    assert (only_revised.update_interval_days, only_revised.revised_response_days) == (90, 14)


# --- rec_due_dates ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (RecStatus.OPEN_UNRESOLVED, (RESOLUTION, GAO)),
        ("open_unresolved", (RESOLUTION, GAO)),
        (RecStatus.OPEN_RESOLVED, (None, GAO)),
        ("open_resolved", (None, GAO)),
        (RecStatus.CLOSED_IMPLEMENTED, (None, None)),
        ("closed_not_implemented", (None, None)),
        (None, (None, None)),
    ],
)
def test_rec_due_dates_in_each_state(status: Any, expected: tuple[date | None, date | None]) -> None:
    got = deadlines.rec_due_dates(status, ISSUED)
    assert (got.resolution_due, got.gao_ig_act_from) == expected
    assert got == RecDueDates(resolution_due=expected[0], gao_ig_act_from=expected[1])


def test_rec_due_dates_clamp_to_the_month_end() -> None:
    # August 31, 2023: six months on is February 29, 2024; a year on, August 31, 2024
    got = deadlines.rec_due_dates(RecStatus.OPEN_UNRESOLVED, date(2023, 8, 31))
    assert got == RecDueDates(resolution_due=date(2024, 2, 29), gao_ig_act_from=date(2024, 8, 31))


# --- owes_updates_values ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("concurrence", "has_plan", "owes"),
    [
        (Concurrence.NON_CONCUR, False, False),
        (Concurrence.NON_CONCUR, True, True),
        (Concurrence.CONCUR, False, True),
        (Concurrence.CONCUR, True, True),
        (Concurrence.PARTIAL, False, True),
        (Concurrence.PENDING, False, True),
    ],
)
def test_who_owes_updates(concurrence: Concurrence, has_plan: bool, owes: bool) -> None:
    assert deadlines.owes_updates_values(concurrence, has_plan) is owes


# --- addressee_due_dates ----------------------------------------------------------------


def _values(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "status": RecStatus.OPEN_UNRESOLVED,
        "issued": ISSUED,
        "resolved_on": None,
        "response_state": ResponseState.NONE,
        "response_due_on": None,
        "concurrence": Concurrence.CONCUR,
        "has_plan": True,
        "last_update_on": None,
        "closure_state": ClosureState.NONE,
        "closure_state_on": None,
        "target_date": TARGET,
        "interval_days": 90,
    }
    values.update(overrides)
    return values


def _resolved(**overrides: Any) -> dict[str, Any]:
    return _values(**{"status": RecStatus.OPEN_RESOLVED, "resolved_on": RESOLVED, **overrides})


def _due(values: dict[str, Any]) -> tuple[date | None, date | None, date | None]:
    got = deadlines.addressee_due_dates(**values)
    return got.response_due, got.update_due, got.target_due


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # Open–Unresolved: the response clock, from the issue date or a step's own date
        (_values(), (RESPONSE, None, TARGET)),
        (
            _values(status="open_unresolved", response_state="none", concurrence="concur"),
            (RESPONSE, None, TARGET),
        ),
        (_values(response_state=ResponseState.RETURNED), (RESPONSE, None, TARGET)),
        (
            _values(response_state=ResponseState.RETURNED, response_due_on=date(2024, 5, 20)),
            (date(2024, 5, 20), None, TARGET),
        ),
        (_values(response_due_on=date(2024, 8, 1)), (date(2024, 8, 1), None, TARGET)),
        (_values(response_state=ResponseState.SUBMITTED), (None, None, TARGET)),
        (
            _values(response_state=ResponseState.ACCEPTED, response_due_on=date(2024, 5, 20)),
            (None, None, TARGET),
        ),
        (_values(target_date=None), (RESPONSE, None, None)),
        # Open–Resolved: no response clock; the update clock from the latest start
        (_resolved(), (None, date(2024, 5, 30), TARGET)),
        (
            _resolved(status="open_resolved", closure_state="none", concurrence="concur"),
            (None, date(2024, 5, 30), TARGET),
        ),
        (
            _resolved(response_state=ResponseState.NONE, response_due_on=date(2024, 5, 20)),
            (None, date(2024, 5, 30), TARGET),
        ),
        (_resolved(last_update_on=LAST_UPDATE), (None, date(2024, 7, 9), TARGET)),
        (_resolved(last_update_on=LAST_UPDATE, interval_days=60), (None, date(2024, 6, 9), TARGET)),
        (_resolved(interval_days=30), (None, date(2024, 3, 31), TARGET)),
        # a closure request pauses it; its return restarts it; a stale date of another
        # closure state does not count
        (_resolved(closure_state=ClosureState.REQUESTED, closure_state_on=RETURNED_ON), (None, None, TARGET)),
        (_resolved(closure_state="requested"), (None, None, TARGET)),
        (
            _resolved(
                last_update_on=LAST_UPDATE, closure_state=ClosureState.RETURNED, closure_state_on=RETURNED_ON
            ),
            (None, date(2024, 8, 30), TARGET),
        ),
        (
            _resolved(last_update_on=LAST_UPDATE, closure_state="returned", closure_state_on=RETURNED_ON),
            (None, date(2024, 8, 30), TARGET),
        ),
        (
            _resolved(
                last_update_on=LAST_UPDATE, closure_state=ClosureState.NONE, closure_state_on=RETURNED_ON
            ),
            (None, date(2024, 7, 9), TARGET),
        ),
        (
            _resolved(
                last_update_on=LAST_UPDATE, closure_state=ClosureState.ACCEPTED, closure_state_on=RETURNED_ON
            ),
            (None, date(2024, 7, 9), TARGET),
        ),
        # a non-concurrence without a plan owes none; with a plan it does
        (_resolved(concurrence=Concurrence.NON_CONCUR, has_plan=False), (None, None, TARGET)),
        (_resolved(concurrence="non_concur", has_plan=False), (None, None, TARGET)),
        (_resolved(concurrence=Concurrence.NON_CONCUR, has_plan=True), (None, date(2024, 5, 30), TARGET)),
        (_resolved(concurrence=Concurrence.CONCUR, has_plan=False), (None, date(2024, 5, 30), TARGET)),
        # Open–Resolved without a resolution date: no update clock
        (_values(status=RecStatus.OPEN_RESOLVED, last_update_on=LAST_UPDATE), (None, None, TARGET)),
        # closed or not issued: no clock at all
        (_resolved(status=RecStatus.CLOSED_IMPLEMENTED, last_update_on=LAST_UPDATE), (None, None, None)),
        (_values(status=RecStatus.CLOSED_NOT_IMPLEMENTED), (None, None, None)),
        (_values(status="closed_implemented"), (None, None, None)),
        (_values(status=None), (None, None, None)),
    ],
)
def test_addressee_due_dates_in_each_state(
    values: dict[str, Any], expected: tuple[date | None, date | None, date | None]
) -> None:
    assert _due(values) == expected


# --- the same on rows (stand-ins with the model's attribute names) ---------------------


def _part(id_: int = 1, **overrides: Any) -> SimpleNamespace:
    fields: dict[str, Any] = {
        "id": id_,
        "response_state": ResponseState.NONE,
        "response_due_on": None,
        "concurrence": Concurrence.CONCUR,
        "corrective_action_plan": "A corrective action plan.",
        "last_update_on": None,
        "closure_state": ClosureState.NONE,
        "closure_state_on": None,
        "target_date": TARGET,
    }
    fields.update(overrides)
    return SimpleNamespace(**fields)


def _rec(
    *parts: SimpleNamespace,
    approximate: bool | None = False,
    tracked_since: date | None = None,
    **overrides: Any,
) -> SimpleNamespace:
    fields: dict[str, Any] = {
        "status": RecStatus.OPEN_UNRESOLVED,
        "resolved_on": None,
        "closed_on": None,
        "tracked_since": tracked_since,
        "addressees": list(parts),
        "report": SimpleNamespace(
            issued_on=ISSUED, issued_on_approximate=approximate, issue_date_imprecise=approximate
        ),
    }
    fields.update(overrides)
    return SimpleNamespace(**fields)


def test_due_dates_of_a_row_and_its_parts() -> None:
    answered = _part(7, response_state=ResponseState.SUBMITTED, target_date=date(2025, 3, 31))
    returned = _part(
        9, response_state=ResponseState.RETURNED, response_due_on=date(2024, 5, 20), target_date=None
    )
    waiting = _part(11)
    rec = _rec(answered, returned, waiting)
    rec_due, parts = deadlines.due_dates_of(rec, ISSUED, 90)
    assert rec_due == RecDueDates(resolution_due=RESOLUTION, gao_ig_act_from=GAO)
    assert parts == {
        7: AddresseeDueDates(response_due=None, update_due=None, target_due=date(2025, 3, 31)),
        9: AddresseeDueDates(response_due=date(2024, 5, 20), update_due=None, target_due=None),
        11: AddresseeDueDates(response_due=RESPONSE, update_due=None, target_due=TARGET),
    }
    resolved = _rec(
        _part(3, last_update_on=LAST_UPDATE), status=RecStatus.OPEN_RESOLVED, resolved_on=RESOLVED
    )
    assert deadlines.due_dates_of(resolved, ISSUED, 60) == (
        RecDueDates(resolution_due=None, gao_ig_act_from=GAO),
        {3: AddresseeDueDates(response_due=None, update_due=date(2024, 6, 9), target_due=TARGET)},
    )
    assert deadlines.rec_due_dates_of(rec, date(2024, 2, 29)) == RecDueDates(
        resolution_due=date(2024, 8, 29), gao_ig_act_from=date(2025, 2, 28)
    )


def test_due_dates_of_a_resolved_row_read_every_field() -> None:
    rec = _rec(status=RecStatus.OPEN_RESOLVED, resolved_on=RESOLVED)
    # every attribute the function reads, each one moving the date it feeds
    restarted = _part(
        last_update_on=LAST_UPDATE, closure_state=ClosureState.RETURNED, closure_state_on=RETURNED_ON
    )
    assert deadlines.addressee_due_dates_of(rec, restarted, ISSUED, 90) == AddresseeDueDates(
        response_due=None, update_due=date(2024, 8, 30), target_due=TARGET
    )
    assert deadlines.addressee_due_dates_of(
        rec, _part(last_update_on=LAST_UPDATE), ISSUED, 60
    ) == AddresseeDueDates(response_due=None, update_due=date(2024, 6, 9), target_due=TARGET)
    no_plan = _part(concurrence=Concurrence.NON_CONCUR, corrective_action_plan="")
    assert deadlines.addressee_due_dates_of(rec, no_plan, ISSUED, 90).update_due is None
    null_plan = _part(concurrence=Concurrence.NON_CONCUR, corrective_action_plan=None)
    assert deadlines.addressee_due_dates_of(rec, null_plan, ISSUED, 90).update_due is None
    with_plan = _part(concurrence=Concurrence.NON_CONCUR, corrective_action_plan="Will do X.")
    assert deadlines.addressee_due_dates_of(rec, with_plan, ISSUED, 90).update_due == date(2024, 5, 30)
    paused = _part(closure_state=ClosureState.REQUESTED, closure_state_on=RETURNED_ON)
    assert deadlines.addressee_due_dates_of(rec, paused, ISSUED, 90).update_due is None
    unresolved = _rec()
    assert deadlines.addressee_due_dates_of(unresolved, _part(), date(2024, 2, 1), 90).response_due == date(
        2024, 5, 1
    )
    assert (
        deadlines.addressee_due_dates_of(unresolved, _part(target_date=None), ISSUED, 90).target_due is None
    )


# --- the clocks in words -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "resolution_days_left", "gao", "over_6", "age"),
    [
        (date(2024, 7, 14), 1, False, False, AgeBucket.UNDER_6_MONTHS),
        (date(2024, 7, 15), 0, False, False, AgeBucket.MONTHS_6_TO_12),
        (date(2024, 7, 16), -1, False, True, AgeBucket.MONTHS_6_TO_12),
        (date(2025, 1, 14), -183, False, True, AgeBucket.MONTHS_6_TO_12),
        (date(2025, 1, 15), -184, True, True, AgeBucket.YEARS_1_TO_2),
        (date(2025, 1, 16), -185, True, True, AgeBucket.YEARS_1_TO_2),
    ],
)
def test_recommendation_clocks_of_an_unresolved_one(
    today: date, resolution_days_left: int, gao: bool, over_6: bool, age: AgeBucket
) -> None:
    got = deadlines.recommendation_clocks(_rec(_part()), ISSUED, today)  # type: ignore[arg-type]
    assert got == RecommendationClocks(
        resolution=Clock("Resolution", RESOLUTION, today, False),
        gao_ig_act=gao,
        open_over_6_months=over_6,
        age=age,
        due=RecDueDates(resolution_due=RESOLUTION, gao_ig_act_from=GAO),
    )
    assert got.resolution is not None
    assert got.resolution.days_left == resolution_days_left


def test_recommendation_clocks_of_an_approximate_issue_date() -> None:
    got = deadlines.recommendation_clocks(_rec(approximate=True), ISSUED, date(2024, 8, 1))  # type: ignore[arg-type]
    assert got.resolution == Clock("Resolution", RESOLUTION, date(2024, 8, 1), True)


def test_recommendation_clocks_of_a_resolved_one() -> None:
    rec = _rec(status=RecStatus.OPEN_RESOLVED, resolved_on=RESOLVED)
    got = deadlines.recommendation_clocks(rec, ISSUED, date(2025, 2, 1))  # type: ignore[arg-type]
    assert got == RecommendationClocks(
        resolution=None,
        gao_ig_act=True,
        open_over_6_months=True,
        age=AgeBucket.YEARS_1_TO_2,
        due=RecDueDates(resolution_due=None, gao_ig_act_from=GAO),
    )


def test_recommendation_clocks_of_a_closed_one() -> None:
    # closed May 1, 2024: its age stops there, and the open-only clocks do not run
    closed = _rec(status=RecStatus.CLOSED_IMPLEMENTED, closed_on=date(2024, 5, 1))
    got = deadlines.recommendation_clocks(closed, ISSUED, date(2030, 1, 1))  # type: ignore[arg-type]
    assert got == RecommendationClocks(
        resolution=None,
        gao_ig_act=False,
        open_over_6_months=False,
        age=AgeBucket.UNDER_6_MONTHS,
        due=RecDueDates(resolution_due=None, gao_ig_act_from=None),
    )
    # closed with no closing date on record: its age counts to today
    undated = _rec(status=RecStatus.CLOSED_NOT_IMPLEMENTED, closed_on=None)
    got = deadlines.recommendation_clocks(undated, ISSUED, date(2025, 2, 1))  # type: ignore[arg-type]
    assert got.age == AgeBucket.YEARS_1_TO_2
    assert (got.resolution, got.gao_ig_act, got.open_over_6_months) == (None, False, False)


def test_the_age_of_an_open_one_ignores_a_stale_closing_date() -> None:
    reopened = _rec(status=RecStatus.OPEN_UNRESOLVED, closed_on=date(2024, 2, 1))
    got = deadlines.recommendation_clocks(reopened, ISSUED, date(2026, 2, 1))  # type: ignore[arg-type]
    assert got.age == AgeBucket.YEARS_2_TO_5


def test_issue_date_approximate() -> None:
    assert deadlines.issue_date_approximate(_rec(approximate=True)) is True  # type: ignore[arg-type]
    assert deadlines.issue_date_approximate(_rec(approximate=False)) is False  # type: ignore[arg-type]
    assert deadlines.issue_date_approximate(_rec(approximate=None)) is False  # type: ignore[arg-type]


TODAY = date(2024, 4, 15)


def _clocks(
    rec: SimpleNamespace, addressee: SimpleNamespace, today: date = TODAY, interval: int = 90
) -> AddresseeClocks:
    return deadlines.addressee_clocks(rec, addressee, ISSUED, today, interval)  # type: ignore[arg-type]


def test_addressee_clocks_awaiting_the_first_response() -> None:
    got = _clocks(_rec(), _part())
    assert got == AddresseeClocks(
        response=Clock("Response", RESPONSE, TODAY, False),
        update=None,
        target=Clock("Target completion", TARGET, TODAY),
        no_update="",
        due=AddresseeDueDates(response_due=RESPONSE, update_due=None, target_due=TARGET),
    )
    assert got.response is not None
    assert got.response.text == "Response overdue by 1 day"
    approximate = _clocks(_rec(approximate=True), _part(target_date=None))
    assert approximate.response == Clock("Response", RESPONSE, TODAY, True)
    assert approximate.target is None


def test_addressee_clocks_awaiting_a_revised_response() -> None:
    # the revised response's date does not depend on the issue date: never approximate
    returned = _part(response_state=ResponseState.RETURNED, response_due_on=date(2024, 5, 20))
    got = _clocks(_rec(approximate=True), returned)
    assert got.response == Clock("Revised response", date(2024, 5, 20), TODAY, False)
    assert got.response is not None
    assert got.response.text == "Revised response due in 35 days"
    answered = _part(response_state=ResponseState.SUBMITTED, response_due_on=date(2024, 5, 20))
    assert _clocks(_rec(), answered).response is None


def test_addressee_clocks_of_a_resolved_part() -> None:
    rec = _rec(status=RecStatus.OPEN_RESOLVED, resolved_on=RESOLVED)
    got = _clocks(rec, _part(last_update_on=LAST_UPDATE), date(2024, 7, 1), 60)
    assert got == AddresseeClocks(
        response=None,
        update=Clock("Update", date(2024, 6, 9), date(2024, 7, 1)),
        target=Clock("Target completion", TARGET, date(2024, 7, 1)),
        no_update="",
        due=AddresseeDueDates(response_due=None, update_due=date(2024, 6, 9), target_due=TARGET),
    )


def test_why_a_resolved_part_has_no_update_clock() -> None:
    rec = _rec(status=RecStatus.OPEN_RESOLVED, resolved_on=RESOLVED)
    paused = _clocks(rec, _part(closure_state=ClosureState.REQUESTED, closure_state_on=date(2024, 6, 3)))
    assert paused.update is None
    assert paused.no_update == "Progress updates paused: closure requested on June 3, 2024"
    undated = _clocks(rec, _part(closure_state=ClosureState.REQUESTED))
    assert undated.no_update == "Progress updates paused: closure requested, awaiting the OIG's decision"
    no_plan = _clocks(rec, _part(concurrence=Concurrence.NON_CONCUR, corrective_action_plan=""))
    assert no_plan.update is None
    assert no_plan.no_update == ("No progress updates due: did not concur and has no corrective action plan")
    # not resolved (no date, or not Open–Resolved): nothing to explain
    assert _clocks(_rec(status=RecStatus.OPEN_RESOLVED), _part()).no_update == ""
    assert _clocks(_rec(), _part(closure_state=ClosureState.REQUESTED)).no_update == ""
    closed = _rec(status=RecStatus.CLOSED_IMPLEMENTED, resolved_on=RESOLVED)
    assert _clocks(closed, _part()) == AddresseeClocks(
        response=None,
        update=None,
        target=None,
        no_update="",
        due=AddresseeDueDates(response_due=None, update_due=None, target_due=None),
    )


@pytest.mark.parametrize(
    ("state", "on", "words"),
    [
        (ClosureState.NONE, date(2024, 6, 3), ""),
        (ClosureState.RETURNED, date(2024, 6, 3), ""),
        (ClosureState.ACCEPTED, None, ""),
        (
            ClosureState.REQUESTED,
            None,
            "Progress updates paused: closure requested, awaiting the OIG's decision",
        ),
        (
            ClosureState.REQUESTED,
            date(2026, 3, 3),
            "Progress updates paused: closure requested on March 3, 2026",
        ),
    ],
)
def test_updates_paused(state: ClosureState, on: date | None, words: str) -> None:
    addressee = _part(closure_state=state, closure_state_on=on)
    assert deadlines.updates_paused(addressee) == words  # type: ignore[arg-type]


# --- ClockFilter: the cut-off, the comparison, the column --------------------------------


def test_clock_filter_cutoff_and_match() -> None:
    soon = ClockFilter("x", "X", "addressee", "update_due", 31)
    assert soon.cutoff(date(2024, 3, 1)) == date(2024, 4, 1)
    overdue = ClockFilter("y", "Y", "addressee", "update_due")
    assert overdue.days_after_today == 0
    assert overdue.cutoff(date(2024, 3, 1)) == date(2024, 3, 1)
    assert overdue.matches(None, date(2024, 3, 1)) is False
    assert overdue.matches(date(2024, 2, 29), date(2024, 3, 1)) is True
    assert overdue.matches(date(2024, 3, 1), date(2024, 3, 1)) is False
    assert soon.matches(date(2024, 3, 31), date(2024, 3, 1)) is True
    assert soon.matches(date(2024, 4, 1), date(2024, 3, 1)) is False


@pytest.mark.parametrize(
    ("name", "model", "column"),
    [
        ("response_overdue", Addressee, "response_due"),
        ("resolution_overdue", Recommendation, "resolution_due"),
        ("target_overdue", Addressee, "target_due"),
        ("update_due", Addressee, "update_due"),
        ("update_overdue", Addressee, "update_due"),
        ("gao_ig_act", Recommendation, "gao_ig_act_from"),
    ],
)
def test_each_filter_reads_its_stored_column(name: str, model: type, column: str) -> None:
    assert deadlines.CLOCK_FILTERS_BY_NAME[name].column() is getattr(model, column)


def test_the_filter_lists() -> None:
    assert deadlines.CLOCK_FILTERS == {
        "response_overdue": "Response overdue",
        "resolution_overdue": "Resolution past 6 months",
        "target_overdue": "Target date passed",
        "update_due": "Update due within 30 days or overdue",
        "update_overdue": "Update overdue",
        "gao_ig_act": "Open 1 year or more (GAO-IG Act)",
    }
    assert {
        "response_overdue",
        "target_overdue",
        "update_due",
        "update_overdue",
    } == deadlines.ADDRESSEE_CLOCKS
    assert deadlines.LATE_CLOCKS == (
        "response_overdue",
        "resolution_overdue",
        "target_overdue",
        "update_overdue",
    )
    assert frozenset() == deadlines.CLOCKS_ON_ISSUE_DATE


def test_an_unknown_filter_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^unknown clock filter 'nope'$"):
        deadlines.due_dates_match("nope", RecDueDates(None, None), [], date(2024, 1, 1))
    with pytest.raises(ValueError, match=r"^unknown clock filter 'nope'$"):
        deadlines.clock_criterion("nope", date(2024, 1, 1))
    with pytest.raises(ValueError, match=r"^unknown clock filter 'nope'$"):
        deadlines.addressee_late("nope", date(2024, 1, 1))


# Each clock's due date and the day before, on and after its cut-off (late or not):
# due April 14 → overdue from April 15; update due May 30 → "due within 30 days" from
# April 30 (May 30 - 30), overdue from May 31; GAO-IG from the anniversary itself.
BOUNDARIES = [
    ("response_overdue", RESPONSE, date(2024, 4, 13), False),
    ("response_overdue", RESPONSE, date(2024, 4, 14), False),
    ("response_overdue", RESPONSE, date(2024, 4, 15), True),
    ("resolution_overdue", RESOLUTION, date(2024, 7, 14), False),
    ("resolution_overdue", RESOLUTION, date(2024, 7, 15), False),
    ("resolution_overdue", RESOLUTION, date(2024, 7, 16), True),
    ("target_overdue", TARGET, date(2024, 12, 30), False),
    ("target_overdue", TARGET, date(2024, 12, 31), False),
    ("target_overdue", TARGET, date(2025, 1, 1), True),
    ("update_due", date(2024, 5, 30), date(2024, 4, 29), False),
    ("update_due", date(2024, 5, 30), date(2024, 4, 30), True),
    ("update_due", date(2024, 5, 30), date(2024, 5, 1), True),
    ("update_overdue", date(2024, 5, 30), date(2024, 5, 29), False),
    ("update_overdue", date(2024, 5, 30), date(2024, 5, 30), False),
    ("update_overdue", date(2024, 5, 30), date(2024, 5, 31), True),
    ("gao_ig_act", GAO, date(2025, 1, 14), False),
    ("gao_ig_act", GAO, date(2025, 1, 15), True),
    ("gao_ig_act", GAO, date(2025, 1, 16), True),
]
REC_FIELDS = {"resolution_overdue": "resolution_due", "gao_ig_act": "gao_ig_act_from"}
PART_FIELDS = {
    "response_overdue": "response_due",
    "target_overdue": "target_due",
    "update_due": "update_due",
    "update_overdue": "update_due",
}


def _dates(name: str, due: date | None) -> tuple[RecDueDates, AddresseeDueDates]:
    rec_values: dict[str, date | None] = {"resolution_due": None, "gao_ig_act_from": None}
    part_values: dict[str, date | None] = {"response_due": None, "update_due": None, "target_due": None}
    if name in REC_FIELDS:
        rec_values[REC_FIELDS[name]] = due
    else:
        part_values[PART_FIELDS[name]] = due
    return RecDueDates(**rec_values), AddresseeDueDates(**part_values)


@pytest.mark.parametrize(("name", "due", "day", "late"), BOUNDARIES)
def test_due_dates_match_at_each_boundary(name: str, due: date, day: date, late: bool) -> None:
    rec_due, part_due = _dates(name, due)
    quiet = AddresseeDueDates(response_due=None, update_due=None, target_due=None)
    assert deadlines.due_dates_match(name, rec_due, [quiet, part_due], day) is late
    assert deadlines.due_dates_match(name, rec_due, [part_due, quiet], day) is late
    assert deadlines.CLOCK_FILTERS_BY_NAME[name].matches(due, day) is late
    # the same on clocks already computed (a part without due dates is left out)
    rec_clocks = RecommendationClocks(
        resolution=None, gao_ig_act=False, open_over_6_months=False, age=AgeBucket.UNDER_6_MONTHS, due=rec_due
    )
    parts = [AddresseeClocks(None, None, None), AddresseeClocks(None, None, None, due=part_due)]
    assert deadlines.clock_matches(name, rec_clocks, parts, day) is late


@pytest.mark.parametrize("name", ["response_overdue", "resolution_overdue", "update_overdue", "gao_ig_act"])
def test_due_dates_match_without_a_due_date(name: str) -> None:
    rec_due, part_due = _dates(name, None)
    assert deadlines.due_dates_match(name, rec_due, [part_due], date(2030, 1, 1)) is False
    assert deadlines.due_dates_match(name, rec_due, [], date(2030, 1, 1)) is False


def test_a_recommendation_clock_reads_the_recommendation_not_the_parts() -> None:
    # a part's dates never make a recommendation-level clock late, and the reverse
    late_part = AddresseeDueDates(
        response_due=date(2000, 1, 1), update_due=date(2000, 1, 1), target_due=date(2000, 1, 1)
    )
    late_rec = RecDueDates(resolution_due=date(2000, 1, 1), gao_ig_act_from=date(2000, 1, 1))
    quiet_rec = RecDueDates(resolution_due=None, gao_ig_act_from=None)
    assert deadlines.due_dates_match("resolution_overdue", quiet_rec, [late_part], date(2024, 1, 1)) is False
    assert deadlines.due_dates_match("resolution_overdue", late_rec, [], date(2024, 1, 1)) is True
    assert deadlines.due_dates_match("response_overdue", late_rec, [], date(2024, 1, 1)) is False


# --- the same comparisons in SQL, on the stored columns ---------------------------------


def _built() -> dict[str, Any]:
    """Three recommendations issued January 15, 2024 (stored dates as in the header):
    `one` addressed to A (awaiting its response) and B (answered, target December 31,
    2024); `resolved` Open–Resolved on March 1, 2024 (update due May 30, 2024); `closed`
    Closed–Implemented (no clock); and `bare`, with no addressee at all."""
    a, b = make_component(), make_component()
    report = make_report(issued_on=ISSUED, components=[a, b])
    one = make_recommendation(
        report,
        [
            a,
            (
                b,
                {
                    "response_state": ResponseState.SUBMITTED,
                    "corrective_action_plan": "Plan.",
                    "target_date": TARGET,
                },
            ),
        ],
    )
    resolved = make_recommendation(
        report,
        [
            (
                a,
                {
                    "concurrence": Concurrence.CONCUR,
                    "response_state": ResponseState.ACCEPTED,
                    "corrective_action_plan": "Plan.",
                },
            )
        ],
        status=RecStatus.OPEN_RESOLVED,
        resolved_on=RESOLVED,
    )
    closed = make_recommendation(report, [a], status=RecStatus.CLOSED_IMPLEMENTED, closed_on=date(2024, 3, 1))
    bare = make_recommendation(report, [])
    db.session.flush()
    return {"a": a, "b": b, "one": one, "resolved": resolved, "closed": closed, "bare": bare}


def _ids(criterion: Any, built: dict[str, Any]) -> set[str]:
    names = {built[k].id: k for k in ("one", "resolved", "closed", "bare")}
    found = db.session.scalars(sa.select(Recommendation.id).where(criterion, Recommendation.id.in_(names)))
    return {names[i] for i in found}


def test_the_stored_columns_of_the_built_records(app) -> None:
    built = _built()
    one, resolved = built["one"], built["resolved"]
    assert (one.resolution_due, one.gao_ig_act_from) == (RESOLUTION, GAO)
    assert (part(one, built["a"]).response_due, part(one, built["a"]).target_due) == (RESPONSE, None)
    assert (part(one, built["b"]).response_due, part(one, built["b"]).target_due) == (None, TARGET)
    assert (resolved.resolution_due, resolved.gao_ig_act_from) == (None, GAO)
    assert part(resolved, built["a"]).update_due == date(2024, 5, 30)
    assert (built["bare"].resolution_due, built["bare"].gao_ig_act_from) == (RESOLUTION, GAO)
    assert (built["closed"].resolution_due, built["closed"].gao_ig_act_from) == (None, None)


SQL_EXPECTED = [
    ("response_overdue", date(2024, 4, 14), set()),
    ("response_overdue", date(2024, 4, 15), {"one"}),
    ("resolution_overdue", date(2024, 7, 15), set()),
    ("resolution_overdue", date(2024, 7, 16), {"one", "bare"}),
    ("target_overdue", date(2024, 12, 31), set()),
    ("target_overdue", date(2025, 1, 1), {"one"}),
    ("update_due", date(2024, 4, 29), set()),
    ("update_due", date(2024, 4, 30), {"resolved"}),
    ("update_overdue", date(2024, 5, 30), set()),
    ("update_overdue", date(2024, 5, 31), {"resolved"}),
    ("gao_ig_act", date(2025, 1, 14), set()),
    ("gao_ig_act", date(2025, 1, 15), {"one", "resolved", "bare"}),
]


@pytest.mark.parametrize(("name", "day", "expected"), SQL_EXPECTED)
def test_clock_criterion_in_sql(app, name: str, day: date, expected: set[str]) -> None:
    built = _built()
    assert _ids(deadlines.clock_criterion(name, day), built) == expected
    assert _ids(deadlines.clock_criterion(name, day, interval_days=30), built) == expected


def test_clock_criterion_narrowed_to_some_addressees(app) -> None:
    built = _built()
    day = date(2025, 1, 1)  # A's response and B's target both late on `one`
    a_only = Addressee.component_id == built["a"].id
    b_only = Addressee.component_id == built["b"].id
    crit = deadlines.clock_criterion
    assert _ids(crit("response_overdue", day, addressee_scope=a_only), built) == {"one"}
    assert _ids(crit("response_overdue", day, addressee_scope=b_only), built) == set()
    assert _ids(crit("target_overdue", day, addressee_scope=a_only), built) == set()
    assert _ids(crit("target_overdue", day, addressee_scope=b_only), built) == {"one"}
    # a recommendation-level clock ignores the scope
    assert _ids(crit("resolution_overdue", day, addressee_scope=b_only), built) == {"one", "bare"}


@pytest.mark.parametrize(
    ("name", "day", "expected"),
    [
        ("response_overdue", date(2024, 4, 14), set()),
        ("response_overdue", date(2024, 4, 15), {"a"}),
        ("target_overdue", date(2025, 1, 1), {"b"}),
        ("update_due", date(2024, 4, 29), set()),
        ("update_due", date(2024, 4, 30), {"resolved-a"}),
        ("update_overdue", date(2024, 5, 31), {"resolved-a"}),
    ],
)
def test_addressee_late_in_sql(app, name: str, day: date, expected: set[str]) -> None:
    built = _built()
    names = {
        part(built["one"], built["a"]).id: "a",
        part(built["one"], built["b"]).id: "b",
        part(built["resolved"], built["a"]).id: "resolved-a",
        part(built["closed"], built["a"]).id: "closed-a",
    }
    found = db.session.scalars(
        sa.select(Addressee.id).where(deadlines.addressee_late(name, day), Addressee.id.in_(names))
    )
    assert {names[i] for i in found} == expected


def test_addressee_late_refuses_a_recommendation_clock() -> None:
    with pytest.raises(AssertionError, match=r"^resolution_overdue$"):
        deadlines.addressee_late("resolution_overdue", date(2024, 1, 1))


@pytest.mark.parametrize(
    ("day", "expected"), [(date(2024, 7, 15), set()), (date(2024, 7, 16), {"one", "bare"})]
)
def test_more_than_6_months_criterion(app, day: date, expected: set[str]) -> None:
    built = _built()
    assert _ids(deadlines.more_than_6_months_criterion(day), built) == expected


# --- tracked since: deadlines that fell before RecTrack began tracking ------------------
# (README, "Tracked since"): a due date before `tracked_since` does not run (None), the
# day itself runs; an update due before it is due one interval after it.


@pytest.mark.parametrize(
    ("due", "tracked_since", "before"),
    [
        (None, date(2024, 4, 14), False),
        (date(2024, 4, 13), None, False),
        (date(2024, 4, 13), date(2024, 4, 14), True),
        (date(2024, 4, 14), date(2024, 4, 14), False),
        (date(2024, 4, 15), date(2024, 4, 14), False),
    ],
)
def test_before_tracking(due: date | None, tracked_since: date | None, before: bool) -> None:
    assert deadlines.before_tracking(due, tracked_since) is before


@pytest.mark.parametrize(
    ("due", "tracked_since", "interval", "expected"),
    [
        (date(2024, 5, 30), None, 90, date(2024, 5, 30)),
        (date(2024, 5, 30), date(2024, 5, 29), 90, date(2024, 5, 30)),
        (date(2024, 5, 30), date(2024, 5, 30), 90, date(2024, 5, 30)),
        # May 31 + 90 days: August 29 (30 + 31 + 29)
        (date(2024, 5, 30), date(2024, 5, 31), 90, date(2024, 8, 29)),
        # June 1 + 60 days: July 31 (29 + 31)
        (date(2024, 5, 30), date(2024, 6, 1), 60, date(2024, 7, 31)),
    ],
)
def test_update_due_since_tracking(
    due: date, tracked_since: date | None, interval: int, expected: date
) -> None:
    assert deadlines.update_due_since_tracking(due, tracked_since, interval) == expected


@pytest.mark.parametrize(
    ("status", "tracked_since", "expected"),
    [
        (RecStatus.OPEN_UNRESOLVED, None, (RESOLUTION, GAO)),
        (RecStatus.OPEN_UNRESOLVED, date(2024, 7, 14), (RESOLUTION, GAO)),
        (RecStatus.OPEN_UNRESOLVED, date(2024, 7, 15), (RESOLUTION, GAO)),
        # the resolution fell due before tracking; the GAO-IG Act date is a fact of the issue date
        (RecStatus.OPEN_UNRESOLVED, date(2024, 7, 16), (None, GAO)),
        ("open_unresolved", date(2026, 6, 1), (None, GAO)),
        (RecStatus.OPEN_RESOLVED, date(2026, 6, 1), (None, GAO)),
        (RecStatus.CLOSED_IMPLEMENTED, date(2024, 1, 15), (None, None)),
    ],
)
def test_rec_due_dates_since_tracking(status: Any, tracked_since: date | None, expected: tuple) -> None:
    got = deadlines.rec_due_dates(status, ISSUED, tracked_since)
    assert (got.resolution_due, got.gao_ig_act_from) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (_values(tracked_since=date(2024, 4, 14)), (RESPONSE, None, TARGET)),
        (_values(tracked_since=date(2024, 4, 15)), (None, None, TARGET)),
        (
            _values(
                response_state=ResponseState.RETURNED,
                response_due_on=date(2024, 5, 20),
                tracked_since=date(2024, 5, 20),
            ),
            (date(2024, 5, 20), None, TARGET),
        ),
        (
            _values(
                response_state=ResponseState.RETURNED,
                response_due_on=date(2024, 5, 20),
                tracked_since=date(2024, 5, 21),
            ),
            (None, None, TARGET),
        ),
        (_values(tracked_since=date(2024, 12, 31)), (None, None, TARGET)),
        (_values(tracked_since=date(2025, 1, 1)), (None, None, None)),
        # the update due May 30, 2024: the day itself runs; after it, one interval on
        (_resolved(tracked_since=date(2024, 5, 30)), (None, date(2024, 5, 30), TARGET)),
        (_resolved(tracked_since=date(2024, 5, 31)), (None, date(2024, 8, 29), TARGET)),
        # resolved March 1 with a 60-day interval: due April 30; tracked from May 1: June 30
        (_resolved(interval_days=60, tracked_since=date(2024, 5, 1)), (None, date(2024, 6, 30), TARGET)),
        (
            _resolved(closure_state=ClosureState.REQUESTED, tracked_since=date(2024, 5, 31)),
            (None, None, TARGET),
        ),
        (_resolved(status=RecStatus.CLOSED_IMPLEMENTED, tracked_since=date(2024, 1, 15)), (None, None, None)),
    ],
)
def test_addressee_due_dates_since_tracking(
    values: dict[str, Any], expected: tuple[date | None, date | None, date | None]
) -> None:
    assert _due(values) == expected


def test_due_dates_of_a_row_tracked_later_and_as_if_tracked_from_issuance() -> None:
    tracked = date(2024, 7, 16)  # after the response (April 14) and the resolution (July 15)
    rec = _rec(_part(4), tracked_since=tracked)
    assert deadlines.due_dates_of(rec, ISSUED, 90) == (
        RecDueDates(resolution_due=None, gao_ig_act_from=GAO),
        {4: AddresseeDueDates(response_due=None, update_due=None, target_due=TARGET)},
    )
    assert deadlines.rec_due_dates_of(rec, ISSUED, tracked=False) == RecDueDates(
        resolution_due=RESOLUTION, gao_ig_act_from=GAO
    )
    assert deadlines.addressee_due_dates_of(rec, _part(4), ISSUED, 90, tracked=False) == AddresseeDueDates(
        response_due=RESPONSE, update_due=None, target_due=TARGET
    )
    resolved = _rec(status=RecStatus.OPEN_RESOLVED, resolved_on=RESOLVED, tracked_since=date(2024, 5, 31))
    assert deadlines.addressee_due_dates_of(resolved, _part(), ISSUED, 90).update_due == date(2024, 8, 29)
    assert deadlines.addressee_due_dates_of(resolved, _part(), ISSUED, 90, tracked=False).update_due == date(
        2024, 5, 30
    )


@pytest.mark.parametrize(
    ("approximate", "words"),
    [
        (
            False,
            "Response was due April 14, 2024, before RecTrack began tracking this recommendation on "
            "June 1, 2026: not recorded",
        ),
        (
            True,
            "Response was due about April 2024, before RecTrack began tracking this recommendation on "
            "June 1, 2026: not recorded",
        ),
    ],
)
def test_not_recorded_text(approximate: bool, words: str) -> None:
    assert deadlines.not_recorded_text("Response", RESPONSE, date(2026, 6, 1), approximate) == words


def test_not_recorded_text_is_exact_by_default() -> None:
    assert deadlines.not_recorded_text("Target completion", TARGET, date(2025, 1, 1)) == (
        "Target completion was due December 31, 2024, before RecTrack began tracking this "
        "recommendation on January 1, 2025: not recorded"
    )


def _not_recorded(label: str, due: str, tracked: str) -> str:
    return f"{label} was due {due}, before RecTrack began tracking this recommendation on {tracked}: " + (
        "not recorded"
    )


def test_recommendation_clocks_tracked_after_the_resolution_fell_due() -> None:
    today = date(2024, 8, 1)
    on_the_day = deadlines.recommendation_clocks(_rec(tracked_since=date(2024, 7, 15)), ISSUED, today)  # type: ignore[arg-type]
    assert on_the_day.resolution == Clock("Resolution", RESOLUTION, today, False)
    assert on_the_day.not_recorded == ()
    after = deadlines.recommendation_clocks(_rec(tracked_since=date(2024, 7, 16)), ISSUED, today)  # type: ignore[arg-type]
    assert after == RecommendationClocks(
        resolution=None,
        gao_ig_act=False,
        open_over_6_months=True,
        age=AgeBucket.MONTHS_6_TO_12,
        due=RecDueDates(resolution_due=None, gao_ig_act_from=GAO),
        not_recorded=(_not_recorded("Resolution", "July 15, 2024", "July 16, 2024"),),
    )
    approx = _rec(approximate=True, tracked_since=date(2024, 7, 16))
    got = deadlines.recommendation_clocks(approx, ISSUED, today)  # type: ignore[arg-type]
    assert got.not_recorded == (_not_recorded("Resolution", "about July 2024", "July 16, 2024"),)
    untracked = deadlines.recommendation_clocks(_rec(tracked_since=None), ISSUED, today)  # type: ignore[arg-type]
    assert untracked.not_recorded == ()


def test_addressee_clocks_tracked_after_the_response_fell_due() -> None:
    today = date(2024, 8, 1)
    rec = _rec(tracked_since=date(2024, 4, 15))
    got = _clocks(rec, _part(), today)
    assert got == AddresseeClocks(
        response=None,
        update=None,
        target=Clock("Target completion", TARGET, today),
        no_update="",
        due=AddresseeDueDates(response_due=None, update_due=None, target_due=TARGET),
        not_recorded=(_not_recorded("Response", "April 14, 2024", "April 15, 2024"),),
    )
    on_the_day = _clocks(_rec(tracked_since=date(2024, 4, 14)), _part(), today)
    assert on_the_day.response == Clock("Response", RESPONSE, today, False)
    assert on_the_day.not_recorded == ()
    approx = _clocks(_rec(approximate=True, tracked_since=date(2024, 4, 15)), _part(), today)
    assert approx.not_recorded == (_not_recorded("Response", "about April 2024", "April 15, 2024"),)
    # a revised response's date does not depend on the issue date: exact
    returned = _part(response_state=ResponseState.RETURNED, response_due_on=date(2024, 5, 20))
    revised = _clocks(_rec(approximate=True, tracked_since=date(2024, 5, 21)), returned, today)
    assert revised.response is None
    assert revised.not_recorded == (_not_recorded("Revised response", "May 20, 2024", "May 21, 2024"),)


def test_addressee_clocks_tracked_after_an_update_and_the_target_fell_due() -> None:
    today = date(2025, 2, 1)
    rec = _rec(status=RecStatus.OPEN_RESOLVED, resolved_on=RESOLVED, tracked_since=date(2024, 5, 31))
    got = _clocks(rec, _part(), today)
    assert got.update == Clock("Update", date(2024, 8, 29), today)
    assert got.not_recorded == (_not_recorded("An update", "May 30, 2024", "May 31, 2024"),)
    late = _rec(status=RecStatus.OPEN_RESOLVED, resolved_on=RESOLVED, tracked_since=date(2025, 1, 1))
    got = _clocks(late, _part(), today)
    # January 1, 2025 + 90 days: April 1, 2025 (30 + 28 + 31 + 1)
    assert got.update == Clock("Update", date(2025, 4, 1), today)
    assert got.target is None
    assert got.not_recorded == (
        _not_recorded("An update", "May 30, 2024", "January 1, 2025"),
        _not_recorded("Target completion", "December 31, 2024", "January 1, 2025"),
    )
    # every clock before tracking, in the order response, update, target
    waiting = _clocks(_rec(tracked_since=date(2025, 1, 1)), _part(), today)
    assert waiting.not_recorded == (
        _not_recorded("Response", "April 14, 2024", "January 1, 2025"),
        _not_recorded("Target completion", "December 31, 2024", "January 1, 2025"),
    )
    assert _clocks(_rec(tracked_since=None), _part(), today).not_recorded == ()


@pytest.mark.parametrize(
    ("tracked_since", "before"),
    [(None, False), (date(2024, 1, 14), False), (ISSUED, False), (date(2024, 1, 16), True)],
)
def test_has_history_before_tracking(tracked_since: date | None, before: bool) -> None:
    rec = _rec(tracked_since=tracked_since)
    assert deadlines.has_history_before_tracking(rec) is before


def test_history_before_tracking_in_sql(app) -> None:
    report = make_report(issued_on=ISSUED)
    recs = {
        "from issuance": make_recommendation(report, []),
        "the day after": make_recommendation(report, [], tracked_since=date(2024, 1, 16)),
        "the day before": make_recommendation(report, [], tracked_since=date(2024, 1, 14)),
    }
    names = {r.id: k for k, r in recs.items()}
    found = db.session.scalars(
        sa.select(Recommendation.id)
        .join(Report, Report.id == Recommendation.report_id)
        .where(deadlines.history_before_tracking_criterion(), Recommendation.id.in_(names))
    )
    assert {names[i] for i in found} == {"the day after"}


def test_stored_due_dates_and_filters_of_a_recommendation_tracked_later(app) -> None:
    a = make_component()
    report = make_report(issued_on=ISSUED, components=[a])
    # tracked from July 16, 2024: the response (April 14) and resolution (July 15) fell before
    later = make_recommendation(report, [(a, {"target_date": TARGET})], tracked_since=date(2024, 7, 16))
    on_day = make_recommendation(report, [(a, {"target_date": TARGET})], tracked_since=date(2024, 4, 14))
    assert (later.resolution_due, later.gao_ig_act_from) == (None, GAO)
    assert (part(later, a).response_due, part(later, a).target_due) == (None, TARGET)
    assert (on_day.resolution_due, part(on_day, a).response_due) == (RESOLUTION, RESPONSE)
    names = {later.id: "later", on_day.id: "on the day"}
    for name, day, expected in [
        ("response_overdue", date(2024, 8, 1), {"on the day"}),
        ("resolution_overdue", date(2024, 8, 1), {"on the day"}),
        ("target_overdue", date(2025, 1, 1), {"later", "on the day"}),
        ("gao_ig_act", date(2025, 1, 15), {"later", "on the day"}),
    ]:
        found = db.session.scalars(
            sa.select(Recommendation.id).where(
                deadlines.clock_criterion(name, day), Recommendation.id.in_(names)
            )
        )
        assert {names[i] for i in found} == expected, name
