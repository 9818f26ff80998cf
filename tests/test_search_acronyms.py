"""Search expands acronyms both ways (component abbreviations and names, and the
administrators' list) on both back ends, and finds responsible officials; restricted
text stays out of reach of those who may not read it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.lifecycle import workflow
from app.lifecycle.workflow import Context, ResponseData
from app.models import Acronym, AuditEvent, Concurrence
from app.search.queries import search
from app.search.thesaurus import Thesaurus, fts5_query, groups, tsquery_text
from tests.conftest import EMAILS, login, rec, report_by_number, user_by_email, visible_text

HSIN_TITLE = "DHS Partners Did Not Always Use DHS Technology to Obtain Emerging Threat Information"


def _hits(role: str, query: str) -> set[tuple[str, int]]:
    return {(h.kind, h.ref_id) for h in search(db.session, user_by_email(EMAILS[role]), query)}


def _hsin_recs() -> set[tuple[str, int]]:
    report = report_by_number(None, title=HSIN_TITLE)
    return {("recommendation", r.id) for r in report.recommendations}


# --- the thesaurus, on its own -------------------------------------------------------

KNOWN = Thesaurus.of(
    [
        ("HSIN", "Homeland Security Information Network"),
        ("I&A", "Office of Intelligence and Analysis"),
        ("EOC", "Emergency Operations Center"),
    ]
)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("fusion", [(("fusion",),)]),
        ("HSIN", [(("hsin",), ("homeland", "security", "information", "network"))]),
        (
            "homeland security information network use",
            [(("homeland", "security", "information", "network"), ("hsin",)), (("use",),)],
        ),
        ("I&A", [(("i", "a"), ("office", "of", "intelligence", "and", "analysis"))]),
        ("EOCs", [(("eocs",), ("emergency", "operations", "center"))]),  # a plural is the same acronym
        ("homeland security", [(("homeland",),), (("security",),)]),  # part of a form is just words
    ],
)
def test_query_groups(query: str, expected: list[tuple[tuple[str, ...], ...]]) -> None:
    assert groups(query, KNOWN) == expected


def test_both_back_ends_get_the_same_groups() -> None:
    found = groups("HSIN logins", KNOWN)
    assert fts5_query(found) == '("hsin" OR "homeland security information network") AND "logins"'
    assert tsquery_text(found) == (
        "(('hsin') | ('homeland' <-> 'security' <-> 'information' <-> 'network')) & 'logins'"
    )
    assert fts5_query(groups("CPG-502", Thesaurus())) == '"cpg" AND "502"'


# --- through the database -------------------------------------------------------------


def test_hsin_finds_the_recommendations_that_spell_it_out(as_role) -> None:
    wanted = _hsin_recs()
    assert len(wanted) == 3
    assert wanted <= _hits("viewer", "HSIN")
    # with another word, both required: only recommendation 1 speaks of improvements
    first = report_by_number(None, title=HSIN_TITLE).recommendations[0]
    assert first.number == 1
    assert {h for h in _hits("viewer", "hsin improvement") if h[0] == "recommendation"} == {
        ("recommendation", first.id)
    }
    page = as_role("viewer").get("/search?q=HSIN").get_data(as_text=True)
    assert "Homeland Security Information Network</mark>" in page or "<mark>Homeland</mark>" in page
    listed = visible_text(as_role("viewer").get("/recommendations?q=HSIN"))
    assert "3 recommendations match" in listed


def test_the_spelled_out_name_finds_the_acronym() -> None:
    one = rec("OIG-12-15", 1)
    one.text = one.text + " Share them on HSIN."
    db.session.commit()
    assert ("recommendation", one.id) in _hits("viewer", "Homeland Security Information Network")
    assert ("recommendation", one.id) in _hits("viewer", "homeland security information network")


def test_component_names_and_abbreviations_find_each_other() -> None:
    cpg = rec("OIG-12-15", 3)  # addressed to FEMA: its document names the component
    assert ("recommendation", cpg.id) in _hits("viewer", "Federal Emergency Management Agency")
    one = rec("OIG-12-15", 1)
    one.text = one.text + " Coordinate with the Federal Emergency Management Agency."
    db.session.commit()
    assert ("recommendation", one.id) in _hits("viewer", "FEMA")


def test_an_acronym_added_by_an_administrator_works_both_ways_and_is_audited(app) -> None:
    one = rec("OIG-12-15", 1)
    one.text = one.text + " Train staff at the Emergency Management Institute."
    db.session.commit()
    assert ("recommendation", one.id) not in _hits("viewer", "EMI")
    admin = app.test_client()
    login(admin, "admin")
    added = admin.post(
        "/admin/acronyms", data={"acronym": "EMI", "expansion": "Emergency Management Institute"}
    )
    assert added.status_code == 302
    assert ("recommendation", one.id) in _hits("viewer", "EMI")
    emi = db.session.scalar(sa.select(Acronym).where(Acronym.acronym == "EMI"))
    # the list page shows it
    assert "Emergency Management Institute" in visible_text(admin.get("/admin/acronyms"))
    # change it: the old expansion no longer follows
    edited = admin.post(
        f"/admin/acronyms/{emi.id}/edit",
        data={"acronym": "EMI", "expansion": "Emergency Management Initiative", "version": emi.version},
    )
    assert edited.status_code == 302
    assert ("recommendation", one.id) not in _hits("viewer", "EMI")
    emi = db.session.get(Acronym, emi.id, populate_existing=True)
    deleted = admin.post(f"/admin/acronyms/{emi.id}/delete", data={"delete-version": emi.version})
    assert deleted.status_code == 302
    assert db.session.get(Acronym, emi.id) is None
    events = db.session.execute(
        sa.select(AuditEvent.action, AuditEvent.actor_label)
        .where(AuditEvent.object_type == "acronyms", AuditEvent.object_id == emi.id)
        .order_by(AuditEvent.id)
    ).all()
    assert [a for a, _ in events] == ["create", "update", "delete"]
    assert {label for _, label in events} == {EMAILS["admin"]}


def test_acronym_form_refuses_a_duplicate_a_self_expansion_and_a_stale_or_missing_version(app) -> None:
    admin = app.test_client()
    login(admin, "admin")
    same = admin.post("/admin/acronyms", data={"acronym": "hsin", "expansion": "Something else"})
    assert same.status_code == 200
    assert "HSIN is already in the list." in visible_text(same)
    itself = admin.post("/admin/acronyms", data={"acronym": "EMI", "expansion": "emi"})
    assert "Spell out what the acronym stands for." in visible_text(itself)
    hsin_id, version = db.session.execute(
        sa.select(Acronym.id, Acronym.version).where(Acronym.acronym == "HSIN")
    ).one()
    url = f"/admin/acronyms/{hsin_id}/edit"
    data = {"acronym": "HSIN", "expansion": "Homeland Security Info Net"}
    assert admin.post(url, data=data).status_code == 400  # no version
    assert admin.post(url, data={**data, "version": version + 1}).status_code == 409
    assert admin.post(f"/admin/acronyms/{hsin_id}/delete", data={}).status_code == 400
    assert admin.post(f"/admin/acronyms/{hsin_id}/delete", data={"delete-version": 99}).status_code == 409
    assert db.session.get(Acronym, hsin_id, populate_existing=True).expansion == (
        "Homeland Security Information Network"
    )


def test_only_administrators_keep_the_list(app) -> None:
    for role in ("oig", "liaison", "viewer"):
        client = app.test_client()
        login(client, role)
        assert client.get("/admin/acronyms").status_code == 403
        assert (
            client.post("/admin/acronyms", data={"acronym": "X1", "expansion": "Ex one"}).status_code == 403
        )
    assert db.session.scalar(sa.select(Acronym).where(Acronym.acronym == "X1")) is None


def _respond(role: str, recommendation, abbreviation: str, official: str) -> None:
    part = next(a for a in recommendation.addressees if a.component.abbreviation == abbreviation)
    workflow.submit_response(
        db.session,
        Context(user_by_email(EMAILS[role]), clock.today()),
        recommendation,
        part,
        ResponseData(
            Concurrence.CONCUR, "We concur.", "A plan.", clock.today() + timedelta(days=100), official
        ),
    )
    db.session.commit()


def test_responsible_officials_are_searchable(as_role) -> None:
    cpg = rec("OIG-12-15", 3)
    assert _hits("oig", "Quillfeather") == set()
    _respond("fema", cpg, "FEMA", "Jordan Quillfeather, Director of Preparedness")
    assert ("recommendation", cpg.id) in _hits("viewer", "Quillfeather")
    assert "OIG-12-15 #3" in visible_text(as_role("viewer").get("/recommendations?q=Quillfeather"))


def test_restricted_text_stays_hidden_with_acronyms_and_officials(app) -> None:
    restricted = rec("TEST-R-1", 2)  # FEMA's, in a restricted report
    restricted.text = restricted.text + " Replace the Homeland Security Information Network portal."
    db.session.commit()
    _respond("fema", rec("TEST-R-1", 2), "FEMA", "Casimir Wolfbane, Regional Administrator")
    rid = rec("TEST-R-1", 2).id
    for query in ("HSIN", "Wolfbane", "Casimir Wolfbane"):
        assert ("recommendation", rid) in _hits("oig", query), query
        assert ("recommendation", rid) in _hits("fema", query), query
        assert ("recommendation", rid) not in _hits("viewer", query), query
        assert ("recommendation", rid) not in _hits("liaison", query), query  # I&A's liaison
    for role in ("viewer", "liaison"):
        client = app.test_client()
        login(client, role)
        for url in ("/search?q=Wolfbane", "/search?q=HSIN", "/recommendations?q=Wolfbane"):
            page = client.get(url).get_data(as_text=True)
            for hidden in ("Casimir", "Regional Administrator", "Replace the", "SYNTHETIC-RESTRICTED-FEMA"):
                assert hidden not in page, (role, url, hidden)
