"""Every route × every role gets the expected outcome.

The table below must name every (endpoint, method) the app serves: a new route with no
rule here fails `test_every_route_has_a_rule`, so no route ships without a decision about
who may use it.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pyotp
import pytest
import sqlalchemy as sa
from flask import Flask, current_app
from flask.testing import FlaskClient
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload

from app import audit, clock
from app.admin.forms import NewUserForm, PasswordResetForm, UserForm
from app.auth import reset
from app.auth.forms import ForgotPasswordForm, LoginForm, NewPasswordForm, PasswordChangeForm
from app.auth.passwords import verify_password
from app.components.forms import ComponentEditForm, ComponentForm
from app.extensions import db
from app.forms import ConfirmForm
from app.imports.forms import CommitForm, UploadForm
from app.imports.staging import Staging
from app.lifecycle import forms as lifecycle_forms
from app.lifecycle.steps import STEPS
from app.mail.forms import PreferencesForm
from app.mfa.forms import CodeForm, ReauthForm, TotpForm
from app.models import (
    Acronym,
    Addressee,
    ApiToken,
    Attachment,
    AuditEvent,
    ClosureState,
    Component,
    DigestFrequency,
    FactorKind,
    MailPreference,
    MfaFactor,
    PasswordResetToken,
    Recommendation,
    RecStatus,
    Report,
    ResponseState,
    Role,
    TokenScope,
    User,
)
from app.recommendations import services as rec_services
from app.recommendations.forms import PriorityForm, RecommendationEditForm, RecommendationForm, RepeatForm
from app.reports.forms import ReportEditForm, ReportForm
from app.search.forms import AcronymDeleteForm, AcronymEditForm, AcronymForm
from app.storage import DatabaseBlobStore, blob_store
from app.tokens import services as tokens
from app.tokens.forms import TokenForm
from tests.api_support import headers_for
from tests.conftest import EMAILS, PASSWORD, login, rec, report_by_number, user_by_email, visible_text
from tests.html_forms import filled, form_values
from tests.states import component, fema_responded, hsin_resolved, row, step_url

ANON = "anonymous"
# "liaison" serves I&A, the component of the test recommendation; "fema" serves another.
ALL_ROLES = (ANON, "admin", "oig", "liaison", "fema", "viewer")


def signed_in(code: int) -> dict[str, int]:
    return {ANON: 302, "admin": code, "oig": code, "liaison": code, "fema": code, "viewer": code}


def portal(code: int) -> dict[str, int]:
    """A public portal page (app/__init__.py PORTAL_ENDPOINTS; PUBLIC_PORTAL is on in
    tests): anonymous visitors read it as the most restricted reader, like everyone signed in."""
    return {**signed_in(code), ANON: code}


def staff(code: int) -> dict[str, int]:
    return {ANON: 302, "admin": code, "oig": code, "liaison": 403, "fema": 403, "viewer": 403}


def everyone(code: int) -> dict[str, int]:
    """No sign-in needed: the same answer to anonymous visitors and every role."""
    return dict.fromkeys(ALL_ROLES, code)


def admin_only(code: int) -> dict[str, int]:
    return {ANON: 302, "admin": code, "oig": 403, "liaison": 403, "fema": 403, "viewer": 403}


def own_job(code: int) -> dict[str, int]:
    """A job of the viewer's (the probe's job): only its owner reaches it; to anyone else
    it does not exist."""
    return {ANON: 302, "admin": 404, "oig": 404, "liaison": 404, "fema": 404, "viewer": code}


def owner_or_admin(code: int) -> dict[str, int]:
    """A record of the viewer's (the probe's API token): its owner and administrators."""
    return {ANON: 302, "admin": code, "oig": 403, "liaison": 403, "fema": 403, "viewer": code}


def liaison_step(admin: int, liaison: int) -> dict[str, int]:
    """A step on the I&A row: its liaison (and admins) may; OIG staff, other liaisons
    and viewers may not."""
    return {ANON: 302, "admin": admin, "oig": 403, "liaison": liaison, "fema": 403, "viewer": 403}


def oig_step(code: int) -> dict[str, int]:
    return {ANON: 302, "admin": code, "oig": code, "liaison": 403, "fema": 403, "viewer": 403}


# The JSON API (app/api): a role is a token of that role's account (a write token; the
# viewer's is read-only), never the session cookie; without a token, 401. The probe body
# {"probe": 1} is refused (422: an unknown field, no version) once who and when pass.
def api_read(code: int) -> dict[str, int]:
    return {**dict.fromkeys(ALL_ROLES, code), ANON: 401}


def api(rule: dict[str, int]) -> dict[str, int]:
    """A page's rule for the same action, as the API answers it: 401 for no token, 422
    for the probe where the page's form refused it with 400."""
    return {role: 401 if role == ANON else 422 if code == 400 else code for role, code in rule.items()}


def is_api(endpoint: str) -> bool:
    return endpoint.startswith("api.")


# (endpoint, method) -> expected status per role, for a request with an invalid form. The
# probe sends no version, so a form that edits a record refuses it with 400 (it could not
# be checked against changes saved since the form was loaded).
EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("dashboard.index", "GET"): signed_in(200),
    ("auth.login", "GET"): {**signed_in(302), ANON: 200},
    ("auth.login", "POST"): {**signed_in(302), ANON: 200},
    ("auth.logout", "POST"): signed_in(302),
    # Single sign-on (tests/test_sso.py): no provider is configured in this table's app, so
    # both answer 404 to everyone; with one, anyone may start and finish a sign-in.
    ("sso.start", "GET"): everyone(404),
    ("sso.callback", "GET"): everyone(404),
    ("auth.change_password", "GET"): signed_in(200),
    ("auth.change_password", "POST"): signed_in(200),
    # session limits (app/auth/sessions.py): the warning's status and "Stay signed in"
    ("auth.session_status", "GET"): signed_in(200),
    ("auth.keep_alive", "POST"): signed_in(200),
    # password reset by e-mail (app/auth/reset.py): the probe's link is no real one (410)
    ("auth.forgot_password", "GET"): {**signed_in(302), ANON: 200},
    ("auth.forgot_password", "POST"): {**signed_in(302), ANON: 200},
    ("auth.reset_password", "GET"): everyone(410),
    ("auth.reset_password", "POST"): everyone(410),
    ("reports.index", "GET"): portal(200),
    ("reports.detail", "GET"): portal(200),
    ("reports.create", "GET"): staff(200),
    ("reports.create", "POST"): staff(200),
    ("reports.edit", "GET"): staff(200),
    ("reports.edit", "POST"): staff(400),
    ("reports.delete", "GET"): staff(200),
    ("reports.delete", "POST"): staff(302),
    ("recommendations.create", "GET"): staff(200),
    ("recommendations.create", "POST"): staff(200),
    ("recommendations.detail", "GET"): portal(200),
    ("recommendations.edit", "GET"): staff(200),
    ("recommendations.edit", "POST"): staff(400),
    ("recommendations.delete", "GET"): staff(200),
    ("recommendations.delete", "POST"): staff(302),
    ("recommendations.priority_flag", "GET"): staff(200),
    ("recommendations.priority_flag", "POST"): staff(400),  # no version: refused
    ("recommendations.repeat_link", "GET"): staff(200),
    ("recommendations.repeat_link", "POST"): staff(400),  # no version: refused
    ("components.index", "GET"): portal(200),
    ("components.detail", "GET"): portal(200),
    ("components.create", "GET"): admin_only(200),
    ("components.create", "POST"): admin_only(200),
    ("components.edit", "GET"): admin_only(200),
    ("components.edit", "POST"): admin_only(400),
    ("admin.users", "GET"): admin_only(200),
    ("admin.new_user", "GET"): admin_only(200),
    ("admin.new_user", "POST"): admin_only(200),
    ("admin.edit_user", "GET"): admin_only(200),
    ("admin.edit_user", "POST"): admin_only(400),
    ("admin.reset_password", "GET"): admin_only(200),
    ("admin.reset_password", "POST"): admin_only(200),
    ("admin.audit_log", "GET"): admin_only(200),
    ("recommendations.index", "GET"): portal(200),
    ("lifecycle.work", "GET"): signed_in(200),
    ("lifecycle.download", "GET"): signed_in(200),
    # The test recommendation is Open-Unresolved and I&A has not responded yet, so a
    # step that needs another state answers 409 to those who could otherwise take it.
    ("lifecycle.step:submit_response", "GET"): liaison_step(200, 200),
    ("lifecycle.step:submit_response", "POST"): liaison_step(400, 400),
    ("lifecycle.step:post_update", "GET"): liaison_step(409, 409),
    ("lifecycle.step:post_update", "POST"): liaison_step(409, 409),
    ("lifecycle.step:request_closure", "GET"): liaison_step(409, 409),
    ("lifecycle.step:request_closure", "POST"): liaison_step(409, 409),
    ("lifecycle.step:accept_response", "GET"): oig_step(409),
    ("lifecycle.step:accept_response", "POST"): oig_step(409),
    ("lifecycle.step:return_response", "GET"): oig_step(409),
    ("lifecycle.step:return_response", "POST"): oig_step(409),
    ("lifecycle.step:return_closure", "GET"): oig_step(409),
    ("lifecycle.step:return_closure", "POST"): oig_step(409),
    ("lifecycle.step:resolve", "GET"): oig_step(200),
    # I&A concurred, so the probe would be a valid "resolve" but for its missing version.
    ("lifecycle.step:resolve", "POST"): oig_step(400),
    ("lifecycle.step:close", "GET"): oig_step(200),
    ("lifecycle.step:close", "POST"): oig_step(400),
    ("lifecycle.step:reopen", "GET"): oig_step(409),
    ("lifecycle.step:reopen", "POST"): oig_step(409),
    ("pdf.report_pdf", "GET"): portal(200),
    ("pdf.component_pdf", "GET"): signed_in(200),
    ("pdf.portfolio_pdf", "GET"): signed_in(200),
    ("exports.csv_export", "GET"): portal(200),
    ("exports.xlsx_export", "GET"): signed_in(200),
    ("imports.upload", "GET"): staff(200),
    ("imports.upload", "POST"): staff(200),  # no file: a message next to the field
    ("imports.commit", "POST"): staff(400),  # no token
    ("imports.template_csv", "GET"): staff(200),
    ("imports.template_xlsx", "GET"): staff(200),
    ("search.search", "GET"): portal(200),
    ("search.acronym_list", "GET"): admin_only(200),
    ("search.acronym_list", "POST"): admin_only(200),
    ("search.acronym_edit", "GET"): admin_only(200),
    ("search.acronym_edit", "POST"): admin_only(400),  # no version: refused
    ("search.acronym_delete", "POST"): admin_only(400),  # no version: refused
    ("jobs.downloads", "GET"): signed_in(200),
    ("jobs.detail", "GET"): own_job(200),
    ("jobs.status", "GET"): own_job(200),
    ("jobs.download", "GET"): own_job(200),
    ("jobs.retry", "POST"): own_job(303),  # the file is ready: back to its page
    ("jobs.background", "GET"): admin_only(200),
    ("mail.preferences", "GET"): signed_in(200),
    ("mail.preferences", "POST"): signed_in(200),  # no choice made: the form again, with a message
    ("mail.outbox_log", "GET"): admin_only(200),
    # anyone signed in follows what they may see (a restricted report: 404, tests/test_follow.py)
    ("follows.follow_report", "POST"): signed_in(302),
    ("follows.unfollow_report", "POST"): signed_in(302),
    ("follows.follow_component", "POST"): signed_in(302),
    ("follows.unfollow_component", "POST"): signed_in(302),
    ("search.reindex", "POST"): admin_only(303),
    # API tokens: one's own (every role), a confirmation page before revoking (the
    # probe's token is the viewer's), every token for administrators (tests/test_token_pages.py)
    ("tokens.account", "GET"): signed_in(200),
    ("tokens.account", "POST"): signed_in(200),  # no name or date: the form again, with messages
    ("tokens.revoke", "GET"): owner_or_admin(200),
    ("tokens.revoke", "POST"): owner_or_admin(302),
    ("tokens.admin_tokens", "GET"): admin_only(200),
    # Second factors (app/mfa; tests/test_mfa.py). The second step and the WebAuthn
    # ceremonies need no account (they read the session's pending sign-in): with none,
    # the second step sends everyone away, and a probe that is not JSON is a 400.
    ("mfa.second_factor", "GET"): everyone(302),
    ("mfa.second_factor", "POST"): everyone(302),
    ("mfa.key_options", "POST"): everyone(400),
    ("mfa.key_assert", "POST"): everyone(400),
    ("mfa.reauth", "GET"): signed_in(200),
    ("mfa.reauth", "POST"): signed_in(200),  # no password: the form again, with a message
    ("mfa.security", "GET"): signed_in(200),
    ("mfa.add_key", "GET"): signed_in(200),
    ("mfa.add_key", "POST"): signed_in(400),  # the browser's answer is JSON; a form post is not
    ("mfa.add_totp", "GET"): signed_in(200),
    ("mfa.add_totp", "POST"): signed_in(200),
    ("mfa.recovery_codes", "GET"): signed_in(200),
    # no factor yet: back to the security page; the viewer has the probe's factor: the codes, once
    ("mfa.recovery_codes", "POST"): {**signed_in(302), "viewer": 200},
    # the probe's factor is the viewer's: to anyone else it does not exist
    ("mfa.remove_factor", "GET"): own_job(200),
    ("mfa.remove_factor", "POST"): own_job(302),
    ("admin.reset_factors", "GET"): admin_only(200),
    ("admin.reset_factors", "POST"): admin_only(302),  # a job rebuilds the index; its page follows
    # for load balancers and monitors: no sign-in (it says only "ok" or "unavailable")
    ("health.healthz", "GET"): {
        ANON: 200,
        "admin": 200,
        "oig": 200,
        "liaison": 200,
        "fema": 200,
        "viewer": 200,
    },
    ("health.readyz", "GET"): {
        ANON: 200,
        "admin": 200,
        "oig": 200,
        "liaison": 200,
        "fema": 200,
        "viewer": 200,
    },
    # Atom feeds of public items' status changes: no sign-in (tests/test_feeds.py)
    ("feeds.all_public", "GET"): portal(200),
    ("feeds.report_feed", "GET"): portal(200),
    ("feeds.component_feed", "GET"): portal(200),
    # Open data, public recommendations only: portal pages (tests/test_opendata.py). No file
    # is built in this table's database, so the downloads answer 404 to everyone.
    ("opendata.index", "GET"): portal(200),
    ("opendata.dictionary", "GET"): portal(200),
    ("opendata.csv_file", "GET"): portal(404),
    ("opendata.json_file", "GET"): portal(404),
    # for Prometheus: no sign-in, but only from METRICS_ALLOWED_ADDRESSES (the test
    # client's 127.0.0.1) or with METRICS_TOKEN (tests/test_observability.py)
    ("metrics", "GET"): {ANON: 200, "admin": 200, "oig": 200, "liaison": 200, "fema": 200, "viewer": 200},
    # The JSON API (tests/test_api.py): its description and docs page need no token.
    ("api-docs.openapi_json", "GET"): everyone(200),
    ("api_docs.docs", "GET"): everyone(200),
    ("api.reports", "GET"): api_read(200),
    ("api.report", "GET"): api_read(200),
    ("api.recommendations", "GET"): api_read(200),
    ("api.recommendation", "GET"): api_read(200),
    ("api.components", "GET"): api_read(200),
    ("api.dashboard", "GET"): api_read(200),
    ("api.search", "GET"): api_read(422),  # the probe sends no `q`
    ("api.create_report", "POST"): api(staff(422)),
    ("api.edit_report", "PATCH"): api(staff(422)),
    ("api.create_recommendation", "POST"): api(staff(422)),
    ("api.edit_recommendation", "PATCH"): api(staff(422)),
    # Each step as on its page (above): the same 403 and 409 on the same I&A row.
    **{
        (f"api.step_{name}", "POST"): api(page_rule)
        for name, page_rule in (
            ("submit_response", liaison_step(400, 400)),
            ("post_update", liaison_step(409, 409)),
            ("request_closure", liaison_step(409, 409)),
            ("accept_response", oig_step(409)),
            ("return_response", oig_step(409)),
            ("return_closure", oig_step(409)),
            ("resolve", oig_step(400)),
            ("close", oig_step(400)),
            ("reopen", oig_step(409)),
        )
    },
}
# Endpoints an anonymous visitor reaches without being sent to the sign-in page, whatever
# PUBLIC_PORTAL says.
ALWAYS_OPEN = (
    "auth.login",
    "mfa.second_factor",
    "mfa.key_options",
    "mfa.key_assert",
    "sso.start",
    "sso.callback",
    "auth.forgot_password",
    "auth.reset_password",
    "health.healthz",
    "health.readyz",
    "metrics",
)
# ... and those of the public portal, with PUBLIC_PORTAL on (the tests' setting).
PORTAL = (
    "reports.index",
    "reports.detail",
    "recommendations.index",
    "recommendations.detail",
    "components.index",
    "components.detail",
    "search.search",
    "pdf.report_pdf",
    "exports.csv_export",
    "feeds.all_public",
    "feeds.report_feed",
    "feeds.component_feed",
    "api-docs.openapi_json",
    "api_docs.docs",
    "opendata.index",
    "opendata.dictionary",
    "opendata.csv_file",
    "opendata.json_file",
)
NO_SIGN_IN = ALWAYS_OPEN + PORTAL
# Where an anonymous visitor is sent instead of the sign-in page: the site's address is
# the portal's front page.
ANON_REDIRECTS = {"dashboard.index": "/reports"}

SKIPPED_ENDPOINTS = {"static"}
IDS = (
    "report_id",
    "rec_id",
    "addressee_id",
    "attachment_id",
    "component_id",
    "user_id",
    "acronym_id",
    "job_id",
    "token_id",
    "factor_id",
)


def _routes(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, method, URL rule) of every route. The step route serves every workflow
    step of the step table, each under its own name ("lifecycle.step:resolve")."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if "slug" not in rule.arguments:
                out.append((rule.endpoint, method, rule.rule))
                continue
            for step in STEPS.values():
                if step.on_addressee == ("addressee_id" in rule.arguments):
                    url = re.sub(r"<[^>]*:slug>", step.slug, rule.rule)
                    out.append((f"{rule.endpoint}:{step.name}", method, url))
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
        "job_id": _job(viewer),
        "token_id": _api_token(viewer),
        "factor_id": _factor(viewer),
        "name": "logingov",  # an SSO provider's name (none is configured here)
        "token": "not-a-reset-link",  # a password-reset link's token (none matches)
    }


def _job(viewer: User) -> str:
    """A finished job of the viewer's, with its file."""
    from app.models import Job
    from tests.factories import make_done_job

    found = db.session.scalar(sa.select(Job.id).where(Job.user_id == viewer.id))
    return found if found is not None else make_done_job(viewer)


PROBE_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _factor(viewer: User) -> int:
    """A second factor of the viewer's (an authenticator app)."""
    found = db.session.scalar(sa.select(MfaFactor.id).where(MfaFactor.user_id == viewer.id))
    if found is None:
        factor = MfaFactor(
            user_id=viewer.id, kind=FactorKind.TOTP, name="Probe app", totp_secret=PROBE_TOTP_SECRET
        )
        db.session.add(factor)
        db.session.commit()
        found = factor.id
    return found


def _api_token(viewer: User) -> int:
    """An API token of the viewer's."""
    found = db.session.scalar(sa.select(ApiToken.id).where(ApiToken.user_id == viewer.id))
    if found is None:
        now = clock.now()
        made = tokens.create(
            db.session,
            viewer,
            name="Probe",
            scope=TokenScope.READ,
            expires_at=now + timedelta(days=30),
            now=now,
        )
        db.session.commit()
        found = made.token.id
    return found


def _attachment(app: Flask, recommendation: Any) -> Attachment:
    found = db.session.scalar(sa.select(Attachment).where(Attachment.recommendation_id == recommendation.id))
    if found is None:
        found = Attachment(
            recommendation_id=recommendation.id,
            addressee_id=recommendation.addressees[0].id,
            sha256=DatabaseBlobStore().put(db.session, b"evidence,1\n"),
            size_bytes=11,
            content_type="text/csv",
            original_name="e.csv",
        )
        db.session.add(found)
        db.session.commit()
    return found


def _url(rule: str, params: dict[str, Any]) -> str:
    for name, value in params.items():
        rule = rule.replace(f"<int:{name}>", str(value)).replace(f"<{name}>", str(value))
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
    headers = {}
    if role != ANON and is_api(endpoint):
        headers = headers_for(role)  # a token, not a session
    elif role != ANON:
        login(client, role)
    expected = EXPECTED[(endpoint, method)][role]
    for rule in sorted({rule for key, _method, rule in _routes(app) if key == endpoint}):
        url = _url(rule, _params(app))
        if is_api(endpoint):
            response = client.open(url, method=method, json={"probe": 1}, headers=headers)
            assert response.mimetype == ("application/json" if expected < 400 else "application/problem+json")
        else:
            response = client.open(url, method=method, data={"probe": "1"})
        assert response.status_code == expected, f"{method} {url} as {role}"
        if response.status_code == 302 and role == ANON:
            assert response.headers["Location"].startswith(ANON_REDIRECTS.get(endpoint, "/login"))


@pytest.mark.parametrize("role", ["admin", "oig", "liaison", "fema", "viewer"])
def test_missing_ids_are_404(app: Flask, role: str) -> None:
    client = app.test_client()
    login(client, role)
    token = headers_for(role)
    for endpoint, method, rule in _routes(app):
        if "<int:" not in rule or method != "GET":
            continue
        url = _url(rule, dict.fromkeys(IDS, 987654))
        assert client.get(url, headers=token if is_api(endpoint) else {}).status_code == 404, url


def test_anonymous_reaches_only_the_login_and_portal_pages(app: Flask) -> None:
    client = app.test_client()
    for endpoint, method, rule in _routes(app):
        if endpoint in NO_SIGN_IN:
            continue
        response = client.open(_url(rule, dict.fromkeys(IDS, 1)), method=method)
        if is_api(endpoint):  # the API never sends anyone to the sign-in page
            assert response.status_code == 401, (method, rule)
            continue
        assert response.status_code == 302, (method, rule)
        assert response.headers["Location"].startswith(ANON_REDIRECTS.get(endpoint, "/login"))


def test_the_portal_table_matches_the_app() -> None:
    from app import PORTAL_ENDPOINTS, PUBLIC_ENDPOINTS

    assert set(PORTAL) == PORTAL_ENDPOINTS
    assert set(ALWAYS_OPEN) == PUBLIC_ENDPOINTS - {"static"}


def test_with_the_portal_off_anonymous_reaches_only_the_login_page(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PUBLIC_PORTAL off: every page but sign-in, health and metrics needs a sign-in, the
    Atom feeds included, with `next` back to the page asked for."""
    monkeypatch.setitem(app.config, "PUBLIC_PORTAL", False)
    client = app.test_client()
    params = _params(app)
    for endpoint, method, rule in _routes(app):
        if endpoint in ALWAYS_OPEN:
            continue
        url = _url(rule, params)
        response = client.open(url, method=method)
        if rule.startswith("/api/"):
            # the API never redirects: its description is public (no data), the rest
            # needs a token whatever the portal says
            expected = 200 if rule in ("/api/v1/openapi.json", "/api/v1/docs") else 401
            assert response.status_code == expected, (method, rule)
            continue
        assert response.status_code == 302, (method, rule)
        location = response.headers["Location"]
        assert location.startswith("/login"), (method, rule)
        if method == "GET":
            assert "next=" in location, (method, rule)


# --- the second factor's states -------------------------------------------------------------
#
# Two more states of a signed-in person, each checked against the same table: every route
# answers as EXPECTED says, except where the state itself answers first.
# - "signed in, MFA required, not enrolled" (MFA_REQUIRED_ROLES names the role, the account
#   has no factor): only the enrolment pages, the public ones and the API (tokens) answer;
#   everything else sends to the security page. The viewer holds the probe's factor, so it
#   is "required, enrolled, not given in this session": only reauthentication and sign-out.
# - "fresh sign-in required" (signed in 16 minutes ago, FRESH_SIGNIN_MINUTES 15): the rows
#   of FRESH_REQUIRED send whoever may use them to reauthenticate, then come back; every
#   page (GET) and every row of FRESH_REQUIRED is tried, in one test per role.

SIGNED_IN_ROLES = ALL_ROLES[1:]
FRESH_REQUIRED = frozenset(
    {
        ("auth.change_password", "GET"),
        ("auth.change_password", "POST"),
        ("tokens.account", "POST"),  # making a token; the list needs no fresh sign-in
        ("admin.edit_user", "GET"),  # it changes roles
        ("admin.edit_user", "POST"),
        ("admin.reset_factors", "GET"),
        ("admin.reset_factors", "POST"),
        ("mfa.add_key", "GET"),
        ("mfa.add_key", "POST"),
        ("mfa.add_totp", "GET"),
        ("mfa.add_totp", "POST"),
        ("mfa.recovery_codes", "GET"),
        ("mfa.recovery_codes", "POST"),
        ("mfa.remove_factor", "GET"),
        ("mfa.remove_factor", "POST"),
    }
)


def _signed_in_at(client: FlaskClient, role: str, minutes_ago: int) -> None:
    login(client, role)
    with client.session_transaction() as sess:
        sess["auth_at"] = (clock.now() - timedelta(minutes=minutes_ago)).isoformat()


@pytest.mark.parametrize("role", SIGNED_IN_ROLES)
def test_mfa_required_not_enrolled_reaches_only_enrolment(
    app: Flask, monkeypatch: pytest.MonkeyPatch, role: str
) -> None:
    from app import PUBLIC_ENDPOINTS
    from app.mfa.flow import ENROLMENT_ENDPOINTS, UNPROVEN_ENDPOINTS

    monkeypatch.setitem(app.config, "MFA_REQUIRED_ROLES", "admin,oig,liaison,viewer")
    params = _params(app)
    enrolled = role == "viewer"
    reachable = UNPROVEN_ENDPOINTS if enrolled else ENROLMENT_ENDPOINTS
    landing = "/account/reauth" if enrolled else "/account/security"
    client = app.test_client()
    for endpoint, method, rule in _routes(app):
        if rule.startswith("/api/"):
            continue  # tokens, not sessions: the table's own test
        login(client, role)  # again each time: the probe may have signed out
        url = _url(rule, params)
        response = client.open(url, method=method, data={"probe": "1"})
        if endpoint in PUBLIC_ENDPOINTS or endpoint in reachable:
            assert response.status_code == EXPECTED[(endpoint, method)][role], f"{method} {url} as {role}"
        else:
            assert response.status_code == 302, f"{method} {url} as {role}"
            assert response.headers["Location"].startswith(landing), f"{method} {url} as {role}"


@pytest.mark.parametrize("role", SIGNED_IN_ROLES)
def test_fresh_sign_in_required(app: Flask, role: str) -> None:
    params = _params(app)
    assert set(EXPECTED) >= FRESH_REQUIRED
    client = app.test_client()
    for endpoint, method, rule in _routes(app):
        if rule.startswith("/api/") or (method != "GET" and (endpoint, method) not in FRESH_REQUIRED):
            continue  # other writes are not in one transaction here; the state cannot reach them
        _signed_in_at(client, role, 16)
        url = _url(rule, params)
        response = client.open(url, method=method, data={"probe": "1"})
        expected = EXPECTED[(endpoint, method)][role]
        if (endpoint, method) in FRESH_REQUIRED and expected not in (403, 404):  # those who may
            assert response.status_code == 302, f"{method} {url} as {role}"
            assert response.headers["Location"].startswith("/account/reauth?next="), f"{method} {url}"
        else:
            assert response.status_code == expected, f"{method} {url} as {role}"


# --- form smoke table ----------------------------------------------------------------------
#
# Beside the route table: every form in the app (each FlaskForm subclass under app/) is
# filled in with valid data by a role allowed to use it, posted through the HTTP client
# as a browser would (the form's own values, such as its version, with the person's
# changes on top), and the change is read back from the database. A form class with no
# row fails `test_every_form_has_a_smoke_row`, so no form ships without being submitted
# once for real.

NEW_PASSWORD = "violet harbour quantum lantern 42"
SMOKE_CSV = (
    b"report_number,report_title,report_issued_on,report_components,rec_number,rec_text,component,lead\r\n"
    b"OIG-SMOKE-IMP,Smoke-test imported report (test fixture),2020-03-02,FEMA,1,"
    b"Smoke-test imported recommendation.,FEMA,yes\r\n"
)


@dataclass(frozen=True)
class Smoke:
    """One submission of a form. `page` opens the page holding the form and returns its
    URL and HTML; `changes` is what the person types; `saved` asserts, from the
    database, that the change is there."""

    role: str
    page: Callable[[FlaskClient], tuple[str, str]]
    changes: Callable[[], dict[str, Any]]
    saved: Callable[[], None]
    setup: Callable[[], None] | None = None
    action: str | Callable[[], str] | None = None  # where the form posts, when not to its own page
    status: int = 302


def _get(url: Callable[[], str]) -> Callable[[FlaskClient], tuple[str, str]]:
    def open_page(client: FlaskClient) -> tuple[str, str]:
        target = url()
        response = client.get(target)
        assert response.status_code == 200, f"GET {target}: {response.status_code}"
        return target, response.get_data(as_text=True)

    return open_page


def _uploaded(client: FlaskClient) -> tuple[str, str]:
    response = client.post("/import", data={"file": (io.BytesIO(SMOKE_CSV), "smoke.csv")})
    assert response.status_code == 200
    return "/import", response.get_data(as_text=True)


def _acronym(short: str) -> Acronym | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(Acronym).where(Acronym.acronym == short))


def _user(role: str) -> User:
    db.session.expire_all()
    return user_by_email(EMAILS[role])


def _deletable_report() -> None:
    report = Report(
        number="TEST-SMOKE-DEL",
        title="Smoke-test report entered by mistake (test fixture)",
        issued_on=date(2020, 1, 6),
        components=[component("FEMA")],
    )
    db.session.add(report)
    db.session.flush()
    rec_services.create_recommendation(
        db.session,
        audit.AuditActor.system("tests"),
        report,
        rec_services.RecommendationData(
            number=1,
            text="Smoke-test recommendation entered by mistake.",
            addressees=[rec_services.AddresseeData(component("FEMA").id, is_lead=True)],
        ),
        today=clock.today(),
    )
    db.session.commit()


def _report(number: str) -> Report | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(Report).where(Report.number == number))


def _rec_by_text(text: str) -> Recommendation | None:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(Recommendation)
        .where(Recommendation.text == text)
        .options(selectinload(Recommendation.addressees).joinedload(Addressee.component))
    )


def _attachment_names(recommendation: Recommendation) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(Attachment.original_name).where(Attachment.recommendation_id == recommendation.id)
        )
    )


def _api_tokens(role: str) -> list[ApiToken]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == _user(role).id)))


def _check(condition: Callable[[], object]) -> Callable[[], None]:
    def saved() -> None:
        db.session.expire_all()
        assert condition()

    return saved


def _new_user_saved() -> None:
    db.session.expire_all()
    user = user_by_email("new.liaison@test.example")
    assert (user.display_name, user.role, [c.abbreviation for c in user.components]) == (
        "New Liaison",
        Role.LIAISON,
        ["FEMA"],
    )
    assert verify_password(user.password_hash, NEW_PASSWORD)


def _staged_not_imported() -> None:
    oig = _user("oig")
    staged = Staging(db.session, blob_store(current_app.config), oig.id).get(
        hashlib.sha256(SMOKE_CSV).hexdigest()
    )
    assert staged is not None
    assert staged.data == SMOKE_CSV  # kept for the commit
    assert _report("OIG-SMOKE-IMP") is None  # a dry run saves no record


def _imported() -> None:
    db.session.expire_all()
    report = report_by_number("OIG-SMOKE-IMP")
    assert [(r.number, r.text) for r in report.recommendations] == [
        (1, "Smoke-test imported recommendation.")
    ]


_TOTP_PAGE: dict[str, str] = {}


def _totp_page(client: FlaskClient) -> tuple[str, str]:
    """The page adding an authenticator app, its secret noted for the code the app would show."""
    url, page = _get(lambda: "/account/security/totp")(client)
    found = re.search(r"<code[^>]*data-totp-secret>([A-Z2-7 ]+)</code>", page)
    assert found is not None
    _TOTP_PAGE["secret"] = found.group(1).replace(" ", "")
    return url, page


def _totp_code(secret: str) -> str:
    return pyotp.TOTP(secret).at(clock.now())


def _viewer_has_an_app() -> None:
    viewer = _user("viewer")
    db.session.add(
        MfaFactor(user_id=viewer.id, kind=FactorKind.TOTP, name="Phone", totp_secret=PROBE_TOTP_SECRET)
    )
    db.session.commit()


def _password_then_second_step(client: FlaskClient) -> tuple[str, str]:
    response = client.post("/login", data={"email": EMAILS["viewer"], "password": PASSWORD})
    assert response.headers["Location"] == "/login/second-factor"
    return _get(lambda: "/login/second-factor")(client)


def _audited(action: str, role: str) -> Callable[[], None]:
    def saved() -> None:
        db.session.expire_all()
        assert db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.action == action,
                AuditEvent.actor_id == _user(role).id,
                AuditEvent.outcome == "success",
            )
        )

    return saved


SMOKE: dict[type[FlaskForm], tuple[Smoke, ...]] = {
    TotpForm: (
        Smoke(
            "oig",
            _totp_page,
            lambda: {"name": "Smoke phone", "code": _totp_code(_TOTP_PAGE["secret"])},
            _check(
                lambda: (
                    [
                        f.name
                        for f in db.session.scalars(
                            sa.select(MfaFactor).where(MfaFactor.user_id == _user("oig").id)
                        )
                    ]
                    == ["Smoke phone"]
                )
            ),
        ),
    ),
    CodeForm: (
        Smoke(
            ANON,
            _password_then_second_step,
            lambda: {"code": _totp_code(PROBE_TOTP_SECRET)},
            _audited("login_second_factor", "viewer"),
            setup=_viewer_has_an_app,
        ),
    ),
    ReauthForm: (
        Smoke(
            "viewer",
            _get(lambda: "/account/reauth"),
            lambda: {"password": PASSWORD},
            _audited("reauth", "viewer"),
        ),
    ),
    LoginForm: (
        Smoke(
            ANON,
            _get(lambda: "/login"),
            lambda: {"email": EMAILS["viewer"], "password": PASSWORD},
            _check(lambda: _user("viewer").last_login_at is not None),
        ),
    ),
    PreferencesForm: (
        Smoke(
            "viewer",
            _get(lambda: "/account/notifications"),
            lambda: {"digest": "weekly", "notices": ["reopened"]},
            _check(
                lambda: db.session.get(MailPreference, _user("viewer").id).digest == DigestFrequency.WEEKLY
            ),
        ),
    ),
    TokenForm: (
        Smoke(
            "viewer",
            _get(lambda: "/account/tokens"),
            lambda: {"name": "Smoke-test token"},  # read and 90 days, as the form proposes
            _check(lambda: [t.name for t in _api_tokens("viewer")] == ["Smoke-test token"]),
            status=200,  # the answer shows the new token's secret, once: no redirect
        ),
    ),
    PasswordChangeForm: (
        Smoke(
            "viewer",
            _get(lambda: "/account/password"),
            lambda: {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
            _check(lambda: verify_password(_user("viewer").password_hash, NEW_PASSWORD)),
        ),
    ),
    ForgotPasswordForm: (
        Smoke(
            ANON,
            _get(lambda: "/password/forgot"),
            lambda: {"email": EMAILS["viewer"]},
            _check(lambda: len(_reset_links("viewer")) == 1),
            status=200,  # the same page for any address
        ),
    ),
    NewPasswordForm: (
        Smoke(
            ANON,
            _get(lambda: f"/password/reset/{SMOKE_RESET_TOKEN}"),
            lambda: {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
            _check(lambda: verify_password(_user("viewer").password_hash, NEW_PASSWORD)),
            setup=lambda: _reset_link("viewer"),
        ),
    ),
    NewUserForm: (
        Smoke(
            "admin",
            _get(lambda: "/admin/users/new"),
            lambda: {
                "email": "New.Liaison@test.example",
                "display_name": "New Liaison",
                "role": "liaison",
                "components": [str(component("FEMA").id)],
                "password": NEW_PASSWORD,
            },
            _new_user_saved,
        ),
    ),
    UserForm: (
        Smoke(
            "admin",
            _get(lambda: f"/admin/users/{_user('viewer').id}/edit"),
            lambda: {"display_name": "Renamed Viewer"},
            _check(lambda: _user("viewer").display_name == "Renamed Viewer"),
        ),
    ),
    PasswordResetForm: (
        Smoke(
            "admin",
            _get(lambda: f"/admin/users/{_user('viewer').id}/password"),
            lambda: {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
            _check(lambda: verify_password(_user("viewer").password_hash, NEW_PASSWORD)),
        ),
    ),
    ComponentForm: (
        Smoke(
            "admin",
            _get(lambda: "/components/new"),
            lambda: {"abbreviation": "SMOKE", "name": "Smoke Test Office"},
            _check(lambda: component("SMOKE").name == "Smoke Test Office"),
        ),
    ),
    ComponentEditForm: (
        Smoke(
            "admin",
            _get(lambda: f"/components/{component('FEMA').id}/edit"),
            lambda: {"name": "Federal Emergency Management Agency (smoke test)"},
            _check(lambda: component("FEMA").name == "Federal Emergency Management Agency (smoke test)"),
        ),
    ),
    ReportForm: (
        Smoke(
            "oig",
            _get(lambda: "/reports/new"),
            lambda: {
                "number": "OIG-SMOKE-1",
                "title": "Smoke-test report (test fixture)",
                "issued_on": "2020-02-03",
                "components": [str(component("FEMA").id)],
            },
            _check(lambda: [c.abbreviation for c in report_by_number("OIG-SMOKE-1").components] == ["FEMA"]),
        ),
    ),
    ReportEditForm: (
        Smoke(
            "oig",
            _get(lambda: f"/reports/{report_by_number('OIG-12-15').id}/edit"),
            lambda: {"notes": "Smoke-test note."},
            _check(lambda: _report("OIG-12-15").notes == "Smoke-test note."),
        ),
    ),
    RecommendationForm: (
        Smoke(
            "oig",
            _get(lambda: f"/reports/{report_by_number('OIG-12-15').id}/recommendations/new"),
            lambda: {
                "text": "Smoke-test recommendation.",
                "addressees-0-component_id": str(component("FEMA").id),
                "save": "y",
            },
            _check(
                lambda: (
                    [a.component.abbreviation for a in _rec_by_text("Smoke-test recommendation.").addressees]
                    == ["FEMA"]
                )
            ),
        ),
    ),
    RecommendationEditForm: (
        Smoke(
            "oig",
            _get(lambda: f"/recommendations/{rec('OIG-12-15', 3).id}/edit"),
            lambda: {"text": "Smoke-test corrected text.", "save": "y"},
            _check(lambda: rec("OIG-12-15", 3).text == "Smoke-test corrected text."),
        ),
    ),
    PriorityForm: (
        Smoke(
            "oig",
            _get(lambda: f"/recommendations/{rec('OIG-12-15', 2).id}/priority"),
            lambda: {"priority": "y", "reason": "Smoke-test priority reason.", "save": "y"},
            _check(
                lambda: (
                    (rec("OIG-12-15", 2).priority, rec("OIG-12-15", 2).priority_reason)
                    == (True, "Smoke-test priority reason.")
                )
            ),
        ),
    ),
    RepeatForm: (
        Smoke(
            "oig",
            _get(lambda: f"/recommendations/{rec('TEST-R-1', 1).id}/repeats"),
            lambda: {"repeats_report": "OIG-12-15", "repeats_number": "1", "save": "y"},
            _check(lambda: rec("TEST-R-1", 1).repeats_id == rec("OIG-12-15", 1).id),
        ),
    ),
    ConfirmForm: (
        Smoke(
            "oig",
            _get(lambda: f"/reports/{report_by_number('TEST-SMOKE-DEL').id}/delete"),
            dict,
            _check(lambda: _report("TEST-SMOKE-DEL") is None),
            setup=_deletable_report,
        ),
        Smoke(
            "oig",
            _get(
                lambda: f"/recommendations/{report_by_number('TEST-SMOKE-DEL').recommendations[0].id}/delete"
            ),
            dict,
            _check(lambda: report_by_number("TEST-SMOKE-DEL").recommendations == []),
            setup=_deletable_report,
        ),
    ),
    lifecycle_forms.ResponseForm: (
        Smoke(
            "fema",
            _get(step_url(3, "respond", "FEMA")),
            lambda: {
                "concurrence": "concur",
                "response": "FEMA concurs (smoke test).",
                "corrective_action_plan": "Plan.",
                "target_date": (clock.today() + timedelta(days=120)).isoformat(),
                "responsible_official": "Director",
                "documents": (io.BytesIO(b"evidence,1\n"), "smoke-evidence.csv"),
            },
            _check(
                lambda: (
                    row(rec("OIG-12-15", 3), "FEMA").response == "FEMA concurs (smoke test)."
                    and _attachment_names(rec("OIG-12-15", 3)) == ["smoke-evidence.csv"]
                )
            ),
        ),
    ),
    lifecycle_forms.NoteForm: (
        Smoke(
            "oig",
            _get(step_url(3, "accept", "FEMA")),
            lambda: {"note": "Responsive."},
            _check(lambda: row(rec("OIG-12-15", 3), "FEMA").response_state == ResponseState.ACCEPTED),
            setup=fema_responded,
        ),
        Smoke(
            "oig",
            _get(step_url(1, "resolve")),
            lambda: {"note": "Smoke-test resolution."},
            _check(lambda: rec("OIG-12-15", 1).status == RecStatus.OPEN_RESOLVED),
        ),
    ),
    lifecycle_forms.ReasonForm: (
        Smoke(
            "oig",
            _get(step_url(3, "return", "FEMA")),
            lambda: {"reason": "Send a plan with dates."},
            _check(lambda: row(rec("OIG-12-15", 3), "FEMA").response_state == ResponseState.RETURNED),
            setup=fema_responded,
        ),
        Smoke(
            "oig",
            _get(step_url(1, "return-closure", "I&A")),
            lambda: {"reason": "Send the evidence."},
            _check(lambda: row(rec("OIG-12-15", 1), "I&A").closure_state == ClosureState.RETURNED),
            setup=hsin_resolved("closure requested"),
        ),
        Smoke(
            "oig",
            _get(step_url(1, "reopen")),
            lambda: {"reason": "New information."},
            _check(lambda: rec("OIG-12-15", 1).status == RecStatus.OPEN_UNRESOLVED),
            setup=hsin_resolved("closed"),
        ),
    ),
    lifecycle_forms.UpdateForm: (
        Smoke(
            "liaison",
            _get(step_url(1, "update", "I&A")),
            lambda: {"text": "Smoke-test progress."},
            _check(lambda: row(rec("OIG-12-15", 1), "I&A").last_update_on == clock.today()),
            setup=hsin_resolved(),
        ),
    ),
    lifecycle_forms.NoChangeForm: (
        Smoke(
            "liaison",
            _get(lambda: step_url(1, "update", "I&A")() + "?no_change=1"),
            lambda: {"no_change_note": "Smoke-test: no change."},
            _check(lambda: row(rec("OIG-12-15", 1), "I&A").last_update_on == clock.today()),
            setup=hsin_resolved(),
        ),
    ),
    lifecycle_forms.ClosureRequestForm: (
        Smoke(
            "liaison",
            _get(step_url(1, "request-closure", "I&A")),
            lambda: {"justification": "Smoke-test: done."},
            _check(lambda: row(rec("OIG-12-15", 1), "I&A").closure_state == ClosureState.REQUESTED),
            setup=hsin_resolved(),
        ),
    ),
    lifecycle_forms.CloseForm: (
        Smoke(
            "oig",
            _get(step_url(1, "close")),
            lambda: {"outcome": "implemented", "note": "Verified."},
            _check(lambda: rec("OIG-12-15", 1).status == RecStatus.CLOSED_IMPLEMENTED),
            setup=hsin_resolved("closure requested"),
        ),
    ),
    UploadForm: (
        Smoke(
            "oig",
            _get(lambda: "/import"),
            lambda: {"file": (io.BytesIO(SMOKE_CSV), "smoke.csv")},
            _staged_not_imported,
            status=200,  # a dry run: the page shows what would change and offers the commit
        ),
    ),
    CommitForm: (Smoke("oig", _uploaded, dict, _imported, action="/import/commit"),),
    AcronymForm: (
        Smoke(
            "admin",
            _get(lambda: "/admin/acronyms"),
            lambda: {"acronym": "EMI", "expansion": "Emergency Management Institute"},
            _check(lambda: _acronym("EMI").expansion == "Emergency Management Institute"),
        ),
    ),
    AcronymEditForm: (
        Smoke(
            "admin",
            _get(lambda: f"/admin/acronyms/{_acronym('HSIN').id}/edit"),
            lambda: {"expansion": "Homeland Security Information Network (HSIN)"},
            _check(lambda: _acronym("HSIN").expansion == "Homeland Security Information Network (HSIN)"),
        ),
    ),
    AcronymDeleteForm: (
        Smoke(
            "admin",
            _get(lambda: f"/admin/acronyms/{_acronym('EOC').id}/edit"),
            dict,
            _check(lambda: _acronym("EOC") is None),
            action=lambda: f"/admin/acronyms/{_acronym('EOC').id}/delete",
        ),
    ),
}

# Base classes that views never show on their own.
FORM_BASES: set[type[FlaskForm]] = {lifecycle_forms._Step}


def _app_forms() -> set[type[FlaskForm]]:
    """Every FlaskForm subclass defined under app/ (every module imported first)."""
    import app as package

    for module in pkgutil.walk_packages(package.__path__, "app."):
        importlib.import_module(module.name)
    found: set[type[FlaskForm]] = set()
    todo = [FlaskForm]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.split(".")[0] == "app":
                found.add(sub)
    return found


def _name(form: type) -> str:
    return f"{form.__module__}.{form.__qualname__}"


def test_every_form_has_a_smokerow() -> None:
    forms = _app_forms()
    assert {ConfirmForm, lifecycle_forms.CloseForm, NewUserForm} <= forms  # the discovery works
    missing = sorted(_name(f) for f in forms - set(SMOKE) - FORM_BASES)
    assert not missing, f"forms without a row in the form smoke table: {missing}"
    stale = sorted(_name(f) for f in (set(SMOKE) | FORM_BASES) - forms)
    assert not stale, f"smoke rows for forms that no longer exist: {stale}"
    assert all(SMOKE.values()), "every form needs at least one submission"


SMOKE_RESET_TOKEN = "smoke-test-reset-link-token"


def _reset_links(role: str) -> list[PasswordResetToken]:
    db.session.expire_all()
    return list(
        db.session.scalars(sa.select(PasswordResetToken).where(PasswordResetToken.user_id == _user(role).id))
    )


def _reset_link(role: str) -> None:
    """A live reset link for the account, whose token is SMOKE_RESET_TOKEN."""
    now = clock.now()
    db.session.add(
        PasswordResetToken(
            user_id=_user(role).id,
            token_hash=reset.token_hash(SMOKE_RESET_TOKEN),
            created_at=now,
            expires_at=now + timedelta(hours=1),
        )
    )
    db.session.commit()


SMOKE_CASES = [
    pytest.param(form, case, id=f"{form.__name__}-{i}")
    for form, cases in SMOKE.items()
    for i, case in enumerate(cases)
]


@pytest.mark.parametrize(("form_class", "case"), SMOKE_CASES)
def test_form_smoke(
    app: Flask, monkeypatch: pytest.MonkeyPatch, form_class: type[FlaskForm], case: Smoke
) -> None:
    """A role allowed to use the form submits it with valid data; the change is saved."""
    validated: list[type] = []
    original = FlaskForm.validate_on_submit

    def spy(self: FlaskForm, *args: Any, **kwargs: Any) -> bool:
        ok = original(self, *args, **kwargs)
        if ok:
            validated.append(type(self))
        return ok

    monkeypatch.setattr(FlaskForm, "validate_on_submit", spy)
    if case.setup is not None:
        case.setup()
    client = app.test_client()
    if case.role != ANON:
        login(client, case.role)
    url, page = case.page(client)
    target = (case.action() if callable(case.action) else case.action) or url
    validated.clear()
    response = client.post(target, data=filled(form_values(page, url, target), case.changes()))
    assert response.status_code == case.status, visible_text(response)[-1200:]
    assert form_class in validated, f"POST {target} did not accept a valid {form_class.__name__}"
    with app.app_context():
        case.saved()
