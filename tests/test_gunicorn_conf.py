"""gunicorn.conf.py: its settings from the environment, and a real gunicorn with it (no
`Server` header, a request in progress finished after SIGTERM)."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
SETTINGS = ("bind", "workers", "timeout", "graceful_timeout", "accesslog", "control_socket_disable")


def _settings(**env: str) -> dict[str, object]:
    """gunicorn.conf.py's settings, read in a fresh interpreter with only `env` set."""
    code = (
        "import json, runpy; s = runpy.run_path('gunicorn.conf.py'); "
        f"print(json.dumps({{k: s[k] for k in {SETTINGS!r}}}))"
    )
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def test_defaults() -> None:
    assert _settings() == {
        "bind": "127.0.0.1:8000",
        "workers": 2,
        "timeout": 150,  # PDF_TIMEOUT_SECONDS (120) + 30
        "graceful_timeout": 150,
        "accesslog": None,
        "control_socket_disable": True,
    }


def test_settings_from_the_environment() -> None:
    settings = _settings(
        RECTRACK_BIND="unix:/run/rectrack.sock", WEB_CONCURRENCY="5", PDF_TIMEOUT_SECONDS="300"
    )
    assert (settings["bind"], settings["workers"], settings["timeout"]) == ("unix:/run/rectrack.sock", 5, 330)
    assert _settings(PORT="5001")["bind"] == "0.0.0.0:5001"  # a platform's router in front
    assert _settings(PORT="5001", RECTRACK_BIND="127.0.0.1:9000")["bind"] == "127.0.0.1:9000"


def _get(port: int, path: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    return response


@pytest.fixture
def server(tmp_path: Path):
    if not GUNICORN.exists():
        pytest.skip("gunicorn is not installed beside this Python")
    port = free_port()
    log = (tmp_path / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [
            str(GUNICORN),
            "-c",
            "gunicorn.conf.py",
            "-w",
            "1",
            "-b",
            f"127.0.0.1:{port}",
            "tests.gunicorn_probe:app",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        for _ in range(150):
            with contextlib.suppress(OSError):
                _get(port, "/")
                break
            time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not start: " + (tmp_path / "gunicorn.log").read_text()[-2000:])
        yield process, port
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()


def test_no_server_header(server) -> None:
    _, port = server
    response = _get(port, "/")
    assert response.status == 200
    assert response.getheader("Server") is None
    assert response.getheader("Date")  # gunicorn's other default headers are still sent


def test_a_request_in_progress_finishes_after_sigterm(server) -> None:
    process, port = server
    answers: list[tuple[int, bytes]] = []

    def slow() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/slow")
        response = conn.getresponse()
        answers.append((response.status, response.read()))

    client = threading.Thread(target=slow)
    client.start()
    time.sleep(0.5)  # the request is in the worker (it takes 2 s) when the signal comes
    process.send_signal(signal.SIGTERM)
    client.join(timeout=30)
    assert answers == [(200, b"finished")]
    assert process.wait(timeout=30) == 0
