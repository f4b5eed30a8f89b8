"""Commands that arrive together commit together (rio.api.services.GroupCommit): each gets its
own outcome, a refusal records nothing and costs the others nothing, and nothing is lost or
recorded twice, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date
from uuid import UUID, uuid4

from rio.aggregates.recommendation import Recommendation
from rio.api.services import GroupCommit
from rio.application.commands import NoteProgress
from rio.application.service import RIO, Written
from rio.domain.errors import NotFound, VersionConflict
from tests.support import commands

THREADS = 12
NOTES_EACH = 5


def note(text: str) -> NoteProgress:
    return NoteProgress(
        note=text, occurred=date(2023, 1, 1), source=commands.SOURCE, recorded_by="test"
    )


def test_commands_recorded_together_each_get_their_own_outcome(rio: RIO) -> None:
    one = commands.register(rio, "review", 1, date(2022, 1, 1))
    two = commands.register(rio, "review", 2, date(2022, 1, 1))
    head = rio.position()
    outcomes = rio.record_together(
        [
            (one, note("a"), None),
            (two, note("b"), 1),
            (one, note("c"), None),  # the same recommendation again: the next version
            (two, note("stale"), 1),  # two is at version 2 by now
            (uuid4(), note("nowhere"), None),
        ]
    )
    assert outcomes is not None
    first, second, third, stale, nowhere = outcomes
    assert isinstance(first, Written) and first.event.originator_version == 2
    assert isinstance(second, Written) and second.event.originator_version == 2
    assert isinstance(third, Written) and third.event.originator_version == 3
    assert isinstance(stale, VersionConflict) and isinstance(nowhere, NotFound)
    # One transaction: the three events took the next three positions in the log.
    positions = sorted(w.position for w in (first, second, third))
    assert positions == [head + 1, head + 2, head + 3]
    notes = [e.note for e in rio.events_after(head) if isinstance(e, Recommendation.ProgressNoted)]
    assert sorted(notes) == ["a", "b", "c"]
    assert rio.get(one).version == 3 and rio.get(two).version == 2
    assert rio.event(one, 3).note == "c"  # type: ignore[attr-defined]


def test_many_threads_through_one_group_commit_lose_nothing_and_duplicate_nothing(
    rio: RIO,
) -> None:
    recs = [commands.register(rio, "review", n, date(2022, 1, 1)) for n in (1, 2, 3)]
    for rec in recs:  # so version 1, which every fourth command expects, is gone
        rio.handle(rec, note("first"))
    group = GroupCommit(rio, threading.RLock)
    written: list[tuple[UUID, str, int]] = []
    refused: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def writer(n: int) -> None:
        start.wait()
        for i in range(NOTES_EACH):
            rec = recs[(n + i) % len(recs)]
            text = f"writer {n} note {i}"
            try:
                # Every fourth sends an expected version that is long gone.
                done = group.record(rec, note(text), 1 if i == 3 else None)
            except VersionConflict as conflict:
                with lock:
                    refused.append(conflict)
                continue
            with lock:
                written.append((rec, text, done.event.originator_version))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(refused) == THREADS  # exactly the stale ones
    assert len(written) == THREADS * (NOTES_EACH - 1)
    stored = Counter(
        (e.originator_id, e.note)
        for e in rio.all_events()
        if isinstance(e, Recommendation.ProgressNoted)
    )
    assert all(stored[(rec, text)] == 1 for rec, text, _ in written)
    assert sum(stored.values()) == len(written) + len(recs)
    for rec in recs:
        versions = sorted(v for r, _, v in written if r == rec)
        assert versions == list(range(3, 3 + len(versions)))
        assert rio.get(rec).version == 2 + len(versions)
