"""Sending a digest over SMTP, configured by one URL.

`RIO_SMTP_URL`: `smtp://[user:password@]host[:port][?starttls=1&timeout=30]`, or
`smtps://...` for TLS from the first byte (port 465 by default). Credentials are never
logged.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from rio.errors import ConfigurationError


class BadSMTPURL(ConfigurationError):
    """RIO_SMTP_URL names no mail server RIO can use."""


class DeliveryFailed(Exception):
    """The mail server could not be reached, or did not accept the message."""


class Mailer(Protocol):
    def send(self, message: EmailMessage, recipients: list[str]) -> None: ...


@dataclass(frozen=True)
class SMTPConfig:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    implicit_tls: bool = False
    timeout: float = 30.0

    def __repr__(self) -> str:  # keeps the password out of logs and tracebacks
        return f"SMTPConfig({self.where})"

    @property
    def where(self) -> str:
        scheme = "smtps" if self.implicit_tls else "smtp"
        return f"{scheme}://{self.host}:{self.port}"


_TRUE = {"1", "true", "yes", "on"}


def parse_smtp_url(url: str) -> SMTPConfig:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise BadSMTPURL(
            "RIO_SMTP_URL must look like smtp://user:password@host:587?starttls=1 "
            "(or smtps://... for implicit TLS)"
        )
    if not parts.hostname:
        raise BadSMTPURL("RIO_SMTP_URL names no host: smtp://host:25")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = sorted(set(query) - {"starttls", "timeout"})
    if unknown:
        raise BadSMTPURL(f"unknown option {', '.join(unknown)} in RIO_SMTP_URL (starttls, timeout)")
    implicit = parts.scheme == "smtps"
    try:
        port = parts.port or (465 if implicit else 25)
        timeout = float(query.get("timeout", "30"))
    except ValueError as error:
        raise BadSMTPURL(f"RIO_SMTP_URL: {error}") from None
    return SMTPConfig(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        starttls=query.get("starttls", "0").lower() in _TRUE,
        implicit_tls=implicit,
        timeout=timeout,
    )


class SMTPMailer:
    """One connection per digest: a run sends a handful, and a fresh connection fails cleanly."""

    def __init__(self, config: SMTPConfig) -> None:
        self.config = config

    @classmethod
    def from_url(cls, url: str) -> SMTPMailer:
        return cls(parse_smtp_url(url))

    def send(self, message: EmailMessage, recipients: list[str]) -> None:
        c = self.config
        try:
            smtp: smtplib.SMTP
            if c.implicit_tls:
                smtp = smtplib.SMTP_SSL(
                    c.host, c.port, timeout=c.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
            with smtp:
                if c.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if c.username:
                    smtp.login(c.username, c.password or "")
                refused = smtp.send_message(message, to_addrs=recipients)
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryFailed(f"{c.where}: {_describe(error)}") from error
        if refused:
            raise DeliveryFailed(f"{c.where} refused {', '.join(sorted(refused))}")


def _describe(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}".strip()
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{rcpt}: {code} {_text(msg)}" for rcpt, (code, msg) in error.recipients.items()
        )
    return f"{type(error).__name__}: {error}"


def _text(message: bytes | str | None) -> str:
    if isinstance(message, bytes):
        return message.decode("utf-8", "replace")
    return message or ""
