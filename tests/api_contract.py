"""The JSON API checked by tools we did not write (issue 16), against a live server on a
fresh database (SQLite, or PostgreSQL when TEST_DATABASE_URL names one): `make test-api`.

1. The server is migrated and seeded as `make run` does (real seed reports, demo accounts),
   and each demo account gets a personal access token (the viewer's reads only).
2. docs/api_cpg502.py takes CPG-502 from FEMA's response to closure with the API alone;
   the recommendation's history must then hold each of its steps.
3. schemathesis runs against /api/v1/openapi.json, every operation, reading and writing,
   once with each role's token (generated cases; with the administrator's also the
   coverage phase: every boundary of every parameter): 0 server errors and 0 responses
   that break the schema (exit status 0 of each run).

Not collected by pytest (no test_ prefix): it starts servers and takes minutes.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
ACCOUNTS = {
    "admin": "admin@rectrack.example",
    "oig": "oig@rectrack.example",
    "liaison-ia": "liaison.ia@rectrack.example",
    "liaison-fema": "liaison.fema@rectrack.example",
    "viewer": "viewer@rectrack.example",
}
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_headers_conformance,response_schema_conformance,negative_data_rejection"
)
EXAMPLES = os.environ.get("API_CONTRACT_EXAMPLES", "5")  # generated cases per operation

MAKE_TOKENS = """
import json, sys
from datetime import timedelta
import sqlalchemy as sa
from app import audit, clock, create_app
from app.extensions import db
from app.models import Role, TokenScope, User
from app.tokens import services
app = create_app()
out = {}
with app.app_context():
    audit.set_actor(db.session, audit.AuditActor.system("api contract check"))
    for key, email in json.loads(sys.argv[1]).items():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        scope = TokenScope.READ if user.role == Role.VIEWER else TokenScope.WRITE
        made = services.create(db.session, user, name="contract check", scope=scope,
                               expires_at=clock.now() + timedelta(days=1), now=clock.now())
        out[key] = made.secret
    db.session.commit()
print(json.dumps(out))
"""


def database(tmp: Path) -> tuple[str, sa.Engine | None]:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp / 'contract.db'}", None
    parsed = make_url(url)
    name = f"{parsed.database}_contract"
    admin = sa.create_engine(
        parsed.set(database="postgres"), poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    return parsed.set(database=name).render_as_string(hide_password=False), admin


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def flask(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "app", *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.exit(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5):  # noqa: S310 (loopback)
                return
        except OSError:
            time.sleep(0.3)
    sys.exit(f"the server did not answer {url}")


def get(base: str, path: str, token: str) -> dict:  # type: ignore[type-arg]
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
        return json.load(response)  # type: ignore[no-any-return]


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="rectrack-contract-"))
    url, admin = database(tmp)
    env = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": url,
        "SECRET_KEY": secrets.token_urlsafe(32),
        "API_RATE_LIMIT": "1000000 per minute",  # schemathesis sends thousands of requests
        "MAIL_FOLDER": str(tmp / "outbox"),
        "ATTACHMENT_DIR": str(tmp / "attachments"),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("TEST_DATABASE_URL", None)
    server = None
    failures = []
    try:
        flask(env, "db", "upgrade")
        flask(env, "seed")
        flask(env, "demo-users")
        done = subprocess.run(
            [sys.executable, "-c", MAKE_TOKENS, json.dumps(ACCOUNTS)],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        tokens = json.loads(done.stdout.strip().splitlines()[-1])
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [str(VENV_BIN / "flask"), "--app", "app", "run", "--port", str(port), "--no-reload"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(f"{base}/healthz")

        # 2. The documented script, with the API alone.
        script = subprocess.run(
            [sys.executable, str(ROOT / "docs" / "api_cpg502.py")],
            env={
                **env,
                "RECTRACK_URL": base,
                "FEMA_TOKEN": tokens["liaison-fema"],
                "OIG_TOKEN": tokens["oig"],
            },
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        print(script.stdout, flush=True)
        if script.returncode != 0:
            failures.append(f"docs/api_cpg502.py: {script.stderr}")
        else:
            found = get(base, "/api/v1/search?q=CPG-502", tokens["oig"])
            print(f"search CPG-502: {json.dumps(found)[:300]}")

        # 3. schemathesis, with each role's token.
        for role, token in tokens.items():
            started = time.monotonic()
            run = subprocess.run(
                [
                    str(VENV_BIN / "schemathesis"),
                    "run",
                    f"{base}/api/v1/openapi.json",
                    "--header",
                    f"Authorization: Bearer {token}",
                    "--checks",
                    CHECKS,
                    "--max-examples",
                    EXAMPLES,
                    "--seed",
                    "16",
                    "--phases",
                    # the coverage phase (every boundary of every parameter, ~1,750 cases)
                    # once, with the token that may do the most; generated cases for all
                    "examples,coverage,fuzzing" if role == "admin" else "examples,fuzzing",
                    "--request-timeout",
                    "60",
                    "--suppress-health-check",
                    "all",
                    "--no-shrink",
                    "--warnings",
                    "off",
                ],
                cwd=ROOT,
                capture_output=True,
                text=True,
            )
            tail = "\n".join(run.stdout.strip().splitlines()[-12:])
            print(
                f"--- schemathesis, {role}'s token ({time.monotonic() - started:.0f} s):\n{tail}", flush=True
            )
            if run.returncode != 0:
                failures.append(
                    f"schemathesis with {role}'s token:\n{run.stdout[-6000:]}\n{run.stderr[-2000:]}"
                )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if admin is not None:
            name = make_url(url).database
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()
        shutil.rmtree(tmp, ignore_errors=True)
    for failure in failures:
        print(failure, file=sys.stderr)
    print(f"api contract: {len(failures)} failing of {1 + len(ACCOUNTS)} checks")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
