"""The idempotency table alone: a first try runs, retries replay, a stale try is taken over."""

from __future__ import annotations

import time

from rio.api.idempotency import IdempotencyStore, Stored
from rio.projections.read_model import make_engine


def test_a_key_runs_once_then_replays_and_refuses_another_request(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        store = IdempotencyStore(engine, pending_seconds=60)
        assert store.begin("k1", "a", "hash-1").run
        assert store.begin("k1", "a", "hash-1").clash == "in-progress"
        assert store.begin("k2", "a", "hash-1").run  # another key holder's "a"
        store.complete("k1", "a", Stored(201, {"ETag": '"3"'}, {"version": 3}))
        replay = store.begin("k1", "a", "hash-1").stored
        assert replay == Stored(201, {"ETag": '"3"'}, {"version": 3})
        assert store.begin("k1", "a", "hash-2").clash == "different-request"
        store.release("k1", "a")  # only an unfinished record is released
        assert store.begin("k1", "a", "hash-1").stored is not None
    finally:
        engine.dispose()


def test_an_abandoned_first_try_is_taken_over_by_one_retry(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        store = IdempotencyStore(engine, pending_seconds=0.05)
        assert store.begin("k", "a", "h").run
        time.sleep(0.1)
        assert store.begin("k", "a", "h").run  # the first process died mid-request
        assert store.begin("k", "a", "h").clash == "in-progress"
    finally:
        engine.dispose()
