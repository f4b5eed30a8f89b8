"""Sixteen writers at once on one recommendation: no update lost, none recorded twice."""

from __future__ import annotations

import threading
from collections import Counter

from tests.api.conftest import REC, Api, cited, committed

THREADS = 16
NOTES_EACH = 2
ATTEMPTS = 200


def test_sixteen_concurrent_writers_lose_nothing_and_duplicate_nothing(api: Api) -> None:
    path = committed(api)
    acknowledged: list[tuple[str, int]] = []
    refusals: Counter[int] = Counter()
    unexpected: list[tuple[int, str]] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def writer(n: int) -> None:
        # Even writers send If-Match (re-reading the ETag after a 412); odd ones send none
        # and meet the store's own check (409) when another save got in first.
        careful = n % 2 == 0
        start.wait()
        for i in range(NOTES_EACH):
            note = f"writer {n} note {i}"
            for _ in range(ATTEMPTS):
                headers = {}
                if careful:
                    read = api.get(f"{path}/history/1")
                    if read.status_code != 200:
                        with lock:
                            unexpected.append((read.status_code, read.text))
                        return
                    headers["If-Match"] = read.headers["ETag"]
                response = api.post(f"{path}/progress-notes", cited(note=note), **headers)
                with lock:
                    if response.status_code == 201:
                        acknowledged.append((note, response.json()["version"]))
                        break
                    if response.status_code in (409, 412):
                        refusals[response.status_code] += 1
                        continue
                    unexpected.append((response.status_code, response.text))
                    return

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert unexpected == []
    assert len(acknowledged) == THREADS * NOTES_EACH

    events = api.get(f"{path}/history", page_size=200).json()["events"]
    noted = Counter(e["data"]["note"] for e in events if e["type"] == "ProgressNoted")
    assert noted == Counter(note for note, _ in acknowledged)  # each exactly once, none extra
    versions = {e["version"]: e["data"].get("note") for e in events}
    for note, version in acknowledged:
        assert versions[version] == note  # the version it was acknowledged with is its own
    assert sorted(versions) == list(range(1, len(events) + 1))
    assert set(refusals) <= {409, 412}
    head = api.client.get(f"{REC}/1", headers=api.as_("auditor")).headers["ETag"]
    assert head == f'"{len(events)}"'
