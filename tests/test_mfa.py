"""Second factors (issue 17): TOTP replay and staleness, recovery codes, WebAuthn
assertions (counter, origin, RP id, user verification) fed to the verification service,
the two-step sign-in, passkey sign-in, the MFA_REQUIRED_ROLES gate, fresh sign-in at its
boundary, the admins' reset, and audit rows that never hold a code or a secret."""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timedelta
from typing import Any

import pyotp
import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from app import clock
from app.audit import REDACTED, AuditActor
from app.auth.fresh import is_fresh
from app.extensions import db
from app.mfa import keys, services
from app.models import AuditEvent, FactorKind, MfaFactor, RecoveryCode, Role, User
from tests.conftest import EMAILS, PASSWORD, login, user_by_email, visible_text
from tests.webauthn_support import SoftKey

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
RP = keys.RelyingParty(id="localhost", origin="http://localhost")  # the test client's host
# A time step's first second: 2026-11-16T17:00:00Z is step 59_828_280 exactly (1_794_848_400 s) (30 s steps).
STEP_START = datetime.fromisoformat("2026-11-16T17:00:00+00:00")


def _actor(user: User) -> AuditActor:
    return AuditActor.for_user(user, "192.0.2.1")


def _code(at: datetime, secret: str = SECRET) -> str:
    return pyotp.TOTP(secret).at(at)


def _totp_factor(user: User, *, last_step: int | None = None, secret: str = SECRET) -> MfaFactor:
    factor = MfaFactor(
        user_id=user.id, kind=FactorKind.TOTP, name="Phone", totp_secret=secret, totp_last_step=last_step
    )
    db.session.add(factor)
    db.session.flush()
    return factor


def _events(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
    )


# --- TOTP ---------------------------------------------------------------------------------


def test_the_step_arithmetic() -> None:
    assert services.time_step(STEP_START) == 59_828_280
    assert services.time_step(STEP_START + timedelta(seconds=29)) == 59_828_280
    assert services.time_step(STEP_START + timedelta(seconds=30)) == 59_828_281


def test_a_totp_code_is_accepted_once() -> None:
    user = user_by_email(EMAILS["oig"])
    factor = _totp_factor(user)
    assert services.check_totp(db.session, user, _code(STEP_START), STEP_START).id == factor.id
    assert factor.totp_last_step == 59_828_280
    assert factor.last_used_at == STEP_START
    with pytest.raises(services.MfaError) as replay:  # the same code, the same second
        services.check_totp(db.session, user, _code(STEP_START), STEP_START)
    assert replay.value.reason == "replayed TOTP code"
    with pytest.raises(services.MfaError) as later:  # the same code, later in its window
        services.check_totp(db.session, user, _code(STEP_START), STEP_START + timedelta(seconds=40))
    assert later.value.reason == "replayed TOTP code"


def test_an_earlier_step_is_refused_after_a_later_one_was_used() -> None:
    user = user_by_email(EMAILS["oig"])
    _totp_factor(user)
    services.check_totp(db.session, user, _code(STEP_START + timedelta(seconds=30)), STEP_START)  # step +1
    with pytest.raises(services.MfaError) as earlier:
        services.check_totp(db.session, user, _code(STEP_START), STEP_START)
    assert earlier.value.reason == "replayed TOTP code"


@pytest.mark.parametrize(
    ("offset_seconds", "accepted"),
    [(-41, False), (-40, True), (-10, True), (0, True), (19, True), (20, True), (49, True), (50, False)],
)
def test_a_code_one_step_either_side_is_accepted_and_no_further(offset_seconds: int, accepted: bool) -> None:
    """The code of the step `offset_seconds` away from now (STEP_START + 10 s)."""
    user = user_by_email(EMAILS["oig"])
    _totp_factor(user)
    now = STEP_START + timedelta(seconds=10)
    code = _code(now + timedelta(seconds=offset_seconds))
    if accepted:
        services.check_totp(db.session, user, code, now)
    else:
        with pytest.raises(services.MfaError) as stale:
            services.check_totp(db.session, user, code, now)
        assert stale.value.reason == "wrong TOTP code"


def test_enrolling_an_app_needs_its_current_code() -> None:
    user = user_by_email(EMAILS["oig"])
    with pytest.raises(services.MfaError) as wrong:
        services.add_totp(
            db.session, _actor(user), user, name="Phone", secret=SECRET, code="000000", now=STEP_START
        )
    assert wrong.value.field == "code"
    factor = services.add_totp(
        db.session, _actor(user), user, name=" Phone ", secret=SECRET, code=_code(STEP_START), now=STEP_START
    )
    assert (factor.name, factor.totp_last_step) == ("Phone", 59_828_280)
    with pytest.raises(services.MfaError):  # the enrolment's code cannot sign in after it
        services.check_totp(db.session, user, _code(STEP_START), STEP_START)
    with pytest.raises(services.MfaError) as same_name:
        services.add_totp(
            db.session, _actor(user), user, name="phone", secret=SECRET, code="1", now=STEP_START
        )
    assert same_name.value.field == "name"


# --- recovery codes -----------------------------------------------------------------------


def test_recovery_codes_are_ten_hashed_and_single_use() -> None:
    user = user_by_email(EMAILS["oig"])
    codes = services.new_recovery_codes(db.session, _actor(user), user, now=STEP_START)
    assert len(codes) == 10 == len(set(codes))
    assert all(len(c) == 19 and c.count("-") == 3 for c in codes)
    stored = list(
        db.session.scalars(sa.select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id))
    )
    assert len(stored) == 10
    assert not set(codes) & set(stored)
    services.use_recovery_code(db.session, user, codes[3].lower().replace("-", " "), STEP_START)
    assert services.unused_recovery_codes(db.session, user.id) == 9
    with pytest.raises(services.MfaError) as reused:
        services.use_recovery_code(db.session, user, codes[3], STEP_START)
    assert reused.value.reason == "reused recovery code"
    with pytest.raises(services.MfaError) as wrong:
        services.use_recovery_code(db.session, user, "AAAA-BBBB-CCCC-DDDD", STEP_START)
    assert wrong.value.reason == "wrong recovery code"
    fresh = services.new_recovery_codes(db.session, _actor(user), user, now=STEP_START)
    with pytest.raises(services.MfaError):  # new codes replace the old ones
        services.use_recovery_code(db.session, user, codes[0], STEP_START)
    services.use_recovery_code(db.session, user, fresh[0], STEP_START)


def test_another_accounts_recovery_code_does_not_work() -> None:
    oig, viewer = user_by_email(EMAILS["oig"]), user_by_email(EMAILS["viewer"])
    codes = services.new_recovery_codes(db.session, _actor(oig), oig, now=STEP_START)
    with pytest.raises(services.MfaError):
        services.use_recovery_code(db.session, viewer, codes[0], STEP_START)


# --- WebAuthn: crafted answers fed to the verification service ----------------------------


def _registered(user: User, key: SoftKey, sign_count: int = 0) -> MfaFactor:
    return services.add_key(
        db.session,
        _actor(user),
        user,
        name="YubiKey",
        credential_id=key.credential_id,
        public_key=key.cose_public_key(),
        sign_count=sign_count,
        discoverable=True,
        now=STEP_START,
    )


def test_registration_is_verified_with_user_verification_required() -> None:
    key = SoftKey()
    new = keys.verify_registration(RP, key.registration(b"c" * 32, origin=RP.origin, rp_id=RP.id), b"c" * 32)
    assert (new.credential_id, new.sign_count, new.discoverable) == (key.credential_id, 0, True)
    with pytest.raises(services.MfaError):  # no user verification
        keys.verify_registration(
            RP, key.registration(b"c" * 32, origin=RP.origin, rp_id=RP.id, uv=False), b"c" * 32
        )
    with pytest.raises(services.MfaError):  # another site's
        keys.verify_registration(
            RP, key.registration(b"c" * 32, origin="https://evil.example", rp_id=RP.id), b"c" * 32
        )


def test_an_assertion_moves_the_counter_on() -> None:
    user = user_by_email(EMAILS["oig"])
    key = SoftKey()
    factor = _registered(user, key)
    challenge = b"x" * 32
    found = keys.verify_assertion(
        db.session,
        RP,
        key.assertion(challenge, origin=RP.origin, rp_id=RP.id, sign_count=5),
        challenge,
        user=user,
        now=STEP_START,
    )
    assert (found.id, found.sign_count, found.last_used_at) == (factor.id, 5, STEP_START)


@pytest.mark.parametrize(("count", "accepted"), [(6, True), (5, False), (4, False), (0, False)])
def test_a_counter_that_goes_back_is_a_cloned_key(count: int, accepted: bool) -> None:
    user = user_by_email(EMAILS["oig"])
    key = SoftKey()
    _registered(user, key, sign_count=5)
    answer = key.assertion(b"x" * 32, origin=RP.origin, rp_id=RP.id, sign_count=count)
    if accepted:
        assert (
            keys.verify_assertion(db.session, RP, answer, b"x" * 32, user=user, now=STEP_START).sign_count
            == 6
        )
        return
    with pytest.raises(services.MfaError) as refused:
        keys.verify_assertion(db.session, RP, answer, b"x" * 32, user=user, now=STEP_START)
    assert refused.value.reason == f"cloned key: sign count {count} after 5"


def test_a_key_without_a_counter_may_stay_at_zero() -> None:
    """Passkeys synced between devices report 0 every time (WebAuthn allows it)."""
    user = user_by_email(EMAILS["oig"])
    key = SoftKey()
    _registered(user, key, sign_count=0)
    for _ in range(2):
        answer = key.assertion(b"x" * 32, origin=RP.origin, rp_id=RP.id, sign_count=0)
        keys.verify_assertion(db.session, RP, answer, b"x" * 32, user=user, now=STEP_START)


@pytest.mark.parametrize(
    ("origin", "rp_id", "uv", "reason"),
    [
        ("https://evil.example", "localhost", True, "wrong origin: https://evil.example"),
        ("http://localhost:5000", "localhost", True, "wrong origin: http://localhost:5000"),
        ("http://localhost", "evil.example", True, "wrong RP id"),
        ("http://localhost", "localhost", False, "user not verified"),
    ],
)
def test_wrong_origin_rp_id_or_no_user_verification_is_refused(
    origin: str, rp_id: str, uv: bool, reason: str
) -> None:
    user = user_by_email(EMAILS["oig"])
    key = SoftKey()
    factor = _registered(user, key)
    answer = key.assertion(b"x" * 32, origin=origin, rp_id=rp_id, uv=uv)
    with pytest.raises(services.MfaError) as refused:
        keys.verify_assertion(db.session, RP, answer, b"x" * 32, user=user, now=STEP_START)
    assert refused.value.reason == reason
    assert factor.sign_count == 0


def test_a_wrong_challenge_a_forged_signature_or_another_accounts_key_is_refused() -> None:
    oig, viewer = user_by_email(EMAILS["oig"]), user_by_email(EMAILS["viewer"])
    key, forger = SoftKey(), SoftKey()
    _registered(oig, key)
    answer = key.assertion(b"x" * 32, origin=RP.origin, rp_id=RP.id)
    with pytest.raises(services.MfaError) as challenge:
        keys.verify_assertion(db.session, RP, answer, b"y" * 32, user=oig, now=STEP_START)
    assert challenge.value.reason == "assertion not valid"
    forger.credential_id = key.credential_id
    forged = forger.assertion(b"x" * 32, origin=RP.origin, rp_id=RP.id, sign_count=9)
    with pytest.raises(services.MfaError) as signature:
        keys.verify_assertion(db.session, RP, forged, b"x" * 32, user=oig, now=STEP_START)
    assert signature.value.reason == "assertion not valid"
    with pytest.raises(services.MfaError) as other:
        keys.verify_assertion(db.session, RP, answer, b"x" * 32, user=viewer, now=STEP_START)
    assert other.value.reason == "unknown WebAuthn credential"


# --- policy -------------------------------------------------------------------------------


def test_the_policy_names_roles() -> None:
    assert services.parse_roles(" admin, OIG ,,liaison") == {Role.ADMIN, Role.OIG, Role.LIAISON}
    assert services.parse_roles("") == frozenset()
    with pytest.raises(ValueError, match="unknown role 'staff'"):
        services.parse_roles("admin,staff")


def test_production_requires_every_role_that_can_change_anything(monkeypatch: pytest.MonkeyPatch) -> None:
    from config import BaseConfig, DevelopmentConfig, ProductionConfig, TestingConfig

    assert ProductionConfig.MFA_REQUIRED_ROLES == BaseConfig.MFA_REQUIRED_ROLES
    assert TestingConfig.MFA_REQUIRED_ROLES == ""
    assert ProductionConfig.WEBAUTHN_FROM_REQUEST_HOST is False
    assert DevelopmentConfig.WEBAUTHN_FROM_REQUEST_HOST is True
    config = TestingConfig()
    config.MFA_REQUIRED_ROLES = "admin,owner"
    with pytest.raises(RuntimeError, match="MFA_REQUIRED_ROLES names unknown roles owner"):
        config.validate()


def test_the_relying_party_never_comes_from_the_host_in_production(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.mfa.flow import relying_party

    with app.test_request_context("/", base_url="http://attacker.example"):
        assert relying_party() == keys.RelyingParty(id="attacker.example", origin="http://attacker.example")
        monkeypatch.setitem(app.config, "WEBAUTHN_FROM_REQUEST_HOST", False)
        assert relying_party() == keys.RelyingParty(id="rectrack.test", origin="http://rectrack.test")
        monkeypatch.setitem(app.config, "WEBAUTHN_ORIGIN", "https://rectrack.oig.gov")
        monkeypatch.setitem(app.config, "WEBAUTHN_RP_ID", "oig.gov")
        assert relying_party() == keys.RelyingParty(id="oig.gov", origin="https://rectrack.oig.gov")


# --- pages: two-step sign-in ----------------------------------------------------------------


def _password(client: FlaskClient, role: str = "oig") -> Any:
    return client.post("/login", data={"email": EMAILS[role], "password": PASSWORD, "next": "/reports"})


def test_the_sign_in_page_says_when_no_second_factor_is_required(
    client: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = visible_text(client.get("/login"))
    assert "This development server does not require a second factor" in text
    monkeypatch.setitem(app.config, "MFA_REQUIRED_ROLES", "admin")
    text = visible_text(client.get("/login"))
    assert "does not require a second factor" not in text
    assert "Sign in with a passkey" in text


def test_an_account_with_a_factor_waits_for_it_after_the_password(client: FlaskClient) -> None:
    oig = user_by_email(EMAILS["oig"])
    _totp_factor(oig)
    db.session.commit()
    response = _password(client)
    assert response.headers["Location"] == "/login/second-factor"
    assert client.get("/reports/new").status_code == 302  # not signed in yet
    with client.session_transaction() as sess:
        assert "_user_id" not in sess
    now = clock.now()
    wrong = client.post(
        "/login/second-factor",
        data={"method": "totp", "code": "123456" if _code(now) != "123456" else "654321"},
    )
    assert wrong.status_code == 422
    assert "That code is not correct" in visible_text(wrong)
    done = client.post("/login/second-factor", data={"method": "totp", "code": _code(now)})
    assert done.headers["Location"] == "/reports"
    with client.session_transaction() as sess:
        assert sess["second_factor"] == "totp"
        assert sess["_user_id"] == oig.get_id()
    assert client.get("/reports/new").status_code == 200
    events = _events("login_second_factor")
    assert [(e.outcome, e.changes.get("reason")) for e in events] == [
        ("failure", "wrong TOTP code"),
        ("success", None),
    ]


def test_a_replayed_code_and_a_reused_recovery_code_are_refused_and_audited(client: FlaskClient) -> None:
    oig = user_by_email(EMAILS["oig"])
    _totp_factor(oig)
    codes = services.new_recovery_codes(db.session, _actor(oig), oig, now=clock.now())
    db.session.commit()
    code = _code(clock.now())
    _password(client)
    assert client.post("/login/second-factor", data={"code": code}).status_code == 302
    client.post("/logout")
    _password(client)
    replay = client.post("/login/second-factor", data={"code": code})
    assert replay.status_code == 422
    assert "used already" in visible_text(replay)
    assert (
        client.post("/login/second-factor", data={"method": "recovery", "code": codes[0]}).status_code == 302
    )
    with client.session_transaction() as sess:
        assert sess["second_factor"] == "recovery"
    client.post("/logout")
    _password(client)
    reused = client.post("/login/second-factor", data={"method": "recovery", "code": codes[0]})
    assert reused.status_code == 422
    reasons = [e.changes.get("reason") for e in _events("login_second_factor") if e.outcome == "failure"]
    assert reasons == ["replayed TOTP code", "reused recovery code"]
    assert len(_events("mfa_recovery_code_used")) == 1


def test_wrong_codes_end_the_pending_sign_in_and_slow_the_password(client: FlaskClient) -> None:
    oig = user_by_email(EMAILS["oig"])
    _totp_factor(oig)
    db.session.commit()
    right = _code(clock.now())
    wrong = "000000" if right != "000000" else "111111"
    _password(client)
    for _ in range(4):
        assert client.post("/login/second-factor", data={"code": wrong}).status_code == 422
    fifth = client.post("/login/second-factor", data={"code": wrong})
    assert fifth.headers["Location"] == "/login"
    assert client.post("/login/second-factor", data={"code": right}).headers["Location"].startswith("/login")
    # five failures from this address on this account: the password is refused for a while
    assert _password(client).status_code == 429
    assert len([e for e in _events("login_second_factor") if e.outcome == "failure"]) == 5


def test_the_second_step_waits_ten_minutes(client: FlaskClient) -> None:
    oig = user_by_email(EMAILS["oig"])
    _totp_factor(oig)
    db.session.commit()
    _password(client)
    with time_machine.travel(clock.now() + timedelta(minutes=10, seconds=1), tick=False):
        response = client.post("/login/second-factor", data={"code": _code(clock.now())})
        assert response.headers["Location"].startswith("/login")
        with client.session_transaction() as sess:
            assert "_user_id" not in sess


def _options(client: FlaskClient, purpose: str) -> bytes:
    response = client.post("/webauthn/options", json={"purpose": purpose})
    assert response.status_code == 200, response.get_data(as_text=True)
    return keys.challenge_from_text(json.loads(response.get_data(as_text=True))["challenge"])


def test_password_then_key(client: FlaskClient) -> None:
    oig = user_by_email(EMAILS["oig"])
    key = SoftKey()
    _registered(oig, key)
    db.session.commit()
    _password(client)
    challenge = _options(client, "second")
    bad = client.post(
        "/webauthn/assert",
        json={
            "purpose": "second",
            "credential": key.assertion(challenge, origin="https://evil.example", rp_id="localhost"),
        },
    )
    assert bad.status_code == 422
    challenge = _options(client, "second")
    done = client.post(
        "/webauthn/assert",
        json={"purpose": "second", "credential": key.assertion(challenge, origin=RP.origin, rp_id=RP.id)},
    )
    assert done.get_json() == {"redirect": "/reports"}
    with client.session_transaction() as sess:
        assert sess["second_factor"] == "webauthn"
    reasons = [(e.outcome, e.changes.get("reason")) for e in _events("login_second_factor")]
    assert reasons == [("failure", "wrong origin: https://evil.example"), ("success", None)]


def test_a_challenge_is_used_once(client: FlaskClient) -> None:
    oig = user_by_email(EMAILS["oig"])
    key = SoftKey()
    _registered(oig, key)
    db.session.commit()
    _password(client)
    challenge = _options(client, "second")
    wrong = key.assertion(challenge, origin=RP.origin, rp_id="evil.example")
    assert client.post("/webauthn/assert", json={"purpose": "second", "credential": wrong}).status_code == 422
    answer = key.assertion(challenge, origin=RP.origin, rp_id=RP.id)
    again = client.post("/webauthn/assert", json={"purpose": "second", "credential": answer})
    assert again.status_code == 400
    assert again.get_json() == {"error": "This page waited too long. Try again."}


def test_passkey_alone_signs_in(client: FlaskClient) -> None:
    viewer = user_by_email(EMAILS["viewer"])
    key = SoftKey()
    _registered(viewer, key)
    viewer_id, cookie_id = viewer.id, viewer.get_id()
    db.session.commit()
    challenge = _options(client, "passkey")
    done = client.post(
        "/webauthn/assert",
        json={"purpose": "passkey", "credential": key.assertion(challenge, origin=RP.origin, rp_id=RP.id)},
    )
    assert done.get_json() == {"redirect": "/"}
    with client.session_transaction() as sess:
        assert sess["second_factor"] == "passkey"
        assert sess["_user_id"] == cookie_id
    event = _events("login")[-1]
    assert (event.actor_id, event.changes) == (viewer_id, {"method": "passkey", "factor": "YubiKey"})
    client.post("/logout")
    challenge = _options(client, "passkey")
    unverified = key.assertion(challenge, origin=RP.origin, rp_id=RP.id, uv=False)
    assert (
        client.post("/webauthn/assert", json={"purpose": "passkey", "credential": unverified}).status_code
        == 422
    )
    assert _events("login")[-1].changes == {"method": "passkey", "reason": "user not verified"}


# --- the gate -------------------------------------------------------------------------------


def test_a_required_role_without_a_factor_reaches_only_enrolment(
    client: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "MFA_REQUIRED_ROLES", "admin")
    _password(client, "admin")
    for url in ("/", "/reports", "/admin/users", "/account/tokens", "/account/password"):
        response = client.get(url)
        assert (response.status_code, response.headers["Location"]) == (302, "/account/security"), url
    assert client.get("/account/security").status_code == 200
    assert client.get("/healthz").status_code == 200
    page = client.get("/account/security/totp").get_data(as_text=True)
    secret = re.search(r"data-totp-secret>([A-Z2-7 ]+)<", page).group(1).replace(" ", "")
    added = client.post("/account/security/totp", data={"name": "Phone", "code": _code(clock.now(), secret)})
    assert added.headers["Location"] == "/account/security"
    assert client.get("/admin/users").status_code == 200
    assert [e.changes for e in _events("mfa_enrol")] == [{"method": "totp", "factor": "Phone"}]


def test_a_required_role_with_a_factor_proves_it_in_every_session(
    client: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "MFA_REQUIRED_ROLES", "oig")
    oig = user_by_email(EMAILS["oig"])
    _totp_factor(oig)
    db.session.commit()
    login(client, "oig")  # a session with no second factor (an older cookie)
    response = client.get("/reports")
    assert response.headers["Location"] == "/account/reauth?next=/reports"
    assert client.get("/account/security/totp").headers["Location"].startswith("/account/reauth")
    client.post("/account/reauth", data={"password": PASSWORD, "next": "/reports"})
    done = client.post("/login/second-factor", data={"code": _code(clock.now())})
    assert done.headers["Location"] == "/reports"
    assert client.get("/reports").status_code == 200


def test_a_viewer_is_not_asked_unless_the_policy_names_viewers(
    client: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "MFA_REQUIRED_ROLES", "admin,oig,liaison")
    _password(client, "viewer")
    assert client.get("/reports").status_code == 200


def test_sso_counts_as_a_second_factor(
    client: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "MFA_REQUIRED_ROLES", "admin")
    login(client, "admin")
    with client.session_transaction() as sess:
        sess["second_factor"] = "sso:login.gov"
    assert client.get("/admin/users").status_code == 200


# --- removing, resetting ------------------------------------------------------------------


def test_the_last_factor_stays_while_the_role_requires_one(
    client: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    oig = user_by_email(EMAILS["oig"])
    factor = _totp_factor(oig)
    services.new_recovery_codes(db.session, _actor(oig), oig, now=clock.now())
    factor_id, oig_id = factor.id, oig.id
    db.session.commit()
    login(client, "oig")
    with client.session_transaction() as sess:
        sess["second_factor"] = "totp"
    monkeypatch.setitem(app.config, "MFA_REQUIRED_ROLES", "oig")
    refused = client.post(f"/account/security/factors/{factor_id}/remove")
    assert refused.status_code == 409
    assert db.session.get(MfaFactor, factor_id) is not None
    monkeypatch.setitem(app.config, "MFA_REQUIRED_ROLES", "")
    assert client.post(f"/account/security/factors/{factor_id}/remove").status_code == 302
    db.session.expire_all()
    assert services.factors_of(db.session, oig_id) == []
    assert services.unused_recovery_codes(db.session, oig_id) == 0
    assert [e.changes for e in _events("mfa_remove")] == [{"method": "totp", "factor": "Phone"}]


def test_someone_elses_factor_cannot_be_removed(client: FlaskClient) -> None:
    factor_id = _totp_factor(user_by_email(EMAILS["oig"])).id
    db.session.commit()
    login(client, "viewer")
    assert client.post(f"/account/security/factors/{factor_id}/remove").status_code == 404


def test_an_admin_resets_an_accounts_factors(client: FlaskClient) -> None:
    viewer = user_by_email(EMAILS["viewer"])
    _totp_factor(viewer)
    services.new_recovery_codes(db.session, _actor(viewer), viewer, now=clock.now())
    version, viewer_id = viewer.session_version, viewer.id
    db.session.commit()
    login(client, "admin")
    page = visible_text(client.get("/admin/users"))
    assert "Phone (Authenticator app (TOTP); last used never)" in page
    assert client.post(f"/admin/users/{viewer_id}/factors").headers["Location"] == "/admin/users"
    db.session.expire_all()
    assert services.factors_of(db.session, viewer_id) == []
    assert services.unused_recovery_codes(db.session, viewer_id) == 0
    assert user_by_email(EMAILS["viewer"]).session_version == version + 1
    event = _events("mfa_reset")[-1]
    assert (event.actor_label, event.object_id, event.changes) == (
        EMAILS["admin"],
        viewer_id,
        {"factors": "Phone"},
    )


# --- fresh sign-in --------------------------------------------------------------------------


def test_the_fresh_rule_at_its_boundary() -> None:
    at = STEP_START
    assert is_fresh(at, at + timedelta(minutes=14, seconds=59), 15)
    assert is_fresh(at, at + timedelta(minutes=15), 15)
    assert not is_fresh(at, at + timedelta(minutes=15, seconds=1), 15)
    assert not is_fresh(at, at + timedelta(minutes=16), 15)
    assert not is_fresh(None, at, 15)


@pytest.mark.parametrize(("elapsed", "fresh"), [("14:59", True), ("15:00", True), ("15:01", False)])
def test_a_page_that_needs_a_fresh_sign_in(client: FlaskClient, elapsed: str, fresh: bool) -> None:
    minutes, seconds = (int(part) for part in elapsed.split(":"))
    start = clock.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        login(client, "viewer")
    with time_machine.travel(start + timedelta(minutes=minutes, seconds=seconds), tick=False):
        response = client.get("/account/password")
        if fresh:
            assert response.status_code == 200
            return
        assert response.headers["Location"] == "/account/reauth?next=/account/password"
        client.post(
            "/account/reauth", data={"password": "wrong password, this is", "next": "/account/password"}
        )
        back = client.post("/account/reauth", data={"password": PASSWORD, "next": "/account/password"})
        assert back.headers["Location"] == "/account/password"
        assert client.get("/account/password").status_code == 200
    assert [(e.outcome, e.changes) for e in _events("reauth")] == [
        ("failure", {"method": "password", "reason": "wrong password"}),
        ("success", {"method": "password"}),
    ]


def test_reauthentication_asks_for_the_second_factor_too(client: FlaskClient) -> None:
    oig = user_by_email(EMAILS["oig"])
    _totp_factor(oig)
    db.session.commit()
    start = clock.now()
    with time_machine.travel(start, tick=False):
        login(client, "oig")
    with time_machine.travel(start + timedelta(minutes=20), tick=False):
        assert (
            client.post("/account/tokens", data={"name": "x"})
            .headers["Location"]
            .startswith("/account/reauth")
        )
        step = client.post("/account/reauth", data={"password": PASSWORD, "next": "/account/tokens"})
        assert step.headers["Location"] == "/login/second-factor"
        assert client.get("/account/tokens/").status_code in (200, 308, 404)
        assert client.post("/account/security/totp").headers["Location"].startswith("/account/reauth")
        done = client.post("/login/second-factor", data={"code": _code(clock.now())})
        assert done.headers["Location"] == "/account/tokens"
        assert client.get("/account/security/totp").status_code == 200


def test_too_many_wrong_passwords_on_reauthentication_sign_out(client: FlaskClient) -> None:
    login(client, "viewer")
    for _ in range(4):
        assert client.post("/account/reauth", data={"password": "not it at all, friend"}).status_code == 422
    last = client.post("/account/reauth", data={"password": "not it at all, friend"})
    assert last.headers["Location"] == "/login"
    assert client.get("/account/notifications").status_code == 302


# --- the audit trail never holds a secret ---------------------------------------------------


def test_no_code_or_secret_reaches_the_audit_trail(client: FlaskClient) -> None:
    oig_id = user_by_email(EMAILS["oig"]).id
    login(client, "oig")
    page = client.get("/account/security/totp").get_data(as_text=True)
    secret = re.search(r"data-totp-secret>([A-Z2-7 ]+)<", page).group(1).replace(" ", "")
    code = _code(clock.now(), secret)
    client.post("/account/security/totp", data={"name": "Phone", "code": code})
    codes_page = client.post("/account/security/recovery-codes").get_data(as_text=True)
    codes = re.findall(r"<li>([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})</li>", codes_page)
    assert len(codes) == 10
    key = SoftKey()
    challenge = _options(client, "register")
    added = client.post(
        "/account/security/key",
        json={"name": "YubiKey", "credential": key.registration(challenge, origin=RP.origin, rp_id=RP.id)},
    )
    assert added.get_json() == {"redirect": "/account/security"}
    assert [f.name for f in services.factors_of(db.session, oig_id)] == ["Phone", "YubiKey"]
    trail = json.dumps([e.changes for e in db.session.scalars(sa.select(AuditEvent))])
    for secret_text in (secret, code, *codes, *(c.replace("-", "") for c in codes)):
        assert secret_text not in trail
    assert keys.challenge_to_text(key.cose_public_key()) not in trail
    created = [e for e in _events("create") if e.object_type == "mfa_factors"]
    assert [e.object_label for e in created] == ["oig@test.example: Phone", "oig@test.example: YubiKey"]
    assert [e.changes.get("totp_secret", [None, None])[1] for e in created] == [REDACTED, None]
    assert [e.changes.get("public_key", [None, None])[1] for e in created] == [None, REDACTED]


@pytest.mark.skipif("MFA_REQUIRED_ROLES" in os.environ, reason="the defaults are read at import")
def test_make_run_asks_no_one() -> None:
    """The development server (`make run`, the demo accounts) requires no second factor;
    production requires administrators, OIG staff and liaisons."""
    from config import DevelopmentConfig, ProductionConfig

    assert DevelopmentConfig.MFA_REQUIRED_ROLES == ""
    assert services.parse_roles(ProductionConfig.MFA_REQUIRED_ROLES) == {Role.ADMIN, Role.OIG, Role.LIAISON}


def test_a_key_from_another_site_is_not_registered(client: FlaskClient) -> None:
    oig_id = user_by_email(EMAILS["oig"]).id
    login(client, "oig")
    key = SoftKey()
    challenge = _options(client, "register")
    refused = client.post(
        "/account/security/key",
        json={
            "name": "Phishing",
            "credential": key.registration(challenge, origin="https://evil.example", rp_id=RP.id),
        },
    )
    assert refused.status_code == 422
    assert services.factors_of(db.session, oig_id) == []
    event = _events("mfa_enrol")[-1]
    assert (event.outcome, event.changes["method"]) == ("failure", "webauthn")
    challenge = _options(client, "register")
    unnamed = client.post(
        "/account/security/key",
        json={"name": " ", "credential": key.registration(challenge, origin=RP.origin, rp_id=RP.id)},
    )
    assert unnamed.status_code == 422
    assert "Give the factor a name" in unnamed.get_json()["error"]


def test_after_the_second_factor_the_user_sees_the_sign_in_before_this_one(client: FlaskClient) -> None:
    """The previous sign-in shown is the one before this password, not the password step
    just taken (which already wrote the account's last sign-in)."""
    oig = user_by_email(EMAILS["oig"])
    oig.last_login_at = datetime.fromisoformat("2026-11-10T14:00:00+00:00")  # 09:00 in Washington
    oig.last_login_ip = "198.51.100.23"
    _totp_factor(oig)
    db.session.commit()
    assert _password(client).headers["Location"] == "/login/second-factor"
    done = client.post("/login/second-factor", data={"method": "totp", "code": _code(clock.now())})
    assert done.status_code == 302
    text = visible_text(client.get(done.headers["Location"]))
    assert "Your previous sign-in: November 10, 2026, 09:00 EST from 198.51.100.23." in text


def test_the_gates_agree_for_a_temporary_password_and_no_factor(
    client: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An administrator made the account (a temporary password) and its role requires a
    factor it lacks: the password change opens (no redirect loop between the two gates),
    then enrolment; the session warning's status answers JSON under both gates."""
    monkeypatch.setitem(app.config, "MFA_REQUIRED_ROLES", "oig")
    oig = user_by_email(EMAILS["oig"])
    oig.must_change_password = True
    db.session.commit()
    assert _password(client).status_code == 302
    page = client.get("/reports", follow_redirects=True)
    assert page.request.path == "/account/password"
    assert client.get("/session/status").is_json
    new = "a brand new passphrase for oig"
    changed = client.post(
        "/account/password", data={"current_password": PASSWORD, "password": new, "confirm": new}
    )
    assert changed.status_code == 302
    page = client.get("/reports", follow_redirects=True)
    assert page.request.path == "/account/security"
    assert client.get("/session/status").is_json
