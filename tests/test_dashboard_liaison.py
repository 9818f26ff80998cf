"""A liaison's "Running late" cards count their own components' parts, each number the
count of the list filtered to that component; the count of everything they can see is
one click away."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app import clock
from app.auth import services as accounts
from app.extensions import db
from app.lifecycle import workflow
from app.lifecycle.workflow import Context, ResponseData
from app.models import Component, Concurrence, Role
from app.pdf import data
from app.recommendations.queries import RecFilters
from tests.conftest import EMAILS, PASSWORD, login, rec, signed_in_now, user_by_email, visible_text
from tests.test_dashboard import _links, _list_total

LATE = ("response_overdue", "resolution_overdue", "target_overdue", "update_overdue")


def _component_id(abbreviation: str) -> int:
    return db.session.scalar(sa.select(Component.id).where(Component.abbreviation == abbreviation))


def _late_section(client) -> str:
    text = visible_text(client.get("/"))
    return text[text.index("Running late") : text.index("By status")]


def _numbers(client) -> dict[str, int]:
    """Each link of the dashboard and its number (a link shown twice shows one number)."""
    out: dict[str, int] = {}
    for href, n in _links(client):
        assert out.setdefault(href, n) == n, href
    return out


def test_fema_liaison_cards_count_fema_and_match_the_list_filtered_to_fema(app) -> None:
    fema = _component_id("FEMA")
    # Another liaison's dashboard is computed (and cached) first: it must not be served.
    other = app.test_client()
    login(other, "liaison")
    other.get("/")
    client = app.test_client()
    login(client, "fema")
    numbers = _numbers(client)
    mine = {key: numbers[f"/recommendations?component={fema}&clock={key}"] for key in LATE}
    wide = {key: numbers[f"/recommendations?clock={key}"] for key in LATE}
    # Worked out from the seed: FEMA is addressed by OIG-12-15 #3 (public, issued 2011)
    # and TEST-R-1 #2 (restricted, 2023); neither has a response nor is resolved.
    assert mine == {"response_overdue": 2, "resolution_overdue": 2, "target_overdue": 0, "update_overdue": 0}
    # The wider count also holds the public recommendations of I&A, OSA and OCIO.
    assert wide["response_overdue"] > mine["response_overdue"]
    assert wide["resolution_overdue"] > mine["resolution_overdue"]
    for href, shown in numbers.items():
        assert _list_total(client, href) == shown, href
    section = _late_section(client)
    assert "Running late for FEMA" in section
    assert f"{wide['response_overdue']} in everything you can see" in section


def test_a_late_part_of_another_component_is_not_fema_s(app) -> None:
    """CPG-502 is addressed to I&A and FEMA. Once FEMA has responded, only I&A's response
    is late: the FEMA liaison's card and the list filtered to FEMA drop it."""
    cpg = rec("OIG-12-15", 3)
    part = next(a for a in cpg.addressees if a.component.abbreviation == "FEMA")
    workflow.submit_response(
        db.session,
        Context(user_by_email(EMAILS["fema"]), clock.today()),
        cpg,
        part,
        ResponseData(Concurrence.CONCUR, "FEMA concurs.", "Send it to every EOC.", clock.today(), "Director"),
    )
    db.session.commit()
    fema = _component_id("FEMA")
    client = app.test_client()
    login(client, "fema")
    href = f"/recommendations?component={fema}&clock=response_overdue"
    assert _numbers(client)[href] == 1  # TEST-R-1 #2 only
    assert _list_total(client, href) == 1
    assert "OIG-12-15 #3" not in visible_text(client.get(href))
    # still late as a whole (I&A's part), so it stays in the wider list
    assert "OIG-12-15 #3" in visible_text(client.get("/recommendations?clock=response_overdue"))

    # the portfolio PDF of the same filters (clocks replayed in Python) agrees; TEST-R-1
    # has no history (a bare fixture), so no PDF holds it
    def in_pdf(component: str) -> bool:
        lines = data.portfolio(
            db.session,
            user_by_email(EMAILS["fema"]),
            RecFilters(component_id=_component_id(component), clock="response_overdue"),
            clock.today(),
            90,
            1000,
        ).lines
        return ("OIG-12-15", 3) in [(line.rec.report.number, line.rec.number) for line in lines]

    assert not in_pdf("FEMA")
    assert in_pdf("I&A")


def test_staff_and_viewers_keep_the_whole_count(as_role) -> None:
    for role in ("oig", "viewer"):
        section = _late_section(as_role(role))
        assert re.match(r"Running late \d+ Responses overdue", section)  # not "for" some components
        assert "in everything you can see" not in section
    numbers = _numbers(as_role("oig"))
    assert not [href for href in numbers if "component=" in href and "clock=" in href]
    assert "/recommendations?clock=response_overdue" in numbers


def test_a_liaison_of_two_components_sees_each_and_both(app) -> None:
    components = {c.abbreviation: c for c in db.session.scalars(sa.select(Component))}
    accounts.create_user(
        db.session,
        email="two@test.example",
        display_name="Two Hats",
        role=Role.LIAISON,
        password=PASSWORD,
        components=[components["FEMA"], components["I&A"]],
    )
    db.session.commit()
    fema, ia = _component_id("FEMA"), _component_id("I&A")
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = user_by_email("two@test.example").get_id()
        sess["_fresh"] = True
        signed_in_now(sess)
    numbers = _numbers(client)
    for href, shown in numbers.items():
        assert _list_total(client, href) == shown, href
    assert numbers[f"/recommendations?component={fema}&clock=response_overdue"] == 2
    # I&A: OIG-12-15 #1, #2, #3 (its own part), #4, TEST-R-1 #1 and the OIG-24 one
    assert numbers[f"/recommendations?component={ia}&clock=response_overdue"] == 6
    section = _late_section(client)
    assert "Running late for FEMA and I&A" in section
    # both together: OIG-12-15 #3 is late for each, and counts once
    assert section.startswith("Running late for FEMA and I&A Recommendations where your")
    assert " 7 Responses overdue FEMA 2 · I&A 6 " in section
