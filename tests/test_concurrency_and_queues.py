"""Two people editing at once (optimistic locking), the work queues, and list filters
on the deadline clocks."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from app import clock
from app.extensions import db
from app.lifecycle import workflow
from app.lifecycle.workflow import Context, ResponseData, UpdateData
from app.models import Concurrence, Recommendation, RecStatus
from tests.conftest import EMAILS, login, rec, submit, user_by_email, visible_text


def _hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}" type="hidden" value="([^"]*)"', page) or re.search(
        rf'id="{re.escape(name)}" name="{re.escape(name)}" type="hidden" value="([^"]*)"', page
    )
    assert match, name
    return match.group(1)


def _fema_row(r: Recommendation):
    return next(a for a in r.addressees if a.component.abbreviation == "FEMA")


def _response(text: str) -> dict[str, str]:
    return {
        "concurrence": "concur",
        "response": text,
        "corrective_action_plan": "Plan.",
        "target_date": (clock.today() + timedelta(days=120)).isoformat(),
        "responsible_official": "Director",
    }


def test_two_liaisons_saving_the_same_response_the_second_gets_409(app: Flask) -> None:
    cpg = rec("OIG-12-15", 3)
    url = f"/recommendations/{cpg.id}/components/{_fema_row(cpg).id}/respond"
    first, second = app.test_client(), app.test_client()
    login(first, "fema")
    login(second, "fema")
    version_first = _hidden(first.get(url).get_data(as_text=True), "version")
    version_second = _hidden(second.get(url).get_data(as_text=True), "version")
    assert version_first == version_second

    assert first.post(url, data={**_response("First answer."), "version": version_first}).status_code == 302
    response = second.post(url, data={**_response("Second answer."), "version": version_second})
    assert response.status_code == 409
    text = visible_text(response)
    assert "What you tried to save" in text
    assert "Second answer." in text
    assert "What the record holds now" in text
    assert "First answer." in text
    assert _fema_row(rec("OIG-12-15", 3)).response == "First answer."  # not overwritten


def test_oig_edit_form_loaded_before_a_liaison_response_gets_409(app: Flask) -> None:
    cpg = rec("OIG-12-15", 3)
    oig, fema = app.test_client(), app.test_client()
    login(oig, "oig")
    login(fema, "fema")
    form_page = oig.get(f"/recommendations/{cpg.id}/edit").get_data(as_text=True)
    fields = dict(re.findall(r'name="([^"]+)" type="hidden" value="([^"]*)"', form_page))
    submit(
        fema,
        f"/recommendations/{cpg.id}/components/{_fema_row(cpg).id}/respond",
        data=_response("FEMA partly concurs now."),
    )
    # OIG saves its stale form: it would put FEMA's concurrence back to "concur"
    ia, fema_row = cpg.addressees[0], _fema_row(cpg)
    data = {
        "number": "3",
        "text": cpg.text,
        "text_source": "summary",
        "sensitivity": "public",
        "save": "y",
        "version": fields["version"],
        "addressees-0-component_id": str(ia.component_id),
        "addressees-0-concurrence": "non_concur",
        "addressees-0-version": fields["addressees-0-version"],
        "addressees-1-component_id": str(fema_row.component_id),
        "addressees-1-concurrence": "concur",
        "addressees-1-version": fields["addressees-1-version"],
    }
    response = oig.post(f"/recommendations/{cpg.id}/edit", data=data)
    assert response.status_code == 409
    assert _fema_row(rec("OIG-12-15", 3)).response == "FEMA partly concurs now."


def test_a_tampered_version_is_a_bad_request(as_role) -> None:
    cpg = rec("OIG-12-15", 3)
    response = as_role("fema").post(
        f"/recommendations/{cpg.id}/components/{_fema_row(cpg).id}/respond",
        data={**_response("x"), "version": "not-a-number"},
    )
    assert response.status_code == 400


def test_a_race_between_reads_is_caught_by_the_version_column() -> None:
    """Two sessions read version N and both write: the database refuses the second."""
    cpg = rec("OIG-12-15", 3)
    row = _fema_row(cpg)
    db.session.execute(  # another writer, invisible to this session's objects
        sa.update(type(row)).where(type(row).id == row.id).values(version=type(row).version + 1),
        execution_options={"synchronize_session": False},
    )
    row.responsible_official = "Someone"
    with pytest.raises(sa.orm.exc.StaleDataError):
        db.session.flush()


# --- work queues -------------------------------------------------------------------


def test_liaison_queue_lists_their_components_only(as_role) -> None:
    text = visible_text(as_role("fema").get("/work"))
    assert "Responses due (2)" in text  # CPG-502 and the synthetic restricted FEMA one
    assert "OIG-12-15 #3" in text
    assert "OIG-12-15 #1" not in text  # I&A's
    ia = visible_text(as_role("liaison").get("/work"))
    assert "OIG-12-15 #1" in ia
    assert "Response overdue by" in ia


def test_oig_queues_and_header_count(app: Flask) -> None:
    cpg = rec("OIG-12-15", 3)
    fema, oig = app.test_client(), app.test_client()
    login(fema, "fema")
    login(oig, "oig")
    before = visible_text(oig.get("/work"))
    assert "Responses awaiting evaluation (0)" in before
    assert "Resolutions past 6 months (" in before
    submit(fema, f"/recommendations/{cpg.id}/components/{_fema_row(cpg).id}/respond", data=_response("ok"))
    after = visible_text(oig.get("/work"))
    assert "Responses awaiting evaluation (1)" in after
    page = oig.get("/reports").get_data(as_text=True)
    count = re.search(r'My work <span class="rt-count">(\d+)', page)
    assert count
    assert int(count.group(1)) >= 1


def test_viewer_has_no_queue(as_role) -> None:
    text = visible_text(as_role("viewer").get("/work"))
    assert "nothing waits on you" in text
    assert 'class="rt-count"' not in as_role("viewer").get("/reports").get_data(as_text=True)


# --- clock filters on the list ----------------------------------------------------


def _listed(client, query: str) -> set[str]:
    text = visible_text(client.get(f"/recommendations?{query}"))
    return set(re.findall(r"(OIG-\d\d-\d\d|TEST-R-1|Number not known) #(\d)", text))


def _resolve_with_update(number: int, days_since_activity: int, target_in_days: int) -> None:
    """Resolve OIG-12-15 #number on a past date so its update clock is where we want it."""
    r = rec("OIG-12-15", number)
    ia = r.addressees[0]
    start = clock.today() - timedelta(days=days_since_activity)
    workflow.submit_response(
        db.session,
        Context(user_by_email(EMAILS["liaison"]), start),
        r,
        ia,
        ResponseData(
            Concurrence.CONCUR,
            "ok",
            "plan",
            start + timedelta(days=target_in_days + days_since_activity),
            "o",
        ),
    )
    workflow.resolve(db.session, Context(user_by_email(EMAILS["oig"]), start), r)
    db.session.commit()


def test_update_and_target_filters(as_role) -> None:
    _resolve_with_update(1, days_since_activity=100, target_in_days=-5)  # update overdue, target passed
    _resolve_with_update(2, days_since_activity=70, target_in_days=30)  # update due in 20 days
    _resolve_with_update(4, days_since_activity=10, target_in_days=300)  # nothing due soon
    client = as_role("oig")
    assert _listed(client, "clock=update_overdue") == {("OIG-12-15", "1")}
    assert _listed(client, "clock=update_due") == {("OIG-12-15", "1"), ("OIG-12-15", "2")}
    assert _listed(client, "clock=target_overdue") == {("OIG-12-15", "1")}
    page = visible_text(client.get(f"/recommendations/{rec('OIG-12-15', 2).id}"))
    assert "Update due in 20 days" in page
    page = visible_text(client.get(f"/recommendations/{rec('OIG-12-15', 1).id}"))
    assert "Update overdue by 10 days" in page
    assert "Target completion overdue by 5 days" in page


def test_response_resolution_and_gao_filters(as_role) -> None:
    client = as_role("oig")
    overdue = _listed(client, "clock=response_overdue")
    assert ("OIG-12-15", "3") in overdue  # FEMA never responded, issued 2011
    assert ("TEST-R-1", "1") in overdue  # issued 2023-01-10
    assert _listed(client, "clock=resolution_overdue") == _listed(client, "status=open_unresolved")
    assert ("OIG-12-15", "1") in _listed(client, "clock=gao_ig_act")
    after_response = rec("OIG-12-15", 3)
    workflow.submit_response(
        db.session,
        Context(user_by_email(EMAILS["fema"]), clock.today()),
        after_response,
        _fema_row(after_response),
        ResponseData(Concurrence.CONCUR, "ok", "plan", clock.today() + timedelta(days=30), "o"),
    )
    db.session.commit()
    # I&A's own 90-day response is still missing: a concurrence quoted in the report is
    # not the directive's response with a plan, so the clock still runs for it.
    assert ("OIG-12-15", "3") in _listed(client, "clock=response_overdue")
    after_response = rec("OIG-12-15", 3)  # the request above ended the session
    ia_row = next(a for a in after_response.addressees if a.component.abbreviation == "I&A")
    workflow.submit_response(
        db.session,
        Context(user_by_email(EMAILS["liaison"]), clock.today()),
        after_response,
        ia_row,
        ResponseData(Concurrence.NON_CONCUR, "Better directed to FEMA."),
    )
    db.session.commit()
    assert ("OIG-12-15", "3") not in _listed(client, "clock=response_overdue")


def test_viewer_list_keeps_restricted_rows_as_placeholders(as_role) -> None:
    client = as_role("viewer")
    text = visible_text(client.get("/recommendations"))
    assert "TEST-R-1" not in text  # a restricted report is not listed at all
    liaison = visible_text(
        as_role("liaison").get("/recommendations?report=" + str(rec("TEST-R-1", 1).report_id))
    )
    assert "SYNTHETIC-RESTRICTED-IA" in liaison
    assert "SYNTHETIC-RESTRICTED-FEMA" not in liaison
    assert "Restricted: not available in this view." in liaison
    # a text search never matches a restricted text the reader may not see
    assert "TEST-R-1 #2" not in visible_text(as_role("liaison").get("/recommendations?q=SYNTHETIC"))


def test_update_clock_ignores_time_before_resolution() -> None:
    r = rec("OIG-12-15", 1)
    workflow.resolve(db.session, Context(user_by_email(EMAILS["oig"]), date(2020, 1, 1)), r)
    workflow.post_update(
        db.session,
        Context(user_by_email(EMAILS["liaison"]), date(2020, 2, 1)),
        r,
        r.addressees[0],
        UpdateData("x"),
    )
    assert r.status == RecStatus.OPEN_RESOLVED
    assert r.addressees[0].last_update_on == date(2020, 2, 1)
