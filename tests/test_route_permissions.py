"""Every route × every role gets the expected outcome.

The table below must name every (endpoint, method) the app serves: a new route with no
rule here fails `test_every_route_has_a_rule`, so no route ships without a decision about
who may use it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from app.extensions import db
from app.lifecycle.attachments import Storage
from app.models import Acronym, Attachment, Component, User
from tests.conftest import login, rec, report_by_number

ANON = "anonymous"
# "liaison" serves I&A, the component of the test recommendation; "fema" serves another.
ALL_ROLES = (ANON, "admin", "oig", "liaison", "fema", "viewer")


def signed_in(code: int) -> dict[str, int]:
    return {ANON: 302, "admin": code, "oig": code, "liaison": code, "fema": code, "viewer": code}


def staff(code: int) -> dict[str, int]:
    return {ANON: 302, "admin": code, "oig": code, "liaison": 403, "fema": 403, "viewer": 403}


def admin_only(code: int) -> dict[str, int]:
    return {ANON: 302, "admin": code, "oig": 403, "liaison": 403, "fema": 403, "viewer": 403}


def liaison_step(admin: int, liaison: int) -> dict[str, int]:
    """A step on the I&A row: its liaison (and admins) may; OIG staff, other liaisons
    and viewers may not."""
    return {ANON: 302, "admin": admin, "oig": 403, "liaison": liaison, "fema": 403, "viewer": 403}


def oig_step(code: int) -> dict[str, int]:
    return {ANON: 302, "admin": code, "oig": code, "liaison": 403, "fema": 403, "viewer": 403}


# (endpoint, method) -> expected status per role, for a request with an invalid form.
EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("dashboard.index", "GET"): signed_in(200),
    ("auth.login", "GET"): {**signed_in(302), ANON: 200},
    ("auth.login", "POST"): {**signed_in(302), ANON: 200},
    ("auth.logout", "POST"): signed_in(302),
    ("auth.change_password", "GET"): signed_in(200),
    ("auth.change_password", "POST"): signed_in(200),
    ("reports.index", "GET"): signed_in(200),
    ("reports.detail", "GET"): signed_in(200),
    ("reports.create", "GET"): staff(200),
    ("reports.create", "POST"): staff(200),
    ("reports.edit", "GET"): staff(200),
    ("reports.edit", "POST"): staff(200),
    ("reports.delete", "GET"): staff(200),
    ("reports.delete", "POST"): staff(302),
    ("recommendations.create", "GET"): staff(200),
    ("recommendations.create", "POST"): staff(200),
    ("recommendations.detail", "GET"): signed_in(200),
    ("recommendations.edit", "GET"): staff(200),
    ("recommendations.edit", "POST"): staff(200),
    ("recommendations.delete", "GET"): staff(200),
    ("recommendations.delete", "POST"): staff(302),
    ("components.index", "GET"): signed_in(200),
    ("components.detail", "GET"): signed_in(200),
    ("components.edit", "GET"): admin_only(200),
    ("components.edit", "POST"): admin_only(200),
    ("admin.users", "GET"): admin_only(200),
    ("admin.new_user", "GET"): admin_only(200),
    ("admin.new_user", "POST"): admin_only(200),
    ("admin.edit_user", "GET"): admin_only(200),
    ("admin.edit_user", "POST"): admin_only(200),
    ("admin.reset_password", "GET"): admin_only(200),
    ("admin.reset_password", "POST"): admin_only(200),
    ("admin.audit_log", "GET"): admin_only(200),
    ("recommendations.index", "GET"): signed_in(200),
    ("lifecycle.work", "GET"): signed_in(200),
    ("lifecycle.download", "GET"): signed_in(200),
    # The test recommendation is Open-Unresolved and I&A has not responded yet, so a
    # step that needs another state answers 409 to those who could otherwise take it.
    ("lifecycle.respond", "GET"): liaison_step(200, 200),
    ("lifecycle.respond", "POST"): liaison_step(200, 200),
    ("lifecycle.post_update", "GET"): liaison_step(409, 409),
    ("lifecycle.post_update", "POST"): liaison_step(409, 409),
    ("lifecycle.request_closure", "GET"): liaison_step(409, 409),
    ("lifecycle.request_closure", "POST"): liaison_step(409, 409),
    ("lifecycle.accept_response", "GET"): oig_step(409),
    ("lifecycle.accept_response", "POST"): oig_step(409),
    ("lifecycle.return_response", "GET"): oig_step(409),
    ("lifecycle.return_response", "POST"): oig_step(409),
    ("lifecycle.return_closure", "GET"): oig_step(409),
    ("lifecycle.return_closure", "POST"): oig_step(409),
    ("lifecycle.resolve", "GET"): oig_step(200),
    ("lifecycle.resolve", "POST"): oig_step(302),  # the probe is a valid "resolve" (I&A concurred)
    ("lifecycle.close", "GET"): oig_step(200),
    ("lifecycle.close", "POST"): oig_step(200),
    ("lifecycle.reopen", "GET"): oig_step(409),
    ("lifecycle.reopen", "POST"): oig_step(409),
    ("pdf.report_pdf", "GET"): signed_in(200),
    ("pdf.component_pdf", "GET"): signed_in(200),
    ("pdf.portfolio_pdf", "GET"): signed_in(200),
    ("exports.csv_export", "GET"): signed_in(200),
    ("exports.xlsx_export", "GET"): signed_in(200),
    ("imports.upload", "GET"): staff(200),
    ("imports.upload", "POST"): staff(200),  # no file: a message next to the field
    ("imports.commit", "POST"): staff(400),  # no token
    ("imports.template_csv", "GET"): staff(200),
    ("imports.template_xlsx", "GET"): staff(200),
    ("search.search", "GET"): signed_in(200),
    ("search.acronym_list", "GET"): admin_only(200),
    ("search.acronym_list", "POST"): admin_only(200),
    ("search.acronym_edit", "GET"): admin_only(200),
    ("search.acronym_edit", "POST"): admin_only(200),
    ("search.acronym_delete", "POST"): admin_only(400),  # no version: refused
}

SKIPPED_ENDPOINTS = {"static"}
IDS = ("report_id", "rec_id", "addressee_id", "attachment_id", "component_id", "user_id", "acronym_id")


def _routes(app: Flask) -> list[tuple[str, str, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((rule.endpoint, method, rule.rule))
    return out


def _params(app: Flask) -> dict[str, Any]:
    """Real ids for every URL variable: a public report and recommendation, and so on."""
    report = report_by_number("OIG-12-15")
    viewer = db.session.scalar(sa.select(User).where(User.email == "viewer@test.example"))
    fema = db.session.scalar(sa.select(Component).where(Component.abbreviation == "FEMA"))
    first = rec("OIG-12-15", 1)
    return {
        "report_id": report.id,
        "rec_id": first.id,
        "addressee_id": first.addressees[0].id,  # I&A's row
        "attachment_id": _attachment(app, first).id,
        "component_id": fema.id,
        "user_id": viewer.id,
        "acronym_id": db.session.scalar(sa.select(Acronym.id).where(Acronym.acronym == "HSIN")),
    }


def _attachment(app: Flask, recommendation: Any) -> Attachment:
    found = db.session.scalar(sa.select(Attachment).where(Attachment.recommendation_id == recommendation.id))
    if found is None:
        storage = Storage(Path(app.config["ATTACHMENT_DIR"]))
        found = Attachment(
            recommendation_id=recommendation.id,
            addressee_id=recommendation.addressees[0].id,
            sha256=storage.put(b"evidence,1\n"),
            size_bytes=11,
            content_type="text/csv",
            original_name="e.csv",
        )
        db.session.add(found)
        db.session.commit()
    return found


def _url(rule: str, params: dict[str, Any]) -> str:
    for name, value in params.items():
        rule = rule.replace(f"<int:{name}>", str(value))
    assert "<" not in rule, f"no test value for a variable in {rule}"
    return rule


def test_every_route_has_a_rule(app: Flask) -> None:
    missing = sorted({(e, m) for e, m, _ in _routes(app)} - set(EXPECTED))
    assert not missing, f"routes without an expected-outcome rule: {missing}"
    stale = sorted(set(EXPECTED) - {(e, m) for e, m, _ in _routes(app)})
    assert not stale, f"rules for routes that no longer exist: {stale}"


CASES = [(endpoint, method, role) for (endpoint, method) in EXPECTED for role in ALL_ROLES]


@pytest.mark.parametrize(("endpoint", "method", "role"), CASES)
def test_route_outcome(app: Flask, endpoint: str, method: str, role: str) -> None:
    client = app.test_client()
    if role != ANON:
        login(client, role)
    expected = EXPECTED[(endpoint, method)][role]
    for rule in [r.rule for r in app.url_map.iter_rules() if r.endpoint == endpoint]:
        url = _url(rule, _params(app))
        response = client.open(url, method=method, data={"probe": "1"})
        assert response.status_code == expected, f"{method} {url} as {role}"
        if response.status_code == 302 and role == ANON:
            assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("role", ["admin", "oig", "liaison", "fema", "viewer"])
def test_missing_ids_are_404(app: Flask, role: str) -> None:
    client = app.test_client()
    login(client, role)
    for _endpoint, method, rule in _routes(app):
        if "<int:" not in rule or method != "GET":
            continue
        url = _url(rule, dict.fromkeys(IDS, 987654))
        assert client.get(url).status_code == 404, url


def test_anonymous_reaches_only_the_login_page(app: Flask) -> None:
    client = app.test_client()
    for endpoint, method, rule in _routes(app):
        if endpoint == "auth.login":
            continue
        response = client.open(_url(rule, dict.fromkeys(IDS, 1)), method=method)
        assert response.status_code == 302, (method, rule)
        assert response.headers["Location"].startswith("/login")
