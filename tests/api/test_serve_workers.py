"""`rio serve --workers 2`: several API processes on one store, exactly one read-model
follower beside them; every acknowledged write recorded once, and every read sees the
writes acknowledged before it, whichever worker took them (issue 16)."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from rio.application.service import RIO
from rio.persistence.locks import store_lock
from rio.runtime import FOLLOWER
from tests.api.conftest import REC, cited
from tests.api.test_serve_kill import RIO_COMMAND
from tests.support.serving import free_port, secretariat_key, serve_env, wait_until_serving

WORKERS = 2
CLIENTS = 6
NOTES_EACH = 15
RECOMMENDATIONS = 3


@contextmanager
def serving_workers(env: dict[str, str], port: int, log: Path) -> Iterator[None]:
    with log.open("ab") as out:
        server = subprocess.Popen(
            [
                *(RIO_COMMAND, "serve", "--host", "127.0.0.1", "--port", str(port)),
                *("--workers", str(WORKERS), "--no-scheduler"),
            ],
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        # Generous: N workers and a follower import the whole stack at once.
        wait_until_serving(f"http://127.0.0.1:{port}", server, log, seconds=180)
        yield
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)  # as Ctrl-C: workers and follower stop too
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def log_lines(log: Path) -> list[dict[str, object]]:
    lines = []
    for text in log.read_text().splitlines():
        if text.startswith("{"):
            lines.append(json.loads(text))
    return lines


def test_two_workers_record_every_acknowledged_write_once_with_one_follower(
    database_url: str, tmp_path: Path
) -> None:
    env = serve_env(database_url)
    headers = {"Authorization": f"Bearer {secretariat_key(database_url)}"}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    acknowledged: list[tuple[int, str, int]] = []
    stale_reads: list[str] = []
    problems: list[str] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        number = 1 + n % RECOMMENDATIONS
        # A new connection per request, so requests spread over the workers.
        for i in range(NOTES_EACH):
            note = f"client {n} note {i}"
            answer = httpx.post(
                f"{base}{REC}/{number}/progress-notes",
                json=cited(note=note),
                headers=headers,
                timeout=60,
            )
            if answer.status_code != 201:
                with lock:
                    problems.append(f"{answer.status_code} {answer.text}")
                continue
            version = answer.json()["version"]
            with lock:
                acknowledged.append((number, note, version))
            # Read it back at once (on whichever worker): the read model shows it.
            read = httpx.get(f"{base}{REC}/{number}", headers=headers, timeout=60)
            if read.status_code != 200 or int(read.headers["ETag"].strip('"')) < version:
                with lock:
                    stale_reads.append(f"{note}: wrote {version}, read {read.text[:200]}")

    with serving_workers(env, port, log):
        for number in range(1, RECOMMENDATIONS + 1):
            registered = httpx.post(
                f"{base}{REC}",
                json=cited("2022-06-08", number=number, title=f"Recommendation {number}"),
                headers=headers,
                timeout=60,
            )
            assert registered.status_code == 201, registered.text
        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        # While serving: the store's follower lock is held, by the one follower.
        assert not store_lock(database_url, FOLLOWER).acquire()

    # Version conflicts (two clients on one recommendation at once) are the only refusal.
    assert all(p.startswith("409") for p in problems), problems
    assert len(acknowledged) + len(problems) == CLIENTS * NOTES_EACH
    assert len(acknowledged) >= CLIENTS * NOTES_EACH // 2
    assert stale_reads == []

    lines = log_lines(log)
    started = [line for line in lines if line["event"] == "read_model_follower_started"]
    assert len(started) == 1, started
    assert not any(line.get("level") == "error" for line in lines), log.read_text()

    rio = RIO(database_url)
    try:
        for number in range(1, RECOMMENDATIONS + 1):
            events = rio.find("messenger-2022", number).version
            mine = [a for a in acknowledged if a[0] == number]
            assert events == 1 + len(mine), (number, events, len(mine))
        notes = Counter((e.originator_id, getattr(e, "note", None)) for e in rio.all_events())
        for number, note, _ in acknowledged:
            assert notes[(rio.find("messenger-2022", number).id, note)] == 1, note
    finally:
        rio.close()
