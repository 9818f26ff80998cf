"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1, on a free port. The tests
read what arrived; the server can refuse chosen recipients (5xx or 4xx), and be stopped
and started again on the same port (an outage)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from flask import Flask

from tests.servers import free_port


@dataclass
class Handler:
    """Keeps every accepted message; answers RCPT TO for `refuse` with their code."""

    received: list[EmailMessage] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # address -> "550 5.1.1 No such user"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.lower() in self.refuse:
            return self.refuse[address.lower()]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(
            envelope.original_content or envelope.content, policy=email_policy.default
        )
        self.received.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


class MailServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.handler = Handler()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def received(self) -> list[EmailMessage]:
        return self.handler.received

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.received if m["To"] == address]


def notify(app: Flask, day: date | None = None, *extra: str) -> str:
    """`flask notify run [--today DAY] EXTRA...` in `app`; its output (the run must succeed)."""
    args = ["notify", "run", *(("--today", day.isoformat()) if day else ()), *extra]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    return result.output


def text_of(message: Any) -> str:
    return str(message.get_body(preferencelist=("plain",)).get_content())


def html_of(message: Any) -> str:
    return str(message.get_body(preferencelist=("html",)).get_content())
