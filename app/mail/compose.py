"""A message as it goes out: headers, a plain-text part and an HTML part, and the
addresses its links point to (MAIL_BASE_URL, since no request is being served)."""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any
from urllib.parse import urlsplit

from app import clock
from app.models import OutboxMessage


class Links:
    """Absolute addresses of the app's pages, built from the URL map without a request."""

    def __init__(self, app: Any) -> None:
        base = urlsplit(app.config["MAIL_BASE_URL"])
        self.adapter = app.url_map.bind(
            base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
        )

    def __call__(self, endpoint: str, **values: Any) -> str:
        return str(self.adapter.build(endpoint, values, force_external=True))

    def preferences(self) -> str:
        return self("mail.preferences")


def message_id(outbox: OutboxMessage, sender: str) -> str:
    """The same Message-ID every time this outbox row is sent: a receiver that sees a
    message twice (a worker died between the server's answer and marking it sent) can
    tell it is one message."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "rectrack.invalid"
    digest = hashlib.sha256(outbox.key.encode()).hexdigest()[:24]
    return f"<{digest}.{outbox.id}@{domain}>"


def build(outbox: OutboxMessage, config: Any, links: Links) -> EmailMessage:
    """The MIME message of an outbox row: text/plain and text/html alternatives."""
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    message["To"] = outbox.recipient
    if config["MAIL_REPLY_TO"]:
        message["Reply-To"] = config["MAIL_REPLY_TO"]
    message["Subject"] = outbox.subject
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = message_id(outbox, config["MAIL_SENDER"])
    # RFC 2369: where the recipient turns this mail off (their preferences page).
    message["List-Unsubscribe"] = f"<{links.preferences()}>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    message.set_content(outbox.body_text)
    message.add_alternative(outbox.body_html, subtype="html")
    return message
