"""A `rio serve` subprocess: a free port to give it, and waiting until it answers."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_serving(
    base: str, server: subprocess.Popen[bytes], log: Path, seconds: float = 30
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
