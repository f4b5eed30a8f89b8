"""`rio serve` killed with SIGKILL mid-stream: every acknowledged write survives, whole."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from rio.aggregates.recommendation import Recommendation
from rio.application.service import RIO
from tests.api.conftest import REC, cited

RIO_COMMAND = str(Path(sys.executable).parent / "rio")
WRITERS = 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_serving(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    """Until `/health` answers; fails with the server's log if it dies or takes over 30 s."""
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert server.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"rio serve did not start:\n{log.read_text()}"
        time.sleep(0.1)


@contextmanager
def serving(env: dict[str, str], port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        server = subprocess.Popen(
            [RIO_COMMAND, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}", server, log)
        yield server
    finally:
        if server.poll() is None:
            server.kill()
        server.wait(timeout=10)


def test_every_acknowledged_write_survives_sigkill_and_none_is_half_written(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'rio.db'}"
    env = {
        **os.environ,
        "RIO_DATABASE_URL": url,
        "RIO_API_RATE_PER_MINUTE": "0",
        "RIO_LOG_FORMAT": "json",
    }
    created = subprocess.run(
        [RIO_COMMAND, "keys", "create", "--name", "loader", "--role", "secretariat"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    headers = {"Authorization": f"Bearer {created.stdout.strip()}"}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    acknowledged: list[tuple[str, int]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(n: int) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
            i = 0
            while not stop.is_set():
                note = f"writer {n} note {i}"
                try:
                    response = client.post(f"{REC}/1/progress-notes", json=cited(note=note))
                except httpx.TransportError:
                    return  # the server is gone: this write was never acknowledged
                if response.status_code == 201:
                    with lock:
                        acknowledged.append((note, response.json()["version"]))
                    i += 1
                else:
                    assert response.status_code in (409, 503), response.text

    with serving(env, port, log) as server:
        register = httpx.post(
            f"{base}{REC}",
            json=cited("2022-06-08", number=1, title="Targeted interventions"),
            headers=headers,
        )
        assert register.status_code == 201, register.text
        threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while len(acknowledged) < 60 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
        stop.set()
        for thread in threads:
            thread.join(timeout=20)
    assert len(acknowledged) >= 60, log.read_text()

    with serving(env, port, log):
        answer = httpx.get(f"{base}{REC}/1/history", params={"page_size": 200}, headers=headers)
        assert answer.status_code == 200, answer.text
        events = answer.json()["events"]
        while answer.json()["next_page"]:
            answer = httpx.get(
                f"{base}{REC}/1/history",
                params={"page_size": 200, "page": answer.json()["next_page"]},
                headers=headers,
            )
            events += answer.json()["events"]
        board = httpx.get(f"{base}/status", headers=headers)
        assert board.status_code == 200
        assert board.json()["recommendations"][0]["number"] == 1

    notes = Counter(e["data"]["note"] for e in events if e["type"] == "ProgressNoted")
    by_version = {e["version"]: e for e in events}
    for note, version in acknowledged:
        assert notes[note] == 1, note
        assert by_version[version]["data"]["note"] == note
    # At most the writes in flight at the kill are recorded without an acknowledgement.
    assert sum(notes.values()) - len(acknowledged) <= WRITERS
    assert sorted(by_version) == list(range(1, len(events) + 1))

    # Straight from the store: every stored event decodes whole.
    rio = RIO(url)
    try:
        stored = list(rio.all_events())
        assert len(stored) == len(events)
        assert all(isinstance(e, Recommendation.ProgressNoted) for e in stored[1:])
    finally:
        rio.close()
