"""A component that did not concur and has no corrective action plan owes no progress
updates: no update clock on its part of the page, and the "update due" and "update
overdue" filters, the liaison's queue, the dashboard and the PDFs agree."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app import clock
from app.extensions import db
from app.lifecycle import workflow
from app.lifecycle.workflow import Context, ResponseData, UpdateData
from app.models import Concurrence
from app.pdf import data
from app.recommendations.queries import RecFilters
from tests.conftest import EMAILS, login, rec, user_by_email, visible_text

INTERVAL = 90  # TestingConfig's UPDATE_INTERVAL_DAYS, the default
NO_UPDATES = "No progress updates due: did not concur"


def _part(recommendation, abbreviation: str):
    return next(a for a in recommendation.addressees if a.component.abbreviation == abbreviation)


class _Fragment:
    """Part of a page, read with visible_text like a whole response."""

    def __init__(self, html: str) -> None:
        self.html = html

    def get_data(self, as_text: bool = True) -> str:
        return self.html


def _card(client, abbreviation: str) -> str:
    """The text of one component's card on CPG-502's page."""
    cpg = rec("OIG-12-15", 3)
    page = client.get(f"/recommendations/{cpg.id}").get_data(as_text=True)
    start = page.index(f'id="addressee-{_part(cpg, abbreviation).id}"')
    end = page.index("</li>", page.index('class="usa-card__body"', start))
    return visible_text(_Fragment(page[start:end]))


def _resolve_cpg_502(days_ago: int, ia_plan: str | None = None) -> None:
    """FEMA concurs with a plan; I&A stays as the report quotes it (non-concur, no plan),
    or answers again with a non-concurrence carrying a plan; OIG staff resolve
    `days_ago` days before today."""
    cpg = rec("OIG-12-15", 3)
    start = clock.today() - timedelta(days=days_ago)
    workflow.submit_response(
        db.session,
        Context(user_by_email(EMAILS["fema"]), start),
        cpg,
        _part(cpg, "FEMA"),
        ResponseData(
            Concurrence.CONCUR,
            "FEMA concurs.",
            "Send CPG-502 to every EOC.",
            start + timedelta(days=400),
            "Director",
        ),
    )
    if ia_plan is not None:
        workflow.submit_response(
            db.session,
            Context(user_by_email(EMAILS["liaison"]), start),
            cpg,
            _part(cpg, "I&A"),
            ResponseData(
                Concurrence.NON_CONCUR, "Better directed to FEMA.", ia_plan, start + timedelta(days=400)
            ),
        )
    workflow.resolve(db.session, Context(user_by_email(EMAILS["oig"]), start), cpg)
    db.session.commit()


def _listed(client, query: str) -> bool:
    text = visible_text(client.get(f"/recommendations?{query}"))
    return "OIG-12-15 #3" in text


def test_page_says_a_non_concurring_component_owes_no_updates(as_role) -> None:
    _resolve_cpg_502(days_ago=0)
    client = as_role("oig")
    page = visible_text(client.get(f"/recommendations/{rec('OIG-12-15', 3).id}"))
    ia, fema = _card(client, "I&A"), _card(client, "FEMA")
    assert NO_UPDATES in ia
    assert "Update due" not in ia
    assert "Update due in 90 days" in fema
    assert NO_UPDATES not in fema
    assert page.count("Update due in 90 days") == 1
    # the component page says the same for I&A's part
    component = _part(rec("OIG-12-15", 3), "I&A").component_id
    assert NO_UPDATES in visible_text(as_role("oig").get(f"/components/{component}"))


@pytest.mark.parametrize(
    ("ia_plan", "ia_owes"),
    [
        (None, False),  # as the report quotes it: non-concur, no plan
        ("", False),  # answered again, still without a plan
        ("Support FEMA's outreach to fusion centers.", True),  # an alternative plan to report on
    ],
)
def test_filters_queue_and_pdf_agree_with_the_page(app, ia_plan: str | None, ia_owes: bool) -> None:
    # Resolved 100 days ago: a part owing updates is 10 days overdue. FEMA posts one today.
    _resolve_cpg_502(days_ago=100, ia_plan=ia_plan)
    cpg = rec("OIG-12-15", 3)
    workflow.post_update(
        db.session,
        Context(user_by_email(EMAILS["fema"]), clock.today()),
        cpg,
        _part(cpg, "FEMA"),
        UpdateData("Sent."),
    )
    db.session.commit()
    cpg_id = cpg.id
    oig = app.test_client()
    login(oig, "oig")
    ia_card = _card(oig, "I&A")
    assert ("Update overdue by 10 days" in ia_card) is ia_owes
    assert (NO_UPDATES in ia_card) is not ia_owes
    assert _listed(oig, "clock=update_overdue") is ia_owes
    assert _listed(oig, "clock=update_due") is ia_owes
    # the liaison's queue of updates due
    ia_liaison = app.test_client()
    login(ia_liaison, "liaison")
    work = visible_text(ia_liaison.get("/work"))
    assert (
        "OIG-12-15 #3" in work.split("Progress updates due", 1)[1].split("Closure requests returned")[0]
    ) is ia_owes
    # the dashboard's number and the portfolio PDF's clock filter (the Python rule)
    dashboard = oig.get("/").get_data(as_text=True)
    shown = int(re.search(r'href="/recommendations\?clock=update_overdue">(\d+)<', dashboard).group(1))
    assert shown == int(ia_owes)
    lines = data.portfolio(
        db.session,
        user_by_email(EMAILS["oig"]),
        RecFilters(clock="update_overdue"),
        clock.today(),
        INTERVAL,
        1000,
    ).lines
    assert [line.rec.id for line in lines] == ([cpg_id] if ia_owes else [])
