"""The tamper-evident log on SQLite and PostgreSQL: every event chained as it is recorded;
edits made with plain SQL behind RIO's back are detected, classified and located."""

from __future__ import annotations

import base64
import io
import itertools
import json
import threading
import uuid
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent
from hypothesis import given
from hypothesis import strategies as st
from structlog.testing import capture_logs

from rio.application.service import RIO
from rio.audit.verification import (
    Digest,
    Kind,
    Verification,
    chain_existing,
    digest,
    export,
    verify,
)
from rio.domain.errors import VersionConflict
from rio.persistence import postgres as chained_postgres
from rio.persistence import sqlite as chained_sqlite
from rio.persistence.chain import GENESIS, ChainError, Leaf, link_hash, noncanonical
from tests.store.tamper import Tamperer
from tests.support.audit import SRC, note, record_history, register, tool


def failure_of(result: Verification) -> tuple[Kind, int]:
    assert result.failure is not None, result
    return result.failure.kind, result.failure.notification_id


@pytest.fixture
def recorded(rio: RIO, database_url: str) -> Tamperer:
    record_history(rio)
    assert rio.position() == 9
    return Tamperer(database_url)


# --- writing -------------------------------------------------------------------------------


def test_every_event_is_chained_in_the_transaction_that_records_it(rio: RIO) -> None:
    record_history(rio)

    result = verify(rio)

    assert result.ok, result.line()
    assert (result.events, result.chained, result.position) == (9, 9, 9)
    links = rio.recorder.select_links(1, 100)  # type: ignore[attr-defined]
    assert [link.notification_id for link in links] == list(range(1, 10))
    assert links[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(links))
    assert result.head_hash == links[-1].hash


def test_a_refused_write_leaves_neither_event_nor_chain_entry(rio: RIO, recorded: Tamperer) -> None:
    rec = next(iter(rio.all_events())).originator_id
    stale = rio.get(rec)
    note(rio, rec, "first")
    stale.note_progress(note="second", occurred=date(2023, 1, 2), source=SRC, recorded_by="s")

    with pytest.raises(VersionConflict):
        rio._save(stale)

    assert recorded.count("events") == recorded.count("chain") == 10
    assert verify(rio).ok


def test_a_failure_while_chaining_records_nothing(
    rio: RIO, recorded: Tamperer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: Any) -> Any:
        raise RuntimeError("chaining failed")

    monkeypatch.setattr(chained_sqlite, "extend", fail)
    monkeypatch.setattr(chained_postgres, "extend", fail)
    rec = next(iter(rio.all_events())).originator_id

    with pytest.raises(RuntimeError, match="chaining failed"):
        note(rio, rec, "never recorded")

    monkeypatch.undo()
    assert recorded.count("events") == recorded.count("chain") == 9
    note(rio, rec, "recorded")
    assert verify(rio).ok


def test_concurrent_writers_never_link_to_the_same_predecessor(database_url: str) -> None:
    apps = [RIO(database_url) for _ in range(4)]
    errors: list[BaseException] = []

    def write(app: RIO, number: int) -> None:
        try:
            rec = register(app, number)
            for k in range(10):
                note(app, rec, f"note {k}")
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(app, n)) for n, app in enumerate(apps, 1)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        result = verify(apps[0])
    finally:
        for app in apps:
            app.close()

    assert not errors
    assert result.ok, result.line()
    assert result.chained == 44


# --- tampering, located --------------------------------------------------------------------


def test_one_changed_byte_in_an_events_body_is_changed_at_its_notification_id(
    rio: RIO, recorded: Tamperer
) -> None:
    recorded.flip_byte(5)

    result = verify(rio)

    assert failure_of(result) == (Kind.CHANGED, 5)
    assert result.failure is not None and "version 2" in result.failure.detail


def test_a_moved_recorded_timestamp_is_changed_at_its_notification_id(
    rio: RIO, recorded: Tamperer
) -> None:
    recorded.backdate(7)

    assert failure_of(verify(rio)) == (Kind.CHANGED, 7)


def test_a_deleted_event_is_missing_at_its_notification_id(rio: RIO, recorded: Tamperer) -> None:
    recorded.delete(4)

    assert failure_of(verify(rio)) == (Kind.MISSING, 4)


def test_a_deleted_event_with_its_chain_entry_is_missing_after_its_predecessor(
    rio: RIO, recorded: Tamperer
) -> None:
    recorded.delete(4)
    recorded.delete_link(4)

    result = verify(rio)

    assert failure_of(result) == (Kind.MISSING, 5)
    assert result.failure is not None and "after notification 3" in result.failure.detail


def test_two_swapped_events_are_reordered_where_the_first_one_now_sits(
    rio: RIO, recorded: Tamperer
) -> None:
    recorded.swap(3, 8)

    result = verify(rio)

    assert failure_of(result) == (Kind.REORDERED, 3)
    assert result.failure is not None and "chained at notification 8" in result.failure.detail


def test_an_inserted_event_is_inserted_at_its_notification_id(rio: RIO, recorded: Tamperer) -> None:
    added = recorded.insert(like=9, version=99)

    result = verify(rio)

    assert failure_of(result) == (Kind.INSERTED, added)
    assert result.failure is not None and "version 99" in result.failure.detail


def test_new_writes_are_refused_while_unchained_rows_sit_in_the_log(
    rio: RIO, recorded: Tamperer
) -> None:
    recorded.insert(like=9, version=99)
    rec = next(iter(rio.all_events())).originator_id

    with pytest.raises(ChainError, match="rio audit chain"):
        note(rio, rec, "refused")


def test_a_removed_last_event_stays_missing_after_later_writes(
    rio: RIO, recorded: Tamperer, database_url: str
) -> None:
    recorded.delete(9)
    rec = next(iter(rio.all_events())).originator_id

    if database_url.startswith("sqlite"):
        # SQLite would hand the next event rowid 9 again: RIO refuses rather than re-chain it.
        with pytest.raises(ChainError, match="already chained"):
            note(rio, rec, "after the deletion")
    else:
        note(rio, rec, "after the deletion")

    assert failure_of(verify(rio)) == (Kind.MISSING, 9)


# --- digests -------------------------------------------------------------------------------


def test_a_digest_taken_earlier_verifies_after_more_commands(rio: RIO) -> None:
    record_history(rio)
    earlier = digest(rio)
    rec = next(iter(rio.all_events())).originator_id
    for k in range(3):
        note(rio, rec, f"later {k}")

    result = verify(rio, [earlier])

    assert (earlier.position, earlier.count) == (9, 9)
    assert result.ok and result.digests == 1, result.line()
    assert result.position == 12


def test_a_digest_survives_a_round_trip_through_json(rio: RIO) -> None:
    record_history(rio)
    taken = digest(rio)

    assert Digest.from_json(json.loads(json.dumps(taken.to_json()))) == taken


def test_a_rewritten_and_rechained_history_fails_against_an_earlier_digest(
    rio: RIO, recorded: Tamperer
) -> None:
    earlier = digest(rio)
    recorded.flip_byte(2)
    forged = recorded.rechain()

    assert verify(rio).ok  # the forger made the chain consistent again...
    result = verify(rio, [earlier])  # ...but not with what the auditor kept
    assert failure_of(result) == (Kind.REWRITTEN, 9)
    assert not verify(rio, [forged, earlier]).ok


def test_a_log_truncated_after_a_digest_fails_against_it(rio: RIO, recorded: Tamperer) -> None:
    earlier = digest(rio)
    recorded.truncate(keep=6)

    assert verify(rio).ok
    assert failure_of(verify(rio, [earlier])) == (Kind.TRUNCATED, 9)


def test_an_empty_store_has_the_genesis_digest(rio: RIO) -> None:
    empty = digest(rio)
    register(rio, 1)

    assert (empty.position, empty.head_hash, empty.count) == (0, GENESIS, 0)
    assert verify(rio, [empty]).ok


# --- export and the independent verifier ----------------------------------------------------


def exported(rio: RIO) -> list[dict[str, Any]]:
    out = io.StringIO()
    export(rio, out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def write_lines(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def write_digest(path: Path, taken: Digest) -> Path:
    path.write_text(json.dumps(taken.to_json()), encoding="utf-8")
    return path


def test_an_export_has_a_header_and_every_event_with_its_chain_entry(rio: RIO) -> None:
    record_history(rio)
    header, *lines = exported(rio)
    event = rio.recorder.select_notifications(1, 1)[0]

    assert header["rio_audit_export"] == 1 and header["position"] == 9
    assert len(lines) == 9
    first = lines[0]
    assert first["originator_id"] == str(event.originator_id)
    assert (first["originator_version"], first["topic"]) == (1, event.topic)
    assert base64.b64decode(first["state"]) == event.state
    assert first["prev_hash"] == GENESIS
    assert header["head_hash"] == lines[-1]["hash"]


def test_the_independent_verifier_accepts_an_honest_export_and_digest(
    rio: RIO, tmp_path: Path
) -> None:
    record_history(rio)
    earlier = write_digest(tmp_path / "digest.json", digest(rio))
    register(rio, 4)
    export_file = write_lines(tmp_path / "log.jsonl", exported(rio))

    assert tool.main([str(export_file), "--digest", str(earlier)]) == 0


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        ("flip", "changed at notification 5"),
        ("drop", "missing at notification 7"),
        ("swap", "reordered at notification 2"),
        ("unchain", "inserted at notification 8"),
        ("cut", "truncated at notification 9"),
    ],
)
def test_the_independent_verifier_locates_a_tampered_export(
    rio: RIO,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    tamper: str,
    expected: str,
) -> None:
    record_history(rio)
    header, *lines = exported(rio)
    if tamper == "flip":
        state = bytearray(base64.b64decode(lines[4]["state"]))
        state[len(state) // 2] ^= 0x01
        lines[4]["state"] = base64.b64encode(bytes(state)).decode()
    elif tamper == "drop":
        del lines[5]
    elif tamper == "swap":
        for key in ("originator_id", "originator_version", "topic", "state"):
            lines[1][key], lines[6][key] = lines[6][key], lines[1][key]
    elif tamper == "unchain":
        lines[7]["prev_hash"] = lines[7]["hash"] = None
    elif tamper == "cut":
        lines = lines[:-1]
    export_file = write_lines(tmp_path / "log.jsonl", [header, *lines])
    capsys.readouterr()

    status = tool.main([str(export_file)])

    assert status == 1
    assert capsys.readouterr().out.startswith(f"FAILED: {expected}")


def test_the_independent_verifier_rejects_an_export_of_rewritten_history(
    rio: RIO, recorded: Tamperer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    earlier = write_digest(tmp_path / "digest.json", digest(rio))
    recorded.flip_byte(3)
    recorded.rechain()
    export_file = write_lines(tmp_path / "log.jsonl", exported(rio))

    assert tool.main([str(export_file)]) == 0
    assert tool.main([str(export_file), "--digest", str(earlier)]) == 1
    assert (
        capsys.readouterr().out.splitlines()[-1].startswith("FAILED: rewritten at notification 9")
    )


def test_the_independent_verifier_refuses_files_that_are_not_exports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bogus = tmp_path / "bogus.jsonl"
    bogus.write_text('{"hello": 1}\n', encoding="utf-8")

    assert tool.main([str(bogus)]) == 2
    assert "not a RIO audit export" in capsys.readouterr().err


ORIGINATORS = st.uuids().map(str) | st.text(min_size=1, max_size=40)


@given(
    prev=st.binary(min_size=32, max_size=32).map(bytes.hex),
    notification_id=st.integers(min_value=1, max_value=2**63 - 1),
    originator_id=ORIGINATORS,
    version=st.integers(min_value=1, max_value=2**63 - 1),
    topic=st.text(max_size=80),
    state=st.binary(max_size=300),
)
def test_the_independent_verifier_hashes_exactly_as_rio_does(
    prev: str, notification_id: int, originator_id: str, version: int, topic: str, state: bytes
) -> None:
    ours = link_hash(prev, notification_id, StoredEvent(originator_id, version, topic, state))

    assert tool.link_hash(prev, notification_id, originator_id, version, topic, state) == ours


def test_the_leaf_encoding_of_a_canonical_row_is_unchanged_so_older_chains_verify() -> None:
    """The hash pinned here was computed by the chain code released before stored values
    were read as stored (commit 41d4754)."""
    leaf = Leaf(
        7, "7b749f3c-e5e7-52d7-aff0-d33593280b50", 3, "rio:Recommendation.ProgressNoted", b"{}"
    )
    released = StoredEvent(uuid.UUID(leaf.originator_id), 3, leaf.topic, b"{}")

    assert link_hash(GENESIS, 7, leaf) == link_hash(GENESIS, 7, released)
    assert link_hash(GENESIS, 7, leaf) == (
        "a70f9d2dc7607586821f8d46b842bef234aa9687e334e8bc56a0c7dad5d353b3"
    )


@given(
    originator_id=ORIGINATORS,
    version=st.integers() | st.text(max_size=5),
    topic=st.text(max_size=20),
)
def test_the_independent_verifier_finds_the_same_keys_non_canonical_as_rio(
    originator_id: str, version: int | str, topic: str
) -> None:
    leaf = Leaf(1, originator_id, version, topic, b"{}")

    assert (tool.noncanonical(originator_id, version, topic) is None) == (
        noncanonical(leaf) is None
    )


def test_a_field_boundary_cannot_be_moved_without_changing_the_hash() -> None:
    def h(originator_id: str, topic: str) -> str:
        return str(link_hash(GENESIS, 1, StoredEvent(originator_id, 1, topic, b"{}")))

    assert h("ab", "c") != h("a", "bc")


# --- chaining an older store ----------------------------------------------------------------


def plain_rio(url: str) -> RIO:
    """RIO on eventsourcing's own recorders: a store from before tamper evidence."""
    module = "eventsourcing.postgres" if url.startswith("postgres") else "eventsourcing.sqlite"
    return RIO(url, env={"PERSISTENCE_MODULE": module})


def test_an_older_unchained_store_is_chained_once_by_the_migration(database_url: str) -> None:
    older = plain_rio(database_url)
    try:
        record_history(older)
    finally:
        older.close()
    rio = RIO(database_url)
    try:
        assert failure_of(verify(rio)) == (Kind.INSERTED, 1)
        with pytest.raises(ChainError, match="rio audit chain"):
            digest(rio)
        rec = next(iter(rio.all_events())).originator_id
        with pytest.raises(ChainError, match="rio audit chain"):
            note(rio, rec, "refused until chained")

        with capture_logs() as logs:
            first = chain_existing(rio)
        again = chain_existing(rio)
        note(rio, rec, "recorded once chained")
        result = verify(rio)
    finally:
        rio.close()

    assert (first.chained, first.position) == (9, 9)
    assert (again.chained, again.position, again.head_hash) == (0, 9, first.head_hash)
    assert result.ok and result.chained == 10, result.line()
    assert [(e["event"], e["log_level"]) for e in logs] == [
        ("audit_chain_started", "info"),
        ("audit_chain_migrated", "warning"),
    ]
    assert logs[-1]["chained"] == 9


def test_the_migration_will_not_vouch_for_rows_added_behind_an_existing_chain(
    rio: RIO, recorded: Tamperer
) -> None:
    added = recorded.insert(like=9, version=99)

    with pytest.raises(ChainError, match="--extend"):
        chain_existing(rio)
    assert failure_of(verify(rio)) == (Kind.INSERTED, added)

    assert chain_existing(rio, extend=True).chained == 1
    assert verify(rio).ok


def test_a_case_changed_id_on_sqlite_is_changed_at_its_row_though_it_parses_as_the_same_uuid(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SQLite finds events by the id's exact text: one upper-cased hex letter hides the event
    from its aggregate, so it is tampering even though the id still names the same UUID."""
    with closing(RIO(sqlite_url)) as rio:
        record_history(rio)
        tamperer = Tamperer(sqlite_url)
        stored = tamperer.value("events", "originator_id", 5)
        k = next(i for i, c in enumerate(stored) if c.isalpha())
        tamperer.write(
            "events", "originator_id", 5, "{p}", stored[:k] + stored[k].upper() + stored[k + 1 :]
        )

        result = verify(rio)
        export_file = write_lines(tmp_path / "log.jsonl", exported(rio))
        capsys.readouterr()

        assert failure_of(result) == (Kind.CHANGED, 5)
        assert (
            result.failure is not None
            and "originator id is stored as text" in result.failure.detail
        )
        assert tool.main([str(export_file)]) == 1
        assert capsys.readouterr().out.startswith("FAILED: changed at notification 5:")


def test_the_migration_will_not_chain_a_row_whose_key_is_not_canonical(sqlite_url: str) -> None:
    older = plain_rio(sqlite_url)
    try:
        record_history(older)
    finally:
        older.close()
    tamperer = Tamperer(sqlite_url)
    tamperer.write(
        "events",
        "originator_id",
        4,
        "{p}",
        "{" + tamperer.value("events", "originator_id", 4) + "}",
    )

    with (
        closing(RIO(sqlite_url)) as rio,
        pytest.raises(ChainError, match="notification 4 was edited"),
    ):
        chain_existing(rio)
    assert tamperer.count("chain") == 0


def test_the_migration_will_not_extend_a_broken_chain(rio: RIO, recorded: Tamperer) -> None:
    recorded.flip_byte(2)

    with pytest.raises(ChainError, match="changed at notification 2"):
        chain_existing(rio, extend=True)
