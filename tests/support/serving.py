"""A `rio serve` subprocess: a free port to give it, and waiting until it answers."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import httpx

from rio.application.keys import Keys
from rio.application.service import RIO


def serve_env(database_url: str, **settings: str) -> dict[str, str]:
    """The environment for a `rio serve` on `database_url`: no rate limit, JSON logs."""
    return {
        **os.environ,
        "RIO_DATABASE_URL": database_url,
        "RIO_API_RATE_PER_MINUTE": "0",
        "RIO_LOG_FORMAT": "json",
        **settings,
    }


def secretariat_key(database_url: str) -> str:
    """A secretariat key on the store, made in-process: a `rio keys create` costs a process
    start, and the serving tests make enough of those."""
    store = RIO(database_url)
    try:
        secret, _ = Keys(store).create(name="loader", role="secretariat", granted_by="test")
    finally:
        store.close()
    return secret


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_serving(
    base: str, server: subprocess.Popen[bytes], log: Path, seconds: float = 120
) -> None:
    """Until `/health` answers; fails with the server's log if it dies or takes over
    `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert server.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"rio serve did not start:\n{log.read_text()}"
        time.sleep(0.1)
