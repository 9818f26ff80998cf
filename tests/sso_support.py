"""A real OpenID provider on loopback for the single sign-on tests (tests/oidc/provider.mjs,
the npm package oidc-provider), and the helpers to sign in through it.

Time: the suite's clock is frozen (ticking) by time-machine, which moves the time module
too in this process, so the client assertion RecTrack signs and the ID token's checks both
use the frozen instant. The provider runs in Node, out of time-machine's reach, so it is
started with OIDC_NOW, the suite's clock.now(): its clock then ticks from the same instant
and the two agree on `iat` and `exp` to within the provider's start-up time, well inside
the 60-second leeway (app/auth/oidc.py LEEWAY). Tests that move the clock far (expiry) do
it on tokens fed to the callback, never on the live provider.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import RSAKey

from app import clock
from tests.servers import ROOT

SCRIPT = ROOT / "tests" / "oidc" / "provider.mjs"
CLIENT_ID = "rectrack-test-client"
NAME = "test"
LABEL = "Test IdP"
REDIRECT_URI = f"http://localhost/sso/{NAME}/callback"  # the Flask test client's host
# The provider's accounts: subject -> claims. "viewer-sub" is the suite's viewer account.
ACCOUNTS = {
    "viewer-sub": {"email": "viewer@test.example", "email_verified": True},
    "liaison-sub": {"email": "Liaison@Test.Example", "email_verified": True},  # case differs
    "unverified-sub": {"email": "oig@test.example", "email_verified": False},
    "stranger-sub": {"email": "nobody@test.example", "email_verified": True},
}


def new_rsa_key() -> RSAKey:
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return RSAKey.import_key(pem)


def write_pem(key: RSAKey, path: Path) -> Path:
    path.write_bytes(key.as_pem(private=True))
    path.chmod(0o600)
    return path


@dataclass
class LocalProvider:
    """oidc-provider running on 127.0.0.1:port until stop()."""

    port: int
    client_key_path: Path
    signing_key: RSAKey  # the provider's own key, so tests can forge tokens it would sign
    process: subprocess.Popen[bytes] | None = None
    log: list[str] = field(default_factory=list)

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def setting(self, **extra: Any) -> str:
        """OIDC_PROVIDERS naming this provider."""
        entry = {
            "name": NAME,
            "label": LABEL,
            "issuer": self.issuer,
            "client_id": CLIENT_ID,
            "private_key_path": str(self.client_key_path),
            "scopes": ["openid", "email"],
            **extra,
        }
        return json.dumps([entry])

    def start(self, client_public_jwk: dict[str, Any]) -> None:
        node = shutil.which("node")
        assert node, "the SSO tests need Node.js (the Makefile's `make assets` installs oidc-provider)"
        assert (ROOT / "node_modules" / "oidc-provider").is_dir(), (
            "node_modules/oidc-provider is missing: run `make assets` (npm ci)"
        )
        env = {
            **os.environ,
            "OIDC_PORT": str(self.port),
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_JWK": json.dumps(client_public_jwk),
            "OIDC_SIGNING_JWK": json.dumps(self.signing_key.as_dict(private=True)),
            "OIDC_REDIRECT_URI": REDIRECT_URI,
            "OIDC_ACCOUNTS": json.dumps(ACCOUNTS),
            "OIDC_NOW": clock.now().isoformat(),
        }
        self.process = subprocess.Popen(
            [node, str(SCRIPT)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        lines: queue.Queue[str] = queue.Queue()

        def read() -> None:
            assert self.process is not None
            assert self.process.stdout is not None
            for raw in self.process.stdout:
                line = raw.decode(errors="replace").rstrip()
                self.log.append(line)
                lines.put(line)

        threading.Thread(target=read, daemon=True).start()
        while True:
            try:
                line = lines.get(timeout=30)
            except queue.Empty:
                self.stop()
                raise AssertionError(f"oidc-provider did not start: {self.log}") from None
            if line.startswith("listening "):
                return

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def forge(self, claims: dict[str, Any], key: RSAKey | None = None) -> str:
        """An ID token with these claims, signed by the provider's key (or `key`)."""
        signer = key or self.signing_key
        header = {"alg": "RS256", "kid": "provider-signing-key"}
        return jwt.encode(header, claims, signer)


def sign_in_at_provider(start_location: str, account: str, acr: str | None = None) -> str:
    """Play the person at the provider: open the authorization URL RecTrack redirected to,
    sign in as `account`, and return the URL the provider sends the browser back to
    (RecTrack's callback, with code and state)."""
    browser = requests.Session()
    url = start_location
    for _ in range(10):
        response = browser.get(url, allow_redirects=False, timeout=10)
        assert response.status_code in (302, 303), f"{url}: {response.status_code} {response.text[:300]}"
        location = urljoin(url, response.headers["Location"])
        if location.startswith(REDIRECT_URI):
            return location
        if urlsplit(location).path.startswith("/interaction/"):
            location += f"?account={account}" + (f"&acr={acr}" if acr else "")
        url = location
    raise AssertionError("the provider never sent the browser back")


def callback_path(location: str) -> str:
    """The callback URL as the Flask test client takes it (path and query)."""
    parts = urlsplit(location)
    return f"{parts.path}?{parts.query}"


def query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
