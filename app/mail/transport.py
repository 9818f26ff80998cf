"""Handing one message to the mail system: SMTP, or a folder of .eml files.

The standard library's smtplib rather than Flask-Mailman: one fewer dependency and layer,
and its exceptions say exactly what went wrong, which decides between trying again later
(the server is down, a 4xx answer) and giving up (a 5xx refusal of the recipient or the
message)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol


class TemporaryFailure(Exception):
    """Try again later: the server could not be reached, or answered 4xx. `connection`:
    the server itself is unreachable or failing (not just this message's recipient), so
    the other messages should wait too."""

    def __init__(self, message: str, *, connection: bool = True) -> None:
        super().__init__(message)
        self.connection = connection


class PermanentFailure(Exception):
    """Do not try again: the server refused the recipient or the message (5xx)."""


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...

    def close(self) -> None: ...


def _code(exc: smtplib.SMTPException) -> int | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return min(codes) if codes else None  # one temporary refusal: try again
    return getattr(exc, "smtp_code", None)


def classify(exc: BaseException) -> Exception:
    """A TemporaryFailure or PermanentFailure for an SMTP or network error. Permanent only
    for a 5xx refusal of the recipient or of the message; a refused sender or a failed
    sign-in is a setting to fix, after which the message should still go (temporary)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPDataError):
        code = _code(exc)
        if code is not None and 500 <= code < 600:
            return PermanentFailure(f"refused by the mail server ({code})")
        return TemporaryFailure(f"the mail server asked to try later ({code})", connection=False)
    if isinstance(exc, smtplib.SMTPResponseException):
        return TemporaryFailure(f"the mail server answered {exc.smtp_code}")
    if isinstance(exc, smtplib.SMTPException | OSError):
        return TemporaryFailure(f"the mail server could not be reached ({type(exc).__name__})")
    raise exc


class SmtpTransport:
    """One SMTP connection, opened on the first message and reused for the rest."""

    def __init__(self, config: Any) -> None:
        self.config = config
        self.connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        connection = smtplib.SMTP(
            config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=config["SMTP_TIMEOUT_SECONDS"]
        )
        try:
            if config["SMTP_STARTTLS"]:
                connection.starttls(context=ssl.create_default_context())
            if config["SMTP_USERNAME"]:
                connection.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
        except BaseException:
            connection.close()
            raise
        return connection

    def send(self, message: EmailMessage) -> None:
        """Send, or raise TemporaryFailure / PermanentFailure."""
        try:
            if self.connection is None:
                self.connection = self._connect()
            self.connection.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            failure = classify(exc)
            if isinstance(failure, TemporaryFailure):
                self.close()  # the connection may be dead: the next message opens a new one
            raise failure from exc

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (smtplib.SMTPException, OSError):
                self.connection.close()
            self.connection = None


class FolderTransport:
    """Development: each message is written to MAIL_FOLDER as <message id>.eml."""

    def __init__(self, config: Any) -> None:
        self.folder = Path(config["MAIL_FOLDER"])

    def send(self, message: EmailMessage) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            name = "".join(c if c.isalnum() or c in "-." else "_" for c in message["Message-ID"].strip("<>"))
            (self.folder / f"{name}.eml").write_bytes(bytes(message))
        except OSError as exc:
            raise TemporaryFailure(f"the outbox folder could not be written ({type(exc).__name__})") from exc

    def close(self) -> None:
        pass


def transport_for(config: Any) -> Transport:
    return FolderTransport(config) if config["MAIL_BACKEND"] == "folder" else SmtpTransport(config)


def folder_files(config: Any, limit: int = 200) -> list[Path]:
    """The newest .eml files in MAIL_FOLDER (development's Outbox page)."""
    folder = Path(config["MAIL_FOLDER"])
    if config["MAIL_BACKEND"] != "folder" or not folder.is_dir():
        return []
    files = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True)
    return files[:limit]
