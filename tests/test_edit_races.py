"""Two people editing the same record at once: every edit form is optimistically locked.

For each form that changes an existing record (reports, components, accounts,
recommendations and every lifecycle step), two sessions load the form, the first
saves, then the second saves: the second gets a 409 and the first save is still in the
database (no lost update). A save that leaves out the form's version is a 400 and
changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm.exc import StaleDataError

from app import clock, locking
from app.auth import services as accounts
from app.extensions import db
from app.lifecycle import workflow
from app.models import (
    AuditEvent,
    ClosureState,
    Component,
    EventKind,
    RecommendationEvent,
    RecStatus,
    Report,
    ResponseState,
    Role,
    User,
)
from app.reports import services as report_services
from tests.conftest import EMAILS, PASSWORD, login, rec, report_by_number, user_by_email, visible_text
from tests.html_forms import filled, form_values
from tests.states import component, ctx, fema_responded, hsin_resolved, row, step_url


def _ids(*abbreviations: str) -> list[str]:
    return [str(component(a).id) for a in abbreviations]


def _fresh_user(role: str) -> User:
    db.session.expire_all()
    return user_by_email(EMAILS[role])


def _fresh_report() -> Report:
    db.session.expire_all()
    return report_by_number("OIG-12-15")


def _fresh_component(abbreviation: str) -> Component:
    db.session.expire_all()
    return component(abbreviation)


def _last_update_text(number: int, abbreviation: str) -> str | None:
    target = rec("OIG-12-15", number)
    return db.session.scalar(
        sa.select(RecommendationEvent.note)
        .where(
            RecommendationEvent.addressee_id == row(target, abbreviation).id,
            RecommendationEvent.kind == EventKind.UPDATE_POSTED,
        )
        .order_by(RecommendationEvent.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class Race:
    role: str
    url: Callable[[], str]
    first: Callable[[], dict[str, Any]]  # what the first person changes
    second: Callable[[], dict[str, Any]]  # what the second person changes
    first_kept: Callable[[], bool]  # read from the database after both saves
    # Text of each side that the conflict page shows (None: the step's rule refuses the
    # second save first, since the first save moved the record to another state).
    shown: tuple[str, str] | None = None
    setup: Callable[[], None] | None = None


RACES: dict[str, Race] = {
    "report: two titles": Race(
        "oig",
        lambda: f"/reports/{report_by_number('OIG-12-15').id}/edit",
        lambda: {"title": "First editor's title"},
        lambda: {"title": "Second editor's title"},
        lambda: _fresh_report().title == "First editor's title",
        shown=("Second editor's title", "First editor's title"),
    ),
    # Only the report's components change (a many-to-many table, no column of the row):
    # the save must still count as a new version.
    "report: components, then notes": Race(
        "oig",
        lambda: f"/reports/{report_by_number('OIG-12-15').id}/edit",
        lambda: {"components": _ids("I&A", "FEMA", "CBP")},
        lambda: {"notes": "Second editor's note."},
        lambda: (
            [c.abbreviation for c in _fresh_report().components] == ["CBP", "FEMA", "I&A"]
            and _fresh_report().notes != "Second editor's note."
        ),
        shown=("Second editor's note.", "CBP"),
    ),
    "component: two names": Race(
        "admin",
        lambda: f"/components/{component('FEMA').id}/edit",
        lambda: {"name": "First editor's name"},
        lambda: {"name": "Second editor's name"},
        lambda: _fresh_component("FEMA").name == "First editor's name",
        shown=("Second editor's name", "First editor's name"),
    ),
    "account: two names": Race(
        "admin",
        lambda: f"/admin/users/{user_by_email(EMAILS['viewer']).id}/edit",
        lambda: {"display_name": "First Name"},
        lambda: {"display_name": "Second Name"},
        lambda: _fresh_user("viewer").display_name == "First Name",
        shown=("Second Name", "First Name"),
    ),
    "account: components, then name": Race(
        "admin",
        lambda: f"/admin/users/{user_by_email(EMAILS['liaison']).id}/edit",
        lambda: {"components": _ids("I&A", "FEMA")},
        lambda: {"display_name": "Second Name"},
        lambda: (
            [c.abbreviation for c in _fresh_user("liaison").components] == ["FEMA", "I&A"]
            and _fresh_user("liaison").display_name != "Second Name"
        ),
        shown=("Second Name", "FEMA"),
    ),
    "recommendation: two texts": Race(
        "oig",
        lambda: f"/recommendations/{rec('OIG-12-15', 3).id}/edit",
        lambda: {"text": "First editor's text.", "save": "y"},
        lambda: {"text": "Second editor's text.", "save": "y"},
        lambda: rec("OIG-12-15", 3).text == "First editor's text.",
        shown=("Second editor's text.", "First editor's text."),
    ),
    # Only a component row changes (the lead): the recommendation's version still moves.
    "recommendation: lead, then text": Race(
        "oig",
        lambda: f"/recommendations/{rec('OIG-12-15', 3).id}/edit",
        lambda: {"addressees-0-is_lead": None, "addressees-1-is_lead": "y", "save": "y"},
        lambda: {"text": "Second editor's text.", "save": "y"},
        lambda: (  # no lead before; the form's second row is FEMA's
            [a.component.abbreviation for a in rec("OIG-12-15", 3).addressees if a.is_lead] == ["FEMA"]
            and rec("OIG-12-15", 3).text != "Second editor's text."
        ),
        shown=("Second editor's text.", "Addressees 1: Component FEMA"),
    ),
    "response: two answers": Race(
        "fema",
        step_url(3, "respond", "FEMA"),
        lambda: {"concurrence": "concur", "response": "First answer.", "target_date": "2030-01-31"},
        lambda: {"concurrence": "concur", "response": "Second answer.", "target_date": "2030-01-31"},
        lambda: row(rec("OIG-12-15", 3), "FEMA").response == "First answer.",
        shown=("Second answer.", "First answer."),
        setup=fema_responded,  # a revision: the state allows a second one
    ),
    "progress update: two updates": Race(
        "liaison",
        step_url(1, "update", "I&A"),
        lambda: {"text": "First update.", "new_target_date": "2031-01-31", "target_change_reason": "First."},
        lambda: {
            "text": "Second update.",
            "new_target_date": "2032-01-31",
            "target_change_reason": "Second.",
        },
        lambda: (
            _last_update_text(1, "I&A") == "First update."
            and str(row(rec("OIG-12-15", 1), "I&A").target_date) == "2031-01-31"
        ),
        shown=("Second update.", "2031-01-31"),
        setup=hsin_resolved(),
    ),
    "accept response: twice": Race(
        "oig",
        step_url(3, "accept", "FEMA"),
        lambda: {"note": "First."},
        lambda: {"note": "Second."},
        lambda: row(rec("OIG-12-15", 3), "FEMA").evaluation_note == "First.",
        setup=fema_responded,
    ),
    "return response: twice": Race(
        "oig",
        step_url(3, "return", "FEMA"),
        lambda: {"reason": "First reason."},
        lambda: {"reason": "Second reason."},
        lambda: (
            row(rec("OIG-12-15", 3), "FEMA").response_state == ResponseState.RETURNED
            and row(rec("OIG-12-15", 3), "FEMA").evaluation_note == "First reason."
        ),
        setup=fema_responded,
    ),
    "resolve: twice": Race(
        "oig",
        step_url(1, "resolve"),
        lambda: {"note": "First note."},
        lambda: {"note": "Second note."},
        lambda: rec("OIG-12-15", 1).decision_note == "First note.",
    ),
    "request closure: twice": Race(
        "liaison",
        step_url(1, "request-closure", "I&A"),
        lambda: {"justification": "First justification."},
        lambda: {"justification": "Second justification."},
        lambda: row(rec("OIG-12-15", 1), "I&A").closure_justification == "First justification.",
        setup=hsin_resolved(),
    ),
    "return closure: twice": Race(
        "oig",
        step_url(1, "return-closure", "I&A"),
        lambda: {"reason": "First reason."},
        lambda: {"reason": "Second reason."},
        lambda: (
            row(rec("OIG-12-15", 1), "I&A").closure_state == ClosureState.RETURNED
            and row(rec("OIG-12-15", 1), "I&A").closure_note == "First reason."
        ),
        setup=hsin_resolved("closure requested"),
    ),
    "close: implemented, then not implemented": Race(
        "oig",
        step_url(1, "close"),
        lambda: {"outcome": "implemented", "note": "First note."},
        lambda: {"outcome": "not_implemented", "note": "Second note."},
        lambda: rec("OIG-12-15", 1).status == RecStatus.CLOSED_IMPLEMENTED,
        setup=hsin_resolved("closure requested"),
    ),
    "reopen: twice": Race(
        "oig",
        step_url(1, "reopen"),
        lambda: {"reason": "First reason."},
        lambda: {"reason": "Second reason."},
        lambda: rec("OIG-12-15", 1).decision_note == "First reason.",
        setup=hsin_resolved("closed"),
    ),
}


def _open(app: Flask, role: str, url: str) -> tuple[Any, dict[str, list[str]]]:
    client = app.test_client()
    login(client, role)
    page = client.get(url)
    assert page.status_code == 200, url
    return client, form_values(page.get_data(as_text=True), url)


@pytest.mark.parametrize("race", list(RACES.values()), ids=list(RACES))
def test_the_second_of_two_saves_gets_409_and_the_first_is_kept(app: Flask, race: Race) -> None:
    if race.setup is not None:
        race.setup()
    url = race.url()
    first, first_form = _open(app, race.role, url)
    second, second_form = _open(app, race.role, url)

    saved = first.post(url, data=filled(first_form, race.first()))
    assert saved.status_code == 302, visible_text(saved)[-800:]
    refused = second.post(url, data=filled(second_form, race.second()))
    assert refused.status_code == 409, visible_text(refused)[-800:]
    db.session.expire_all()
    assert race.first_kept()  # 0 lost updates
    if race.shown is not None:
        mine, now = race.shown
        text = visible_text(refused)
        assert "What you tried to save" in text
        assert "What the record holds now" in text
        tried, holds = text.split("What the record holds now", 1)
        assert mine in tried.split("What you tried to save", 1)[1]
        assert now in holds, holds


def test_signing_in_does_not_make_an_open_account_form_stale(app: Flask) -> None:
    """Sign-ins write to the account's row but are not edits of it."""
    url = f"/admin/users/{user_by_email(EMAILS['viewer']).id}/edit"
    admin, form = _open(app, "admin", url)
    assert (
        app.test_client().post("/login", data={"email": EMAILS["viewer"], "password": PASSWORD}).status_code
        == 302
    )
    assert _fresh_user("viewer").last_login_at is not None
    assert admin.post(url, data=filled(form, {"display_name": "Renamed"})).status_code == 302
    assert _fresh_user("viewer").display_name == "Renamed"


# --- a save without its version ---------------------------------------------------------


@dataclass(frozen=True)
class Edit:
    role: str
    url: Callable[[], str]
    changes: Callable[[], dict[str, Any]]
    unchanged: Callable[[], bool]
    setup: Callable[[], None] | None = None
    version_fields: tuple[str, ...] = ("version",)


EDITS: dict[str, Edit] = {
    "report": Edit(
        "oig",
        lambda: f"/reports/{report_by_number('OIG-12-15').id}/edit",
        lambda: {"title": "Changed title"},
        lambda: _fresh_report().title != "Changed title",
    ),
    "component": Edit(
        "admin",
        lambda: f"/components/{component('FEMA').id}/edit",
        lambda: {"name": "Changed name"},
        lambda: _fresh_component("FEMA").name != "Changed name",
    ),
    "account": Edit(
        "admin",
        lambda: f"/admin/users/{user_by_email(EMAILS['viewer']).id}/edit",
        lambda: {"display_name": "Changed Name"},
        lambda: _fresh_user("viewer").display_name != "Changed Name",
    ),
    "recommendation": Edit(
        "oig",
        lambda: f"/recommendations/{rec('OIG-12-15', 3).id}/edit",
        lambda: {"text": "Changed text.", "save": "y"},
        lambda: rec("OIG-12-15", 3).text != "Changed text.",
    ),
    "recommendation, a component row's version": Edit(
        "oig",
        lambda: f"/recommendations/{rec('OIG-12-15', 3).id}/edit",
        lambda: {"text": "Changed text.", "addressees-1-concurrence": "concur", "save": "y"},
        lambda: rec("OIG-12-15", 3).text != "Changed text.",
        version_fields=("addressees-1-version",),
    ),
    "response": Edit(
        "fema",
        step_url(3, "respond", "FEMA"),
        lambda: {
            "concurrence": "concur",
            "response": "Changed answer.",
            "corrective_action_plan": "Plan.",
            "target_date": "2030-01-31",
            "responsible_official": "Director",
        },
        lambda: row(rec("OIG-12-15", 3), "FEMA").response != "Changed answer.",
    ),
    "accept response": Edit(
        "oig",
        step_url(3, "accept", "FEMA"),
        dict,
        lambda: row(rec("OIG-12-15", 3), "FEMA").response_state == ResponseState.SUBMITTED,
        setup=fema_responded,
    ),
    "return response": Edit(
        "oig",
        step_url(3, "return", "FEMA"),
        lambda: {"reason": "Why."},
        lambda: row(rec("OIG-12-15", 3), "FEMA").response_state == ResponseState.SUBMITTED,
        setup=fema_responded,
    ),
    "resolve": Edit(
        "oig",
        step_url(1, "resolve"),
        dict,
        lambda: rec("OIG-12-15", 1).status == RecStatus.OPEN_UNRESOLVED,
    ),
    "progress update": Edit(
        "liaison",
        step_url(1, "update", "I&A"),
        lambda: {"text": "Progress."},
        lambda: _last_update_text(1, "I&A") is None,
        setup=hsin_resolved(),
    ),
    "request closure": Edit(
        "liaison",
        step_url(1, "request-closure", "I&A"),
        lambda: {"justification": "Done."},
        lambda: row(rec("OIG-12-15", 1), "I&A").closure_state == ClosureState.NONE,
        setup=hsin_resolved(),
    ),
    "return closure": Edit(
        "oig",
        step_url(1, "return-closure", "I&A"),
        lambda: {"reason": "Why."},
        lambda: row(rec("OIG-12-15", 1), "I&A").closure_state == ClosureState.REQUESTED,
        setup=hsin_resolved("closure requested"),
    ),
    "close": Edit(
        "oig",
        step_url(1, "close"),
        lambda: {"outcome": "implemented"},
        lambda: rec("OIG-12-15", 1).status == RecStatus.OPEN_RESOLVED,
        setup=hsin_resolved("closure requested"),
    ),
    "reopen": Edit(
        "oig",
        step_url(1, "reopen"),
        lambda: {"reason": "Why."},
        lambda: rec("OIG-12-15", 1).status == RecStatus.CLOSED_IMPLEMENTED,
        setup=hsin_resolved("closed"),
    ),
}


def _audit_count() -> int:
    """Changes to records in the audit trail (every change writes one)."""
    changes = AuditEvent.action.in_(("create", "update", "delete"))
    return db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(changes)) or 0


@pytest.mark.parametrize("how", ["left out", "empty"])
@pytest.mark.parametrize("edit", list(EDITS.values()), ids=list(EDITS))
def test_a_save_without_its_version_is_a_400_and_changes_nothing(app: Flask, edit: Edit, how: str) -> None:
    if edit.setup is not None:
        edit.setup()
    url = edit.url()
    client, form = _open(app, edit.role, url)
    for name in edit.version_fields:
        assert form.get(name, [""])[0].isdigit(), f"the form carries {name}"
    before = _audit_count()
    missing = (
        dict.fromkeys(edit.version_fields) if how == "left out" else dict.fromkeys(edit.version_fields, "")
    )
    response = client.post(url, data=filled(form, {**edit.changes(), **missing}))
    assert response.status_code == 400
    assert "did not say which version" in visible_text(response)
    db.session.expire_all()
    assert edit.unchanged()
    assert _audit_count() == before
    # The same form with its version is accepted: the 400 was about the version only.
    assert client.post(url, data=filled(form, edit.changes())).status_code == 302


# --- the service and model layers -------------------------------------------------------


def test_check_version_refuses_none_and_a_stale_version() -> None:
    report = report_by_number("OIG-12-15")
    with pytest.raises(locking.MissingVersionError):
        locking.check_version(report, None)
    with pytest.raises(locking.ConflictError):
        locking.check_version(report, report.version + 1)
    locking.check_version(report, report.version)
    locking.check_version(report, locking.UNCHECKED)  # callers that are not forms
    cpg = rec("OIG-12-15", 3)
    with pytest.raises(locking.MissingVersionError):
        workflow.check_version(cpg, None)


def test_services_refuse_a_save_without_a_version() -> None:
    report = report_by_number("OIG-12-15")
    data = report_services.ReportData(title="Changed", issued_on=report.issued_on, number=report.number)
    with pytest.raises(locking.MissingVersionError):
        report_services.update_report(db.session, report, data, today=clock.today(), version=None)
    viewer = user_by_email(EMAILS["viewer"])
    with pytest.raises(locking.MissingVersionError):
        accounts.update_user(
            db.session,
            user_by_email(EMAILS["admin"]),
            viewer,
            display_name="Changed",
            role=Role.VIEWER,
            components=[],
            active=True,
            version=None,
        )
    with pytest.raises(locking.MissingVersionError):
        workflow.resolve(db.session, ctx("oig"), rec("OIG-12-15", 1), version=None)


@pytest.mark.parametrize("model", [Report, Component, User])
def test_a_write_between_read_and_save_is_caught_by_the_version_column(model: type) -> None:
    """Two sessions read version N and both write: the database refuses the second."""
    obj = db.session.scalar(sa.select(model).limit(1))
    db.session.execute(  # another writer, invisible to this session's objects
        sa.update(model).where(model.id == obj.id).values(version=model.version + 1),
        execution_options={"synchronize_session": False},
    )
    setattr(obj, {Report: "title", Component: "name", User: "display_name"}[model], "Someone")
    with pytest.raises(StaleDataError):
        db.session.flush()


# Each edit view: the service whose version check is passed, who saves, and where.
RACED_SAVES: dict[str, tuple[str, str, Callable[[], str], dict[str, str]]] = {
    "report": (
        "app.reports.services",
        "oig",
        lambda: f"/reports/{report_by_number('OIG-12-15').id}/edit",
        {"title": "Mine"},
    ),
    "component": (
        "app.components.services",
        "admin",
        lambda: f"/components/{component('FEMA').id}/edit",
        {"name": "Mine"},
    ),
    "account": (
        "app.auth.services",
        "admin",
        lambda: f"/admin/users/{user_by_email(EMAILS['viewer']).id}/edit",
        {"display_name": "Mine"},
    ),
    "recommendation": (
        "app.recommendations.services",
        "oig",
        lambda: f"/recommendations/{rec('OIG-12-15', 3).id}/edit",
        {"text": "Mine", "save": "y"},
    ),
}


@pytest.mark.parametrize("kind", list(RACED_SAVES))
def test_a_save_committed_during_this_one_gets_the_conflict_page(
    app: Flask, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """The version check passes, then another save commits before this one writes: the
    UPDATE's version condition refuses it, and the person sees both versions."""
    import importlib

    module, role, url, changes = RACED_SAVES[kind]
    services = importlib.import_module(module)
    real = services.check_version

    def check_then_someone_else_saves(obj: Any, expected: Any, *args: Any) -> None:
        real(obj, expected, *args)
        db.session.execute(
            sa.update(type(obj)).where(type(obj).id == obj.id).values(version=type(obj).version + 1),
            execution_options={"synchronize_session": False},
        )

    target = url()
    client, form = _open(app, role, target)
    monkeypatch.setattr(services, "check_version", check_then_someone_else_saves)
    response = client.post(target, data=filled(form, changes))
    assert response.status_code == 409
    text = visible_text(response)
    assert "What you tried to save" in text
    assert "What the record holds now" in text
    assert "Mine" in text.split("What the record holds now", 1)[0]
