"""A client that gives up mid-upload is logged as 499 at info level, never as a 500 error
(issue 13.9); nothing is recorded."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator, MutableMapping
from typing import Any

import pytest
import uvicorn
from structlog.testing import capture_logs

from rio.api.middleware import CLIENT_CLOSED
from tests.api.conftest import REC, Api


@pytest.fixture
def served(sqlite_api: Api) -> Iterator[tuple[str, int]]:
    """The same app behind a real uvicorn on a free local port, in this process."""
    config = uvicorn.Config(
        sqlite_api.app, host="127.0.0.1", port=0, log_config=None, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    until(lambda: server.started and bool(server.servers))
    host, port = server.servers[0].sockets[0].getsockname()[:2]
    yield host, port
    server.should_exit = True
    thread.join(timeout=30)


def until(condition: Any, timeout: float = 30.0) -> None:
    """Wait on a condition, not a duration; fail if it never holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition never held")
        time.sleep(0.01)


def request_lines(logs: list[MutableMapping[str, Any]]) -> list[MutableMapping[str, Any]]:
    return [line for line in logs if line.get("event") == "request"]


def test_an_upload_abandoned_halfway_is_logged_as_client_closed(
    sqlite_api: Api, served: tuple[str, int]
) -> None:
    body = b'{"note": "' + b"x" * 2000 + b'"}'
    head = (
        f"POST {REC} HTTP/1.1\r\nHost: rio\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {sqlite_api.keys['secretariat']}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    before = sqlite_api.app.state.services.rio.position()  # the keys' own events

    with capture_logs() as logs:
        with socket.create_connection(served) as connection:
            connection.sendall(head + body[: len(body) // 2])
        until(lambda: request_lines(logs))

    (line,) = request_lines(logs)
    assert line["status"] == CLIENT_CLOSED
    assert line["log_level"] == "info"
    assert line["client_disconnected"] is True
    assert line["principal"] == "secretariat-holder"
    assert not [entry for entry in logs if entry.get("log_level") in ("error", "critical")]
    assert sqlite_api.app.state.services.rio.position() == before


def test_a_complete_request_on_the_same_server_is_logged_with_its_own_status(
    sqlite_api: Api, served: tuple[str, int]
) -> None:
    head = (
        f"GET /status HTTP/1.1\r\nHost: rio\r\nConnection: close\r\n"
        f"Authorization: Bearer {sqlite_api.keys['auditor']}\r\n\r\n"
    ).encode()

    with capture_logs() as logs:
        with socket.create_connection(served) as connection:
            connection.sendall(head)
            answer = connection.recv(64)
        until(lambda: request_lines(logs))

    assert answer.startswith(b"HTTP/1.1 200")
    (line,) = request_lines(logs)
    assert line["status"] == 200
    assert "client_disconnected" not in line
