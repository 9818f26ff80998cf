"""WebAuthn (py_webauthn): the options a browser needs to make or use a credential, and
the checks on what it sends back. User verification is always required, so a passkey
(something you have, unlocked by something you know or are) counts as two factors.

The relying party (its id and the origin browsers report) is given by the caller, from
WEBAUTHN_RP_ID / WEBAUTHN_ORIGIN (app/mfa/views.py, relying_party); nothing here reads
the request. Each refusal names its reason in fixed words for the audit trail."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import webauthn
from sqlalchemy.orm import Session
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_authenticator_data,
    parse_client_data_json,
)
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from app.mfa.services import MfaError, key_by_credential
from app.models import FactorKind, MfaFactor, User

RP_NAME = "RecTrack"
TIMEOUT_MS = 120_000
NOT_ACCEPTED = "The security key's answer was not accepted. Try again, or use another factor."


@dataclass(frozen=True)
class RelyingParty:
    id: str  # a domain: "rectrack.oig.gov", "localhost"
    origin: str  # "https://rectrack.oig.gov"


def user_handle(secret_key: str, user: User) -> bytes:
    """The WebAuthn user id of an account: stable, and meaningless outside RecTrack (an
    HMAC of the account's id, not its e-mail address)."""
    return hmac.new(secret_key.encode(), f"rectrack-user:{user.id}".encode(), hashlib.sha256).digest()


def registration_options(
    rp: RelyingParty, user: User, handle: bytes, existing: list[MfaFactor]
) -> tuple[str, bytes]:
    """The JSON for navigator.credentials.create() and its challenge (kept in the session).
    A resident key is preferred (a passkey), user verification required."""
    options = webauthn.generate_registration_options(
        rp_id=rp.id,
        rp_name=RP_NAME,
        user_name=user.email,
        user_id=handle,
        user_display_name=user.display_name,
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=f.credential_id) for f in existing if f.credential_id is not None
        ],
    )
    return webauthn.options_to_json(options), options.challenge


@dataclass(frozen=True)
class NewKey:
    credential_id: bytes
    public_key: bytes
    sign_count: int
    discoverable: bool


def verify_registration(rp: RelyingParty, credential: str | dict[str, Any], challenge: bytes) -> NewKey:
    try:
        verified = webauthn.verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            require_user_verification=True,
        )
    except (InvalidRegistrationResponse, ValueError, KeyError, TypeError) as exc:
        raise MfaError(
            "The security key could not be registered: its answer was not accepted. Try again.",
            reason=f"registration refused: {type(exc).__name__}",
        ) from None
    extensions = credential.get("clientExtensionResults", {}) if isinstance(credential, dict) else {}
    cred_props = extensions.get("credProps", {}) if isinstance(extensions, dict) else {}
    return NewKey(
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        discoverable=bool(isinstance(cred_props, dict) and cred_props.get("rk")),
    )


def authentication_options(rp: RelyingParty, allow: list[MfaFactor] | None) -> tuple[str, bytes]:
    """The JSON for navigator.credentials.get(): the account's keys (`allow`), or none
    (a passkey sign-in: the authenticator offers the accounts it holds)."""
    options = webauthn.generate_authentication_options(
        rp_id=rp.id,
        timeout=TIMEOUT_MS,
        allow_credentials=[
            PublicKeyCredentialDescriptor(id=f.credential_id)
            for f in (allow or [])
            if f.credential_id is not None
        ],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return webauthn.options_to_json(options), options.challenge


def verify_assertion(
    session: Session,
    rp: RelyingParty,
    credential: str | dict[str, Any],
    challenge: bytes,
    *,
    user: User | None,
    now: datetime,
) -> MfaFactor:
    """The key that signed `credential` (an account's own when `user` is given), its
    counter moved on; MfaError with the reason when the answer is for another origin or
    RP id, from a key whose counter went back (a cloned key), unverified, or forged."""
    try:
        parsed = parse_authentication_credential_json(
            json.dumps(credential) if isinstance(credential, dict) else credential
        )
        client = parse_client_data_json(parsed.response.client_data_json)
        data = parse_authenticator_data(parsed.response.authenticator_data)
    except Exception:  # the library raises many kinds for malformed input
        raise MfaError(NOT_ACCEPTED, reason="malformed WebAuthn response") from None
    factor = key_by_credential(session, parsed.raw_id)
    if (
        factor is None
        or factor.kind != FactorKind.WEBAUTHN
        or (user is not None and factor.user_id != user.id)
    ):
        raise MfaError(
            "This security key is not registered to the account.", reason="unknown WebAuthn credential"
        )
    if client.origin != rp.origin:
        raise MfaError(NOT_ACCEPTED, reason=f"wrong origin: {client.origin[:100]}")
    if data.rp_id_hash != hashlib.sha256(rp.id.encode()).digest():
        raise MfaError(NOT_ACCEPTED, reason="wrong RP id")
    if (data.sign_count or factor.sign_count) and data.sign_count <= factor.sign_count:
        raise MfaError(
            "This security key's counter went back, which a copied key does. It was refused; "
            "tell your administrator.",
            reason=f"cloned key: sign count {data.sign_count} after {factor.sign_count}",
        )
    assert factor.public_key is not None
    try:
        verified = webauthn.verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=factor.public_key,
            credential_current_sign_count=factor.sign_count,
            require_user_verification=True,
        )
    except InvalidAuthenticationResponse as exc:
        reason = "user not verified" if "verification" in str(exc) else "assertion not valid"
        raise MfaError(NOT_ACCEPTED, reason=reason) from None
    factor.sign_count = verified.new_sign_count
    factor.last_used_at = now
    session.flush()
    return factor


def challenge_to_text(challenge: bytes) -> str:
    return bytes_to_base64url(challenge)


def challenge_from_text(text: str) -> bytes:
    return base64url_to_bytes(text)
