"""A real SMTP server in the test process (aiosmtpd), and helpers for the alert tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any, cast

from aiosmtpd.controller import Controller

from rio.application.batch import BatchResult
from rio.application.service import RIO
from rio.scenario import batches, read
from tests.conftest import MESSENGER
from tests.support.serving import free_port

NHSE = "NHS England"
DHSC = "Department of Health and Social Care"
ADDRESSES = {NHSE: "leadership-review@nhse.example", DHSC: "messenger-sro@dhsc.example"}


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    @property
    def alert_ids(self) -> list[str]:
        return [i.strip() for i in str(self.message["X-RIO-Alert-Ids"]).split(",")]

    def text(self) -> str:
        body = self.message.get_body(("plain",))
        assert body is not None
        return cast(EmailMessage, body).get_content()  # type: ignore[no-any-return]

    def html(self) -> str:
        body = self.message.get_body(("html",))
        assert body is not None
        return cast(EmailMessage, body).get_content()  # type: ignore[no-any-return]


class Inbox:
    """An aiosmtpd handler that keeps what it accepts, or refuses with `refuse_with`."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.refused = 0
        self.refuse_with: str | None = None
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse_with is not None:
            with self._lock:
                self.refused += 1
            return self.refuse_with
        message = cast(EmailMessage, message_from_bytes(envelope.content, policy=default))
        with self._lock:
            self.received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if address in r.rcpt_tos]

    def alert_deliveries(self) -> dict[tuple[str, str], int]:
        """How many times each (recipient, alert id) arrived."""
        counts: dict[tuple[str, str], int] = {}
        with self._lock:
            for r in self.received:
                for rcpt in r.rcpt_tos:
                    for alert in r.alert_ids:
                        counts[(rcpt, alert)] = counts.get((rcpt, alert), 0) + 1
        return counts


class SMTPServer:
    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?timeout=5"

    def start(self) -> None:
        """Listen (again) on the same port; a stopped controller cannot be restarted."""
        if self.controller is None:
            self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
            self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@contextmanager
def smtp_server() -> Iterator[SMTPServer]:
    server = SMTPServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def load_messenger(rio: RIO) -> BatchResult:
    scenario, lines = read(MESSENGER)
    return rio.record_batch(batches(scenario, lines, str(MESSENGER), "test"))


def owners_file(
    directory: Path, addresses: dict[str, str] | None = None, name: str = "owners.yaml"
) -> Path:
    path = directory / name
    lines = [f'"{name}": {address}' for name, address in (addresses or ADDRESSES).items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def wait_for(condition: Callable[[], bool], timeout: float = 15.0, every: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return condition()
