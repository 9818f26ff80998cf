"""The JSON API (issue 16): bearer tokens only, problem documents for every error, the
pages' visibility, pagination and ETags, and writes through the pages' services with
their 403/409 answers, each in the audit trail naming the token."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from limits import parse

from app import clock
from app.api import auth as api_auth
from app.extensions import db
from app.models import ApiToken, AuditEvent, Recommendation, Report, TokenScope
from app.tokens import services as tokens
from tests.api_support import bearer, headers_for, make_token
from tests.conftest import EMAILS, login, rec, report_by_number, user_by_email
from tests.states import component, row

PROBLEM = "application/problem+json"


def problem_of(response: Any, status: int) -> dict[str, Any]:
    """The response's problem document, checked to be one (RFC 9457) with this status."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = json.loads(response.get_data(as_text=True))
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    assert body["type"]
    assert "<html" not in response.get_data(as_text=True).lower()
    return body


def refusals(path: str) -> list[AuditEvent]:
    db.session.expire_all()
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.outcome == "denied").order_by(AuditEvent.id)
    ).all()
    return [e for e in events if e.changes.get("path") == path]


# --- authentication -------------------------------------------------------------------------


def test_no_token_is_401_with_www_authenticate_and_audited(client: FlaskClient) -> None:
    response = client.get("/api/v1/reports")
    body = problem_of(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Bearer" in body["detail"]
    [event] = refusals("/api/v1/reports")
    assert event.changes["token_refused"] == "missing"


@pytest.mark.parametrize(
    "header",
    ["Bearer rt_" + "x" * 43, "Bearer not-a-token", "Basic dXNlcjpwYXNz", "Bearer ", "rt_abc"],
)
def test_unknown_or_malformed_tokens_are_401(client: FlaskClient, header: str) -> None:
    problem_of(client.get("/api/v1/reports", headers={"Authorization": header}), 401)


def test_a_good_token_reads_and_its_use_is_recorded(client: FlaskClient) -> None:
    new = make_token("viewer")
    response = client.get("/api/v1/reports", headers={**bearer(new.secret), "X-Forwarded-For": "x"})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    db.session.expire_all()
    token = db.session.get(ApiToken, new.token.id)
    assert token is not None
    assert token.last_used_at is not None
    assert token.last_used_address == "127.0.0.1"


def test_on_sqlite_a_read_takes_the_write_lock_only_to_record_the_token_s_use(
    client: FlaskClient, app: Flask
) -> None:
    """Every call writes the token's last use. That transaction begins as a write (on
    SQLite: BEGIN IMMEDIATE, waiting for the lock rather than failing with "database is
    locked" when another worker wrote since it began); the read that follows does not."""
    from app import database

    new = make_token("viewer")
    statements: list[tuple[str, bool]] = []

    def note(_c: object, _cur: object, statement: str, *_a: object) -> None:
        statements.append((statement, database._WRITING.get()))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        assert client.get("/api/v1/recommendations", headers=bearer(new.secret)).status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)
    update = next(i for i, (s, _w) in enumerate(statements) if s.startswith("UPDATE api_tokens"))
    # from the request's first statement to the token's update, all inside writing()
    assert all(w for _s, w in statements[: update + 1])
    reads = [w for s, w in statements[update + 1 :] if "FROM recommendations" in s]
    assert reads
    assert not any(reads)


def test_a_revoked_token_is_401_at_once(client: FlaskClient) -> None:
    new = make_token("liaison")
    assert client.get("/api/v1/reports", headers=bearer(new.secret)).status_code == 200
    token = db.session.get(ApiToken, new.token.id)
    assert token is not None
    tokens.revoke(db.session, token, by=user_by_email(EMAILS["admin"]), now=clock.now())
    db.session.commit()
    body = problem_of(client.get("/api/v1/reports", headers=bearer(new.secret)), 401)
    assert body["detail"] == "That token was revoked."
    [event] = refusals("/api/v1/reports")
    assert (event.changes["token_refused"], event.changes["token_id"]) == ("revoked", new.token.id)


@pytest.mark.parametrize(("offset", "status"), [(-1, 200), (0, 401), (1, 401)])
def test_a_token_expires_at_its_expiry_second(client: FlaskClient, offset: int, status: int) -> None:
    expires = clock.now().replace(microsecond=0) + timedelta(hours=1)
    new = make_token("liaison", expires_at=expires)
    with time_machine.travel(expires + timedelta(seconds=offset), tick=False):
        response = client.get("/api/v1/components", headers=bearer(new.secret))
    assert response.status_code == status
    if status == 401:
        assert problem_of(response, 401)["detail"] == "That token has expired."


def test_a_deactivated_account_s_token_is_401(client: FlaskClient) -> None:
    new = make_token("liaison")
    user = user_by_email(EMAILS["liaison"])
    user.active = False
    db.session.commit()
    problem_of(client.get("/api/v1/reports", headers=bearer(new.secret)), 401)


def test_a_read_token_may_not_write(client: FlaskClient) -> None:
    headers = headers_for("oig", TokenScope.READ)
    target = rec("OIG-12-15", 1)
    response = client.post(
        f"/api/v1/recommendations/{target.id}/steps/resolve", json={"bogus": 1}, headers=headers
    )
    body = problem_of(response, 403)  # before the body is read
    assert "read" in body["detail"]
    problem_of(client.post("/api/v1/reports", json={}, headers=headers), 403)


def test_the_session_cookie_never_authenticates_the_api(client: FlaskClient) -> None:
    login(client, "oig")
    assert client.get("/").status_code == 200  # signed in for the pages
    problem_of(client.get("/api/v1/reports"), 401)
    target = rec("OIG-12-15", 1)
    # No CSRF token and no bearer: 401 (not the CSRF 400), and nothing changes.
    problem_of(client.post(f"/api/v1/recommendations/{target.id}/steps/resolve", json={"version": 1}), 401)
    db.session.expire_all()
    assert rec("OIG-12-15", 1).status.value == "open_unresolved"


def test_a_token_never_signs_in_to_the_pages(client: FlaskClient, app: Flask) -> None:
    headers = headers_for("admin")
    # pages that need an account send the bearer of an administrator's token to sign in
    for page in ("/work", "/admin/users", "/account/tokens"):
        response = client.get(page, headers=headers)
        assert response.status_code == 302, page
        assert response.headers["Location"].startswith("/login"), page
    # a portal page reads as for any visitor: no administrator's menu
    text = client.get("/reports", headers=headers).get_data(as_text=True)
    assert "Sign in" in text
    assert "/admin/users" not in text
    # with the portal off, every page does
    app.config["PUBLIC_PORTAL"] = False
    try:
        assert client.get("/reports", headers=headers).headers["Location"].startswith("/login")
    finally:
        app.config["PUBLIC_PORTAL"] = True


def test_the_spec_and_docs_need_no_token(client: FlaskClient) -> None:
    assert client.get("/api/v1/openapi.json").status_code == 200
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "/api/v1/recommendations/{rec_id}/addressees/{addressee_id}/steps/respond" in text
    assert "Authorization: Bearer" in text


# --- problem documents ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/nonexistent", "/api/v2/anything", "/api", "/api/v1/recommendations/987654"]
)
def test_unknown_paths_under_api_are_json_404(client: FlaskClient, path: str) -> None:
    problem_of(client.get(path, headers=headers_for("oig")), 404)


def test_a_method_not_allowed_is_405_with_allow(client: FlaskClient) -> None:
    response = client.delete("/api/v1/reports", headers=headers_for("oig"))
    problem_of(response, 405)
    assert "GET" in response.headers["Allow"]


def test_malformed_json_is_400(client: FlaskClient) -> None:
    target = rec("OIG-12-15", 1)
    response = client.post(
        f"/api/v1/recommendations/{target.id}/steps/resolve",
        data="{not json",
        content_type="application/json",
        headers=headers_for("oig"),
    )
    problem_of(response, 400)


@pytest.mark.parametrize(
    ("payload", "pointer"),
    [
        ({"version": "one"}, "/version"),  # wrong type
        ({"version": 1, "surprise": "x"}, "/surprise"),  # unknown field
        ({"note": "No version."}, "/version"),  # the version is required
        ({"version": 1.5}, "/version"),
        ({"version": 1, "note": "nul\x00byte"}, "/note"),  # PostgreSQL would refuse it with a 500
    ],
)
def test_bad_bodies_are_422_with_a_pointer(
    client: FlaskClient, payload: dict[str, Any], pointer: str
) -> None:
    target = rec("OIG-12-15", 1)
    response = client.post(
        f"/api/v1/recommendations/{target.id}/steps/resolve", json=payload, headers=headers_for("oig")
    )
    body = problem_of(response, 422)
    assert pointer in [e["pointer"] for e in body["errors"]]


def test_bad_query_values_are_422_naming_the_parameter(client: FlaskClient) -> None:
    headers = headers_for("oig")
    body = problem_of(client.get("/api/v1/recommendations?status=sideways", headers=headers), 422)
    assert [e["parameter"] for e in body["errors"]] == ["status"]
    future = (clock.today() + timedelta(days=1)).isoformat()
    body = problem_of(client.get(f"/api/v1/dashboard?as_of={future}", headers=headers), 422)
    assert body["errors"][0]["pointer"] == "/as_of"
    problem_of(client.get("/api/v1/recommendations?after=garbage", headers=headers), 400)


def test_a_server_error_is_a_500_problem_without_a_traceback(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.api import render

    def broken(row: Any) -> Any:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(render, "component", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    response = client.get("/api/v1/components", headers=headers_for("oig"))
    body = problem_of(response, 500)
    assert "secret internal detail" not in response.get_data(as_text=True)
    assert "Traceback" not in body["detail"]


def test_database_down_is_a_503_problem(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.api import views

    headers = headers_for("oig")

    def down(user: Any) -> Any:
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(views.component_queries, "components_with_counts", down)
    response = client.get("/api/v1/components", headers=headers)
    problem_of(response, 503)
    assert response.headers["Retry-After"] == "60"


def test_the_rate_limit_is_per_token_with_retry_after(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    limiter = app.extensions[api_auth.LIMITER_KEY]
    monkeypatch.setattr(limiter, "item", parse("3 per minute"))
    limiter.reset()
    first, second = headers_for("viewer"), headers_for("viewer")
    assert [client.get("/api/v1/components", headers=first).status_code for _ in range(3)] == [200] * 3
    response = client.get("/api/v1/components", headers=first)
    problem_of(response, 429)
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert client.get("/api/v1/components", headers=second).status_code == 200  # its own window
    assert refusals("/api/v1/components")[-1].changes["endpoint"] == "api.components"


# --- reads: visibility as on the pages ------------------------------------------------------


def _list(client: FlaskClient, role: str, query: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/recommendations?{query}", headers=headers_for(role))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


@pytest.mark.parametrize(
    ("role", "full", "placeholders"),
    [
        ("oig", ["SYNTHETIC-RESTRICTED-IA text for tests.", "SYNTHETIC-RESTRICTED-FEMA text for tests."], 0),
        ("liaison", ["SYNTHETIC-RESTRICTED-IA text for tests."], 1),
        ("fema", ["SYNTHETIC-RESTRICTED-FEMA text for tests."], 1),
        ("viewer", [], 0),  # the restricted report is not theirs to open
    ],
)
def test_restricted_recommendations_as_the_list_page_shows_them(
    client: FlaskClient, role: str, full: list[str], placeholders: int
) -> None:
    report_id = report_by_number("TEST-R-1").id
    body = _list(client, role, f"report={report_id}")
    texts = [item["text"] for item in body["items"] if not item["placeholder"]]
    assert texts == full
    hidden = [item for item in body["items"] if item["placeholder"]]
    assert len(hidden) == placeholders
    assert body["total"] == len(full) + placeholders
    for item in hidden:
        assert set(item) == {"id", "placeholder", "report", "number", "tag", "sensitivity", "status"}
    raw = json.dumps(body)
    for marker in ("SYNTHETIC-RESTRICTED-IA", "SYNTHETIC-RESTRICTED-FEMA"):
        assert (marker in raw) == any(marker in text for text in full)
    # the list page shows the same rows, with the same placeholders
    login(client, role)
    page = client.get(f"/recommendations?report={report_id}").get_data(as_text=True)
    assert page.count("Restricted: not available in this view.") == placeholders


def test_a_restricted_recommendation_of_another_component_is_403(client: FlaskClient) -> None:
    report = report_by_number("TEST-R-1")
    report_id, (ia, fema) = report.id, [r.id for r in report.recommendations]
    problem_of(client.get(f"/api/v1/recommendations/{ia}", headers=headers_for("fema")), 403)
    assert client.get(f"/api/v1/recommendations/{fema}", headers=headers_for("fema")).status_code == 200
    problem_of(client.get(f"/api/v1/reports/{report_id}", headers=headers_for("viewer")), 403)
    listed = client.get("/api/v1/reports?q=TEST-R", headers=headers_for("viewer")).get_json()
    assert listed["items"] == []
    listed = client.get("/api/v1/reports?q=TEST-R", headers=headers_for("fema")).get_json()
    assert [r["number"] for r in listed["items"]] == ["TEST-R-1"]


def test_search_finds_only_what_the_caller_may_read(client: FlaskClient) -> None:
    def found(role: str) -> list[str]:
        body = client.get("/api/v1/search?q=SYNTHETIC", headers=headers_for(role)).get_json()
        return sorted(hit["snippet"] for hit in body["hits"] if hit["kind"] == "recommendation")

    assert len(found("oig")) == 2
    assert len(found("liaison")) == 1
    assert "SYNTHETIC-RESTRICTED-IA" in found("liaison")[0]
    assert found("viewer") == []


def test_a_recommendation_with_its_addressees_clocks_and_events(client: FlaskClient) -> None:
    cpg = rec("OIG-12-15", 3)
    cpg_id, version = cpg.id, cpg.version
    body = client.get(f"/api/v1/recommendations/{cpg_id}", headers=headers_for("fema")).get_json()
    assert "CPG-502" in body["text"]
    assert sorted(a["component"]["abbreviation"] for a in body["addressees"]) == ["FEMA", "I&A"]
    fema = part_of(body, "FEMA")
    # OIG-12-15 was issued 2011-12-06 (seed): the response was due 90 days later
    assert fema["clocks"]["due"]["response_due"] == "2012-03-05"
    assert fema["clocks"]["response"]["overdue"] is True
    assert fema["steps"] == ["respond"]  # what FEMA's liaison may do now
    assert part_of(body, "I&A")["steps"] == []  # not FEMA's liaison's
    assert body["steps"] == []  # resolving is the OIG's
    assert next(e["kind"] for e in body["events"]) == "created"
    assert body["version"] == version


def test_viewers_see_roles_not_names_in_the_history(client: FlaskClient) -> None:
    cpg_id = rec("OIG-12-15", 3).id
    for role, named in (("viewer", False), ("oig", True)):
        body = client.get(f"/api/v1/recommendations/{cpg_id}", headers=headers_for(role)).get_json()
        assert body["events"]
        assert all((e["actor"] is not None) == named for e in body["events"])


def test_cursor_pagination_visits_every_row_once(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "PAGE_SIZE", 4)
    headers = headers_for("oig")
    url: str | None = "/api/v1/recommendations?status=open&sort=report"
    seen: list[int] = []
    total = None
    while url:
        body = client.get(url, headers=headers).get_json()
        total = body["total"]
        assert len(body["items"]) <= 4
        seen += [item["id"] for item in body["items"]]
        url = body["page"]["next"]
    expected = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Recommendation)
        .where(Recommendation.status.in_(["open_unresolved", "open_resolved"]))
    )
    assert len(seen) == len(set(seen)) == total == expected
    assert expected > 8  # several pages


def test_etag_and_304(client: FlaskClient) -> None:
    headers = headers_for("oig")
    cpg = rec("OIG-12-15", 3)
    url, respond, version = (
        f"/api/v1/recommendations/{cpg.id}",
        _respond_url(cpg, "FEMA"),
        row(cpg, "FEMA").version,
    )
    first = client.get(url, headers=headers)
    etag = first.headers["ETag"]
    again = client.get(url, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert client.get(url, headers={**headers, "If-None-Match": '"other"'}).status_code == 200
    # a change: a new ETag
    assert client.post(respond, json=_response_body(version), headers=headers_for("fema")).status_code == 200
    changed = client.get(url, headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


def test_dashboard_counts_and_as_of(client: FlaskClient) -> None:
    headers = headers_for("oig")
    body = client.get("/api/v1/dashboard", headers=headers).get_json()
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Recommendation))
    assert body["total"] == total
    assert sum(c["count"] for c in body["by_status"]) == total
    past = client.get("/api/v1/dashboard?as_of=2012-01-01", headers=headers).get_json()
    assert past["as_of"] == "2012-01-01"
    assert past["total"] < total


def test_components_count_only_what_the_caller_may_read(client: FlaskClient) -> None:
    def ia_total(role: str) -> int:
        rows = client.get("/api/v1/components", headers=headers_for(role)).get_json()
        return next(r["recommendations_total"] for r in rows if r["abbreviation"] == "I&A")

    assert ia_total("oig") == ia_total("viewer") + 1  # the restricted I&A recommendation


# --- writes -----------------------------------------------------------------------------------


def _response_body(version: int, **changes: Any) -> dict[str, Any]:
    body = {
        "concurrence": "concur",
        "response": "FEMA will disseminate CPG-502 to every EOC.",
        "corrective_action_plan": "Send CPG-502 to all state, local and tribal EOCs.",
        "target_date": (clock.today() + timedelta(days=90)).isoformat(),
        "responsible_official": "FEMA National Preparedness Directorate",
        "version": version,
    }
    return body | changes


def _respond_url(target: Recommendation, abbreviation: str) -> str:
    return f"/api/v1/recommendations/{target.id}/addressees/{row(target, abbreviation).id}/steps/respond"


def test_a_liaison_responds_with_the_version_and_a_stale_one_is_409(client: FlaskClient) -> None:
    new = make_token("fema")
    token_id, prefix = new.token.id, new.token.prefix
    cpg = rec("OIG-12-15", 3)
    version, url = row(cpg, "FEMA").version, _respond_url(cpg, "FEMA")
    response = client.post(url, json=_response_body(version), headers=bearer(new.secret))
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["message"] == "The response was submitted. The OIG will evaluate it."
    assert part_of(body["recommendation"], "FEMA")["response_state"] == "submitted"
    assert part_of(body["recommendation"], "I&A")["response_state"] == "none"
    assert body["recommendation"]["events"][-1]["kind"] == "response_submitted"
    # the history names the person, as the page's would
    assert body["recommendation"]["events"][-1]["actor"] == EMAILS["fema"]
    # the same version again: the record changed since
    problem_of(client.post(url, json=_response_body(version), headers=bearer(new.secret)), 409)
    # every change is in the audit trail, naming the token
    db.session.expire_all()
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.actor_id == user_by_email(EMAILS["fema"]).id)
    ).all()
    changes = [
        e
        for e in events
        if e.outcome == "success" and e.object_type in ("recommendation_events", "addressees")
    ]
    assert {e.object_type for e in changes} == {"recommendation_events", "addressees"}
    assert {e.actor_label for e in changes} == {f"API token #{token_id} {prefix}… of {EMAILS['fema']}"}


def test_not_yours_is_403_and_not_now_is_409(client: FlaskClient) -> None:
    cpg, other = rec("OIG-12-15", 3), rec("OIG-12-15", 1)
    version, url = row(cpg, "FEMA").version, _respond_url(cpg, "FEMA")
    update = f"/api/v1/recommendations/{cpg.id}/addressees/{row(cpg, 'FEMA').id}/steps/update"
    elsewhere = f"/api/v1/recommendations/{cpg.id}/addressees/{other.addressees[0].id}/steps/respond"
    body = problem_of(client.post(url, json=_response_body(version), headers=headers_for("liaison")), 403)
    assert body["detail"] == "You act for I&A, not FEMA."
    problem_of(client.post(url, json=_response_body(version), headers=headers_for("oig")), 403)
    body = problem_of(
        client.post(update, json={"text": "x", "version": version}, headers=headers_for("fema")), 409
    )
    assert "Open–Unresolved" in body["detail"]
    problem_of(client.post(elsewhere, json=_response_body(1), headers=headers_for("fema")), 404)


def test_a_step_s_own_rule_names_the_field(client: FlaskClient) -> None:
    cpg = rec("OIG-12-15", 3)
    version, url = row(cpg, "FEMA").version, _respond_url(cpg, "FEMA")
    body = problem_of(
        client.post(url, json=_response_body(version, response=""), headers=headers_for("fema")), 422
    )
    assert body["errors"] == [{"pointer": "/response", "detail": "Enter the component's response."}]


def test_oig_staff_create_and_edit_a_report_and_a_recommendation(client: FlaskClient) -> None:
    new = make_token("oig")
    headers, label = bearer(new.secret), f"API token #{new.token.id} {new.token.prefix}… of {EMAILS['oig']}"
    fema = component("FEMA").id
    made = client.post(
        "/api/v1/reports",
        json={
            "number": "OIG-API-1",
            "title": "Report entered through the API (test)",
            "issued_on": "2024-05-01",
            "component_ids": [fema],
        },
        headers=headers,
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    report = made.get_json()
    assert made.headers["Location"].endswith(f"/api/v1/reports/{report['id']}")
    assert [c["abbreviation"] for c in report["components"]] == ["FEMA"]
    clash = client.post(
        "/api/v1/reports",
        json={"number": "OIG-API-1", "title": "Again", "issued_on": "2024-05-01"},
        headers=headers,
    )
    assert problem_of(clash, 422)["errors"][0]["pointer"] == "/number"

    edited = client.patch(
        f"/api/v1/reports/{report['id']}",
        json={"summary": "Summed up.", "version": report["version"]},
        headers=headers,
    )
    assert edited.status_code == 200
    assert edited.get_json()["summary"] == "Summed up."
    assert edited.get_json()["title"] == "Report entered through the API (test)"  # unchanged
    problem_of(
        client.patch(
            f"/api/v1/reports/{report['id']}",
            json={"summary": "Late.", "version": report["version"]},
            headers=headers,
        ),
        409,
    )

    created = client.post(
        f"/api/v1/reports/{report['id']}/recommendations",
        json={
            "number": 1,
            "text": "Do the thing (test).",
            "addressees": [{"component_id": fema, "is_lead": True}],
        },
        headers=headers,
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    rec_body = created.get_json()
    assert rec_body["status"] == "open_unresolved"
    assert [e["kind"] for e in rec_body["events"]] == ["created"]
    patched = client.patch(
        f"/api/v1/recommendations/{rec_body['id']}",
        json={"text": "Do the other thing (test).", "version": rec_body["version"]},
        headers=headers,
    )
    assert patched.status_code == 200, patched.get_data(as_text=True)
    assert patched.get_json()["text"] == "Do the other thing (test)."
    assert patched.get_json()["addressees"][0]["component"]["abbreviation"] == "FEMA"
    problem_of(
        client.patch(
            f"/api/v1/recommendations/{rec_body['id']}",
            json={"text": "Stale.", "version": rec_body["version"]},
            headers=headers,
        ),
        409,
    )
    db.session.expire_all()
    saved = db.session.scalar(sa.select(Report).where(Report.number == "OIG-API-1"))
    assert saved is not None
    assert saved.summary == "Summed up."
    labels = set(
        db.session.scalars(
            sa.select(AuditEvent.actor_label).where(
                AuditEvent.object_type == "reports", AuditEvent.object_id == saved.id
            )
        )
    )
    assert labels == {label}


def test_liaisons_may_not_enter_reports(client: FlaskClient) -> None:
    report = report_by_number("OIG-12-15")
    report_id, version = report.id, report.version
    problem_of(
        client.post(
            "/api/v1/reports", json={"title": "x", "issued_on": None}, headers=headers_for("liaison")
        ),
        403,
    )
    problem_of(
        client.patch(f"/api/v1/reports/{report_id}", json={"version": version}, headers=headers_for("fema")),
        403,
    )


def test_the_whole_lifecycle_through_the_api(client: FlaskClient) -> None:
    """CPG-502 from FEMA's response to closure, as docs/ describes, and the page shows it."""
    fema, oig = headers_for("fema"), headers_for("oig")
    cpg = rec("OIG-12-15", 3)
    base = f"/api/v1/recommendations/{cpg.id}"
    part = f"{base}/addressees/{row(cpg, 'FEMA').id}/steps"
    page_url = f"/recommendations/{cpg.id}"

    def current() -> dict[str, Any]:
        return client.get(base, headers=oig).get_json()

    def fema_version() -> int:
        return part_of(current(), "FEMA")["version"]

    def post(url: str, body: dict[str, Any], headers: dict[str, str]) -> None:
        response = client.post(url, json=body, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)

    post(f"{part}/respond", _response_body(fema_version()), fema)
    post(f"{base}/steps/resolve", {"note": "The plan is responsive.", "version": current()["version"]}, oig)
    post(f"{part}/update", {"text": "Sent to 40 EOCs.", "version": fema_version()}, fema)
    post(f"{part}/request-closure", {"justification": "Sent to all EOCs.", "version": fema_version()}, fema)
    post(
        f"{base}/steps/close",
        {"outcome": "implemented", "note": "Done.", "version": current()["version"]},
        oig,
    )
    assert current()["status"] == "closed_implemented"
    login(client, "oig")
    page = client.get(page_url).get_data(as_text=True)
    for words in ("Response submitted", "Resolved", "Progress update", "Closure requested", "Closed"):
        assert words in page


def part_of(body: dict[str, Any], abbreviation: str) -> dict[str, Any]:
    """A component's part (addressee) in a recommendation's body."""
    return next(a for a in body["addressees"] if a["component"]["abbreviation"] == abbreviation)


def test_money_is_a_decimal_string(client: FlaskClient) -> None:
    report = report_by_number("OIG-12-15")
    url, fema = f"/api/v1/reports/{report.id}/recommendations", component("FEMA").id
    body = {"text": "Recover the funds (test).", "addressees": [{"component_id": fema}]}
    refused = client.post(url, json=body | {"questioned_costs": 12.5}, headers=headers_for("oig"))
    assert problem_of(refused, 422)["errors"][0]["pointer"] == "/questioned_costs"
    made = client.post(url, json=body | {"questioned_costs": "1250.5"}, headers=headers_for("oig"))
    assert made.status_code == 201, made.get_data(as_text=True)
    assert made.get_json()["questioned_costs"] == "1250.50"


# The same five steps, with the same words, through the API on CPG-502 and through the
# step pages on FEMA's other open part (TEST-R-1 #2): the two recommendations' pages show
# the same new history, entry for entry (who, role, kind, date, notes, plan, target).
STEP_WORDS = {
    "respond": {
        "concurrence": "concur",
        "response": "FEMA concurs (same words both ways).",
        "corrective_action_plan": "The same plan both ways.",
        "responsible_official": "The same official both ways",
    },
    "resolve": {"note": "Responsive (same words both ways)."},
    "update": {"text": "The same progress both ways."},
    "request-closure": {"justification": "The same justification both ways."},
    "close": {"outcome": "implemented", "note": "Closed (same words both ways)."},
}


def _timeline(client: FlaskClient, target: Recommendation) -> list[str]:
    """The page's history entries, each as its words, without the recording instant."""
    import re

    page = client.get(f"/recommendations/{target.id}").get_data(as_text=True)
    section = page.split('id="history-heading"', 1)[1].split("</section>", 1)[0]
    entries = []
    for item in section.split("<li>")[1:]:
        words = " ".join(re.sub(r"<[^>]+>", " ", item).split())
        entries.append(re.sub(r"recorded .*?(?=$| Target| Plan)", "recorded", words))
    return entries


def _by_api(client: FlaskClient, target: Recommendation) -> None:
    fema, oig = headers_for("fema"), headers_for("oig")
    base = f"/api/v1/recommendations/{target.id}"
    steps = f"{base}/addressees/{row(target, 'FEMA').id}/steps"
    due = (clock.today() + timedelta(days=120)).isoformat()

    def version(part: bool) -> int:
        body = client.get(base, headers=oig).get_json()
        return int(part_of(body, "FEMA")["version"] if part else body["version"])

    for url, slug, headers, part in (
        (f"{steps}/respond", "respond", fema, True),
        (f"{base}/steps/resolve", "resolve", oig, False),
        (f"{steps}/update", "update", fema, True),
        (f"{steps}/request-closure", "request-closure", fema, True),
        (f"{base}/steps/close", "close", oig, False),
    ):
        body = {**STEP_WORDS[slug], "version": version(part)}
        if slug == "respond":
            body["target_date"] = due
        response = client.post(url, json=body, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)


def _by_pages(client: FlaskClient, target: Recommendation) -> None:
    from tests.conftest import hidden_fields

    base = f"/recommendations/{target.id}"
    part = f"{base}/components/{row(target, 'FEMA').id}"
    due = (clock.today() + timedelta(days=120)).isoformat()
    for url, slug, role in (
        (f"{part}/respond", "respond", "fema"),
        (f"{base}/resolve", "resolve", "oig"),
        (f"{part}/update", "update", "fema"),
        (f"{part}/request-closure", "request-closure", "fema"),
        (f"{base}/close", "close", "oig"),
    ):
        login(client, role)
        form = {**hidden_fields(client.get(url).get_data(as_text=True)), **STEP_WORDS[slug]}
        if slug == "respond":
            form["target_date"] = due
        response = client.post(url, data=form)
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def test_the_api_leaves_the_same_history_as_the_pages(client: FlaskClient) -> None:
    cpg, other = rec("OIG-12-15", 3), rec("TEST-R-1", 2)
    login(client, "oig")
    before = (len(_timeline(client, cpg)), len(_timeline(client, other)))
    _by_api(client, cpg)
    _by_pages(client, other)
    login(client, "oig")
    by_api = _timeline(client, cpg)[before[0] :]
    by_pages = _timeline(client, other)[before[1] :]
    kinds = ["Response submitted", "Resolved", "Progress update", "Closure requested", "Closed"]
    assert len(by_api) == len(kinds)
    for entry, kind in zip(by_api, kinds, strict=True):
        assert f"· {kind}" in entry, entry
    assert by_api == by_pages
