"""OpenID Connect, the protocol side of single sign-on (README, "Single sign-on").

Providers are configuration (OIDC_PROVIDERS). A sign-in is the authorization code flow
with PKCE (S256), state and nonce; the client authenticates at the token endpoint with
`private_key_jwt` (RFC 7523: a short JWT signed with the client's private key); the ID
token is checked in full here: signature against the provider's JWKS, issuer, audience
(and `azp` when there are several), expiry and issue time on the app's clock with a
small leeway, nonce.

Authlib's lower-level pieces do the protocol: its requests client (OAuth2Session) builds
the authorization URL with the PKCE challenge and exchanges the code, its PrivateKeyJWT
signs the client assertion, and joserfc (Authlib's JOSE library) verifies signatures and
claims. Every time this module compares is the app's clock (app/clock.py), passed in.

Nothing here reads the request or the database: the views (app/auth/sso_views.py) and
the services (app/auth/sso_services.py) do.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc7523.assertion import private_key_jwt_sign
from joserfc import jwt
from joserfc.errors import BadSignatureError, ClaimError, ExpiredTokenError, JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey

# Clock skew allowed between RecTrack and a provider when checking `exp` and `iat`: a
# token that expired up to this long ago is still taken, one issued up to this far in the
# future too. NIST SP 800-63C and RFC 7519 allow "a few minutes"; one is enough between
# servers that keep NTP time.
LEEWAY = timedelta(seconds=60)
# A started sign-in waits this long for the provider to send the user back.
FLOW_TIMEOUT = timedelta(minutes=10)
# The client assertion (private_key_jwt) is valid this long.
ASSERTION_LIFETIME = 60
# Signature algorithms an ID token may use: asymmetric ones only (never "none", never an
# HMAC keyed with something the provider and others could share).
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class ProviderConfigError(RuntimeError):
    """OIDC_PROVIDERS cannot be used; the message says which entry and why."""


class SsoRefused(Exception):
    """A sign-in through a provider is refused: `reason` for the audit trail (fixed words,
    no token), `message` for the person signing in."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Provider:
    """One configured OpenID provider."""

    name: str  # in URLs (/sso/<name>/start) and in session["second_factor"] ("sso:<name>")
    label: str  # the button's text
    issuer: str
    discovery_url: str
    client_id: str
    private_key: RSAKey | ECKey
    key_id: str | None
    scopes: tuple[str, ...]
    acr_values: str | None
    counts_as_mfa: bool

    @property
    def signing_alg(self) -> str:
        return "RS256" if isinstance(self.private_key, RSAKey) else "ES256"


def _url(entry: str, field: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ProviderConfigError(f"OIDC_PROVIDERS entry {entry!r}: {field} must be a URL.")
    parts = urlsplit(value)
    loopback = parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
    if not (parts.scheme == "https" or loopback) or not parts.hostname:
        raise ProviderConfigError(
            f"OIDC_PROVIDERS entry {entry!r}: {field} must be an https:// URL (http:// only on loopback)."
        )
    return value


def _private_key(entry: str, path: object) -> RSAKey | ECKey:
    if not isinstance(path, str) or not path:
        raise ProviderConfigError(f"OIDC_PROVIDERS entry {entry!r}: private_key_path is missing.")
    try:
        pem = Path(path).read_bytes()
    except OSError as error:
        raise ProviderConfigError(
            f"OIDC_PROVIDERS entry {entry!r}: cannot read private_key_path ({error.strerror})."
        ) from None
    for kind in (RSAKey, ECKey):
        try:
            key = kind.import_key(pem)
        except (JoseError, ValueError, TypeError):
            continue
        if key.is_private:
            return key
    raise ProviderConfigError(
        f"OIDC_PROVIDERS entry {entry!r}: private_key_path is not an RSA or EC private key in PEM."
    )


def _provider(raw: object, index: int) -> Provider:
    if not isinstance(raw, dict):
        raise ProviderConfigError(f"OIDC_PROVIDERS entry {index + 1} is not an object.")
    name = raw.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise ProviderConfigError(
            f"OIDC_PROVIDERS entry {index + 1}: name must be 1-40 lower-case letters, digits or hyphens."
        )
    unknown = set(raw) - {
        "name",
        "label",
        "issuer",
        "discovery_url",
        "client_id",
        "private_key_path",
        "key_id",
        "scopes",
        "acr_values",
        "counts_as_mfa",
    }
    if unknown:
        raise ProviderConfigError(
            f"OIDC_PROVIDERS entry {name!r}: unknown keys {', '.join(sorted(unknown))}."
        )
    label, client_id = raw.get("label"), raw.get("client_id")
    if not isinstance(label, str) or not label.strip():
        raise ProviderConfigError(f"OIDC_PROVIDERS entry {name!r}: label (the button's text) is missing.")
    if not isinstance(client_id, str) or not client_id:
        raise ProviderConfigError(f"OIDC_PROVIDERS entry {name!r}: client_id is missing.")
    issuer = _url(name, "issuer", raw.get("issuer"))
    discovery = raw.get("discovery_url") or issuer.rstrip("/") + "/.well-known/openid-configuration"
    scopes = raw.get("scopes", ["openid", "email"])
    if (
        not isinstance(scopes, list)
        or not all(isinstance(s, str) and s for s in scopes)
        or "openid" not in scopes
    ):
        raise ProviderConfigError(f"OIDC_PROVIDERS entry {name!r}: scopes must be a list including openid.")
    acr = raw.get("acr_values")
    if acr is not None and (not isinstance(acr, str) or not acr.strip()):
        raise ProviderConfigError(f"OIDC_PROVIDERS entry {name!r}: acr_values must be text.")
    mfa = raw.get("counts_as_mfa", False)
    if not isinstance(mfa, bool):
        raise ProviderConfigError(f"OIDC_PROVIDERS entry {name!r}: counts_as_mfa must be true or false.")
    key_id = raw.get("key_id")
    if key_id is not None and (not isinstance(key_id, str) or not key_id):
        raise ProviderConfigError(f"OIDC_PROVIDERS entry {name!r}: key_id must be text.")
    return Provider(
        name=name,
        label=label.strip(),
        issuer=issuer,
        discovery_url=_url(name, "discovery_url", discovery),
        client_id=client_id,
        private_key=_private_key(name, raw.get("private_key_path")),
        key_id=key_id,
        scopes=tuple(scopes),
        acr_values=acr.strip() if acr else None,
        counts_as_mfa=mfa,
    )


@lru_cache(maxsize=8)
def load_providers(setting: str) -> dict[str, Provider]:
    """The providers OIDC_PROVIDERS names: a JSON list of objects, or the path of a file
    holding one. Empty: none (no buttons, the SSO routes answer 404)."""
    setting = setting.strip()
    if not setting:
        return {}
    text = setting
    if not setting.startswith("["):
        try:
            text = Path(setting).read_text()
        except OSError as error:
            raise ProviderConfigError(
                f"OIDC_PROVIDERS is neither a JSON list nor a readable file ({error.strerror})."
            ) from None
    try:
        entries = json.loads(text)
    except ValueError as error:
        raise ProviderConfigError(f"OIDC_PROVIDERS is not valid JSON: {error}.") from None
    if not isinstance(entries, list):
        raise ProviderConfigError("OIDC_PROVIDERS must be a JSON list of providers.")
    providers: dict[str, Provider] = {}
    for index, raw in enumerate(entries):
        provider = _provider(raw, index)
        if provider.name in providers:
            raise ProviderConfigError(f"OIDC_PROVIDERS names {provider.name!r} twice.")
        providers[provider.name] = provider
    return providers


# --- talking to the provider ------------------------------------------------------------


@dataclass(frozen=True)
class Metadata:
    """What a provider's discovery document says, the parts RecTrack uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None


UNREACHABLE = (
    "{label} could not be reached, or answered in a way RecTrack does not accept. "
    "Try again in a few minutes, or sign in with your password."
)


def _get_json(url: str, timeout: float, reason: str, label: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = requests.get(url, timeout=timeout, **kwargs)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError):
        raise SsoRefused(reason, UNREACHABLE.format(label=label)) from None
    if not isinstance(document, dict):
        raise SsoRefused(reason, UNREACHABLE.format(label=label))
    return document


def discover(provider: Provider, timeout: float) -> Metadata:
    """The provider's discovery document, checked to name the configured issuer."""
    doc = _get_json(provider.discovery_url, timeout, "provider unreachable: discovery", provider.label)
    if doc.get("issuer") != provider.issuer:
        raise SsoRefused("discovery names another issuer", UNREACHABLE.format(label=provider.label))
    try:
        return Metadata(
            issuer=doc["issuer"],
            authorization_endpoint=_url(
                provider.name, "authorization_endpoint", doc["authorization_endpoint"]
            ),
            token_endpoint=_url(provider.name, "token_endpoint", doc["token_endpoint"]),
            jwks_uri=_url(provider.name, "jwks_uri", doc["jwks_uri"]),
            userinfo_endpoint=doc.get("userinfo_endpoint") or None,
        )
    except (KeyError, ProviderConfigError):
        raise SsoRefused("discovery document incomplete", UNREACHABLE.format(label=provider.label)) from None


def fetch_jwks(provider: Provider, metadata: Metadata, timeout: float) -> KeySet:
    """The provider's public keys (fetched at each sign-in: a rotated key is seen at once)."""
    doc = _get_json(metadata.jwks_uri, timeout, "provider unreachable: keys", provider.label)
    try:
        return KeySet.import_key_set(doc)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError):
        raise SsoRefused("provider keys unreadable", UNREACHABLE.format(label=provider.label)) from None


@dataclass(frozen=True)
class Pending:
    """A sign-in started and not yet finished, kept in the session cookie (signed)."""

    provider: str
    state: str
    nonce: str
    code_verifier: str
    next: str | None
    started_at: datetime

    def to_dict(self) -> dict[str, str | None]:
        return {
            "provider": self.provider,
            "state": self.state,
            "nonce": self.nonce,
            "code_verifier": self.code_verifier,
            "next": self.next,
            "started_at": self.started_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, raw: object) -> Pending | None:
        if not isinstance(raw, dict):
            return None
        try:
            started = datetime.fromisoformat(raw["started_at"])
            return cls(
                provider=str(raw["provider"]),
                state=str(raw["state"]),
                nonce=str(raw["nonce"]),
                code_verifier=str(raw["code_verifier"]),
                next=raw.get("next"),
                started_at=started,
            )
        except (KeyError, TypeError, ValueError):
            return None


def _client(provider: Provider, redirect_uri: str, now: Callable[[], datetime]) -> OAuth2Session:
    client = OAuth2Session(
        client_id=provider.client_id,
        client_secret=provider.private_key,
        scope=" ".join(provider.scopes),
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="private_key_jwt",  # noqa: S106 (a method's name)
    )
    client.register_client_auth_method(ClockedPrivateKeyJWT(provider, now))
    return client


def start(
    provider: Provider, metadata: Metadata, redirect_uri: str, *, next: str | None, now: datetime
) -> tuple[str, Pending]:
    """The provider's authorization URL for a new sign-in, and what to keep until it ends:
    a fresh state, nonce and PKCE code verifier (each 256 bits or more)."""
    pending = Pending(
        provider=provider.name,
        state=generate_token(43),
        nonce=generate_token(43),
        code_verifier=generate_token(64),
        next=next,
        started_at=now,
    )
    extra = {"acr_values": provider.acr_values} if provider.acr_values else {}
    url, _state = _client(provider, redirect_uri, lambda: now).create_authorization_url(
        metadata.authorization_endpoint,
        state=pending.state,
        code_verifier=pending.code_verifier,
        nonce=pending.nonce,
        **extra,
    )
    return url, pending


class ClockedPrivateKeyJWT(PrivateKeyJWT):
    """Authlib's private_key_jwt, with the assertion's `iat` and `exp` from the app's
    clock instead of the time module's, and the key id when the provider wants one."""

    def __init__(self, provider: Provider, now: Callable[[], datetime]) -> None:
        super().__init__(
            alg=provider.signing_alg, headers={"kid": provider.key_id} if provider.key_id else None
        )
        self._now = now

    def sign(self, auth: Any, token_endpoint: str) -> Any:
        issued = int(self._now().timestamp())
        return private_key_jwt_sign(
            auth.client_secret,
            client_id=auth.client_id,
            token_endpoint=token_endpoint,
            alg=self.alg,
            header=dict(self.headers) if self.headers else None,
            issued_at=issued,
            expires_at=issued + ASSERTION_LIFETIME,
        )


def exchange_code(
    provider: Provider,
    metadata: Metadata,
    redirect_uri: str,
    *,
    code: str,
    code_verifier: str,
    now: Callable[[], datetime],
    timeout: float,
) -> dict[str, Any]:
    """Trade the authorization code (with the PKCE verifier and a client assertion) for
    the provider's tokens."""
    client = _client(provider, redirect_uri, now)
    try:
        token = client.fetch_token(
            metadata.token_endpoint,
            grant_type="authorization_code",
            code=code,
            code_verifier=code_verifier,
            timeout=timeout,
        )
    except requests.RequestException:
        raise SsoRefused(
            "provider unreachable: token endpoint", UNREACHABLE.format(label=provider.label)
        ) from None
    except (AuthlibBaseError, ValueError) as error:  # an OAuth error answer, a body that is not JSON
        answer = getattr(error, "error", None)
        reason = (
            f"token endpoint refused the code: {answer}"
            if isinstance(answer, str)
            else "token endpoint answer unreadable"
        )
        raise SsoRefused(reason[:120], UNREACHABLE.format(label=provider.label)) from None
    finally:
        client.close()
    if not isinstance(token, Mapping) or not isinstance(token.get("id_token"), str):
        raise SsoRefused("token response has no ID token", UNREACHABLE.format(label=provider.label))
    return dict(token)


def fetch_userinfo(
    provider: Provider, metadata: Metadata, access_token: str, timeout: float
) -> dict[str, Any]:
    """The userinfo endpoint's claims (where a provider such as Login.gov keeps the e-mail)."""
    if not metadata.userinfo_endpoint:
        raise SsoRefused(
            "no e-mail in the ID token and no userinfo endpoint", NO_EMAIL.format(label=provider.label)
        )
    return _get_json(
        metadata.userinfo_endpoint,
        timeout,
        "provider unreachable: userinfo",
        provider.label,
        headers={"Authorization": f"Bearer {access_token}"},
    )


# --- the ID token -----------------------------------------------------------------------

UNTRUSTED = (
    "{label} sent a sign-in RecTrack cannot trust ({what}), so you are not signed in. "
    "Try again; if it happens again, tell your RecTrack administrator."
)
NO_EMAIL = "{label} did not give RecTrack your e-mail address, so you are not signed in."


def _refuse(provider: Provider, reason: str, what: str) -> SsoRefused:
    return SsoRefused(reason, UNTRUSTED.format(label=provider.label, what=what))


def validate_id_token(
    provider: Provider, id_token: str, *, jwks: KeySet, nonce: str, now: datetime
) -> dict[str, Any]:
    """The ID token's claims, once its signature (the provider's JWKS), issuer, audience,
    authorized party, expiry and issue time (`now`, with LEEWAY) and nonce are right;
    otherwise SsoRefused with the first thing wrong."""
    try:
        token = jwt.decode(id_token, jwks, algorithms=list(ID_TOKEN_ALGORITHMS))
    except BadSignatureError:
        raise _refuse(
            provider, "ID token: bad signature", "its signature does not match the provider's keys"
        ) from None
    except (JoseError, ValueError, TypeError):
        raise _refuse(
            provider,
            "ID token: unreadable or unknown key",
            "it is not a token signed by a key of the provider",
        ) from None
    claims = token.claims
    registry = jwt.JWTClaimsRegistry(
        now=int(now.timestamp()),
        leeway=int(LEEWAY.total_seconds()),
        iss={"essential": True, "value": provider.issuer},
        sub={"essential": True},
        aud={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise _refuse(provider, "ID token: expired", "it has expired") from None
    except ClaimError as error:
        what = {
            "iss": ("ID token: wrong issuer", "it was issued by someone else"),
            "sub": ("ID token: no subject", "it names nobody"),
            "aud": ("ID token: no audience", "it is not addressed to RecTrack"),
            "exp": ("ID token: no expiry", "it never expires"),
            "iat": ("ID token: issued in the future", "it was issued in the future"),
            "nbf": ("ID token: not yet valid", "it is not valid yet"),
        }.get(error.claim, (f"ID token: bad claim {error.claim}", "a claim in it is wrong"))
        raise _refuse(provider, *what) from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if provider.client_id not in audiences:
        raise _refuse(provider, "ID token: wrong audience", "it is addressed to another application")
    if (len(audiences) > 1 or "azp" in claims) and claims.get("azp") != provider.client_id:
        raise _refuse(provider, "ID token: wrong authorized party", "it was issued to another application")
    if not isinstance(claims.get("nonce"), str) or not hmac.compare_digest(
        claims["nonce"].encode(), nonce.encode()
    ):
        raise _refuse(provider, "ID token: wrong nonce", "it does not belong to this sign-in")
    if not claims["sub"] or len(claims["sub"]) > 255:
        raise _refuse(provider, "ID token: bad subject", "it names nobody RecTrack can record")
    return claims


def counts_as_mfa(provider: Provider, claims: Mapping[str, Any]) -> bool:
    """Whether this sign-in is a second factor: the provider is configured so, and when
    acr_values were asked for, the ID token's `acr` is one of them (a provider may sign
    someone in at a lower level than asked)."""
    if not provider.counts_as_mfa:
        return False
    if provider.acr_values is None:
        return True
    return claims.get("acr") in provider.acr_values.split()
