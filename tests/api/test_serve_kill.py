"""`rio serve` killed with SIGKILL: every acknowledged write survives, whole, and a request
killed between its commit and its answer is recorded once however it is retried."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from rio.aggregates.recommendation import Recommendation
from rio.application.service import RIO
from tests.api.conftest import REC, REVIEW, cited
from tests.support.serving import free_port, secretariat_key, serve_env, wait_until_serving

RIO_COMMAND = str(Path(sys.executable).parent / "rio")
WRITERS = 4
NOTES_KILLED = 3  # with a registration and a batch: five kill cycles


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


def test_a_request_killed_between_commit_and_answer_is_recorded_once_when_retried(
    database_url: str, tmp_path: Path
) -> None:
    """Issue 13: each keyed request is killed (SIGKILL) after its events commit and before
    it answers; the same key and body sent to the restarted server replay the first answer
    at once (no pending window to wait out) and record nothing: every key once."""
    committed = tmp_path / "committed"
    env = serve_env(database_url, RIO_TEST_PAUSE_AFTER_COMMIT=str(committed))
    headers = {"Authorization": f"Bearer {secretariat_key(database_url)}"}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    # (Idempotency-Key, path, body, the version it records on recommendation 1 or None)
    requests: list[tuple[str, str, dict[str, object], int | None]] = [
        ("register", REC, cited("2022-06-08", number=1, title="Targeted interventions"), 1),
        *(
            (f"note-{i}", f"{REC}/1/progress-notes", cited(note=f"note {i}"), 2 + i)
            for i in range(NOTES_KILLED)
        ),
        (
            "batch",
            f"/reviews/{REVIEW}/batches",
            {
                "recommendations": [
                    {
                        **cited("2022-06-08", number=2, title="Shared services"),
                        "events": [{**cited(note="batch note"), "type": "progress_noted"}],
                    }
                ]
            },
            None,
        ),
    ]

    def send(key: str, path: str, body: dict[str, object]) -> httpx.Response:
        return httpx.post(
            f"{base}{path}",
            json=body,
            headers={**headers, "Idempotency-Key": key},
            timeout=60,
        )

    def send_and_lose_the_answer(key: str, path: str, body: dict[str, object]) -> None:
        try:
            answer = send(key, path, body)
        except httpx.TransportError:
            return  # killed before answering, as intended
        raise AssertionError(f"answered before the kill: {answer.status_code} {answer.text}")

    def retried(key: str, path: str, body: dict[str, object]) -> httpx.Response:
        retry = send(key, path, body)
        assert retry.status_code == 201, retry.text
        assert retry.headers.get("Idempotent-Replayed") == "true", (key, retry.headers)
        again = send(key, path, body)
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert again.json() == retry.json()
        return retry

    # Each server retries the request the previous one was killed in, then is killed in the
    # next one: one start per request, and one more to retry the last and read the store.
    replays: list[httpx.Response] = []
    for n, (key, path, body, _) in enumerate(requests):
        with serving(env, port, log) as server:
            if n:
                replays.append(retried(*requests[n - 1][:3]))
            committed.unlink(missing_ok=True)
            first = threading.Thread(target=send_and_lose_the_answer, args=(key, path, body))
            first.start()
            deadline = time.monotonic() + 30
            while not committed.exists():
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, f"{key} never committed:\n{log.read_text()}"
                time.sleep(0.02)
            os.kill(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
            first.join(timeout=30)
            assert not first.is_alive()
    with serving(env, port, log):
        replays.append(retried(*requests[-1][:3]))
        events = httpx.get(
            f"{base}{REC}/1/history", params={"page_size": 200}, headers=headers
        ).json()["events"]
        second = httpx.get(f"{base}{REC}/2/history", headers=headers).json()["events"]

    # Every keyed request recorded exactly once, at the version its replay names.
    assert [e["version"] for e in events] == list(range(1, NOTES_KILLED + 2))
    notes = [e["data"]["note"] for e in events if e["type"] == "ProgressNoted"]
    assert notes == [f"note {i}" for i in range(NOTES_KILLED)]
    for (key, _, _, version), replay in zip(requests, replays, strict=True):
        if version is not None:
            assert replay.json()["version"] == version, key
            assert replay.headers["ETag"] == f'"{version}"'
            assert same_event(replay.json()["event"], events[version - 1]), key
    assert [e["type"] for e in second] == ["Registered", "ProgressNoted"]
    assert replays[-1].json()["recorded"] == 2
    assert replays[-1].json()["recommendations"] == [{"number": 2, "version": 2}]


def same_event(answered: dict[str, Any], listed: dict[str, Any]) -> bool:
    """One event as a command's answer and as the history show it: the history writes the
    recorded time's UTC offset as "Z", the answer as "+00:00"."""
    when = {
        datetime.fromisoformat(e["recorded"].replace("Z", "+00:00")) for e in (answered, listed)
    }
    rest = [{k: v for k, v in e.items() if k != "recorded"} for e in (answered, listed)]
    return len(when) == 1 and rest[0] == rest[1]
