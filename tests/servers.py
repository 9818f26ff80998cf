"""Helpers for the tests that start real processes (gunicorn, Celery, `flask` commands)
on loopback: a free port, and a `flask` command run to completion."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def flask_command(env: dict[str, str], *args: str, stdin: str = "", timeout: int = 180) -> None:
    """Run `flask --app app ARGS` in the project with `env`; fail the test if it fails."""
    done = subprocess.run(
        [str(BIN / "flask"), "--app", "app", *args],
        env=env,
        cwd=ROOT,
        input=stdin.encode(),
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"flask {' '.join(args)}: {done.stderr.decode()[-2000:]}"
