"""`rio audit` and the auditors' standalone verifier, run as an auditor would: subprocesses
against a real store (SQLite and PostgreSQL), with tampering done in plain SQL."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from rio.application.commands import NoteProgress, RegisterRecommendation
from rio.application.service import RIO
from rio.domain.values import Source
from rio.scenario import batches, read
from tests.conftest import MESSENGER, REPO
from tests.store.tamper import Tamperer
from tests.support.cli import run

TOOL = str(REPO / "tools" / "verify_rio_log.py")
SRC = Source("Written answer", date(2024, 5, 1), "work continues")


def ok(url: str, *args: str) -> str:
    done = run(url, *args)
    assert done.returncode == 0, (done.stdout, done.stderr)
    return done.stdout


def the_tool(*args: str) -> subprocess.CompletedProcess[str]:
    """The standalone verifier under a bare interpreter: no RIO, no venv, no site packages."""
    return subprocess.run(
        [sys.executable, "-I", "-S", TOOL, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def loaded(database_url: str) -> str:
    """The Messenger scenario, recorded in-process (the CLI's own load is tested elsewhere)."""
    scenario, lines = read(MESSENGER)
    rio = RIO(database_url)
    try:
        rio.record_batch(batches(scenario, lines, str(MESSENGER), "cli:test"))
    finally:
        rio.close()
    return database_url


def note_progress(url: str) -> None:
    """A further command, recorded after a digest was taken."""
    rio = RIO(url)
    try:
        first = next(iter(rio.all_events())).originator_id
        rio.handle(
            first,
            NoteProgress(
                note="still going", occurred=date(2024, 5, 1), source=SRC, recorded_by="s"
            ),
        )
    finally:
        rio.close()


def test_a_digest_taken_before_further_commands_verifies_afterwards(
    loaded: str, tmp_path: Path
) -> None:
    printed = json.loads(ok(loaded, "audit", "digest", "--output", str(tmp_path / "d.json")))
    kept = json.loads((tmp_path / "d.json").read_text(encoding="utf-8"))
    note_progress(loaded)

    output = ok(loaded, "audit", "verify", "--digest", str(tmp_path / "d.json"))

    assert printed == kept
    assert set(kept) == {"scheme", "position", "head_hash", "count", "time"}
    assert output.splitlines() == [output.strip()]
    assert output.startswith(f"OK: {kept['count'] + 1} events, {kept['count'] + 1} chained")
    assert output.rstrip().endswith("extends 1 digest(s)")


def test_a_tampered_event_fails_verification_with_one_line_and_status_1(loaded: str) -> None:
    Tamperer(loaded).flip_byte(12)

    done = run(loaded, "audit", "verify")

    assert done.returncode == 1
    assert done.stdout.splitlines() == [done.stdout.strip()]
    assert done.stdout.startswith("FAILED: changed at notification 12: ")
    assert "Traceback" not in done.stderr


def test_verify_json_names_the_kind_and_the_notification_id(loaded: str) -> None:
    Tamperer(loaded).swap(3, 30)

    done = run(loaded, "audit", "verify", "--json")

    assert done.returncode == 1
    failure = json.loads(done.stdout)["failure"]
    assert (failure["kind"], failure["notification_id"]) == ("reordered", 3)


def test_a_digest_from_a_rewritten_history_fails(loaded: str, tmp_path: Path) -> None:
    ok(loaded, "audit", "digest", "--output", str(tmp_path / "d.json"))
    tamperer = Tamperer(loaded)
    tamperer.backdate(20, days=400)
    tamperer.rechain()

    done = run(loaded, "audit", "verify", "--digest", str(tmp_path / "d.json"))

    assert done.returncode == 1
    assert done.stdout.startswith("FAILED: rewritten at notification ")


def test_an_export_verifies_with_the_standalone_tool_and_a_tampered_one_does_not(
    loaded: str, tmp_path: Path
) -> None:
    digest = tmp_path / "d.json"
    ok(loaded, "audit", "digest", "--output", str(digest))
    note_progress(loaded)
    export = tmp_path / "log.jsonl"
    said = ok(loaded, "audit", "export", "--output", str(export))

    honest = the_tool(str(export), "--digest", str(digest))

    assert honest.returncode == 0, honest.stdout + honest.stderr
    assert honest.stdout.startswith("OK: ")
    assert said.startswith(f"{export}: ")
    lines = export.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[10])
    record["topic"] = record["topic"] + "X"
    lines[10] = json.dumps(record)
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tampered = the_tool(str(export), "--digest", str(digest))
    assert tampered.returncode == 1
    assert tampered.stdout.startswith("FAILED: changed at notification 10: ")


def test_export_to_stdout_is_json_lines_with_a_header(loaded: str) -> None:
    lines = [json.loads(line) for line in ok(loaded, "audit", "export").splitlines()]

    assert lines[0]["rio_audit_export"] == 1
    assert [line["notification_id"] for line in lines[1:]] == list(range(1, len(lines)))


def test_chain_migrates_an_older_store_once(database_url: str) -> None:
    module = (
        "eventsourcing.postgres" if database_url.startswith("postgres") else "eventsourcing.sqlite"
    )
    older = RIO(database_url, env={"PERSISTENCE_MODULE": module})
    try:
        older.register_recommendation(
            RegisterRecommendation(
                review="r",
                number=1,
                title="t",
                text="",
                occurred=date(2022, 1, 1),
                source=SRC,
                recorded_by="s",
            )
        )
    finally:
        older.close()

    before = run(database_url, "audit", "verify")
    first = ok(database_url, "audit", "chain")
    second = ok(database_url, "audit", "chain")

    assert before.returncode == 1 and "rio audit chain" in before.stdout
    assert first.startswith("chained 1 events; chain head at notification 1")
    assert second.startswith("chained 0 events; chain head at notification 1")
    assert ok(database_url, "audit", "verify").startswith("OK: 1 events, 1 chained")


def test_an_unreadable_digest_is_a_one_line_refusal(loaded: str, tmp_path: Path) -> None:
    bad = tmp_path / "d.json"
    bad.write_text("{}", encoding="utf-8")

    done = run(loaded, "audit", "verify", "--digest", str(bad))

    assert done.returncode == 2
    assert done.stderr.splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith("rio: error: ") and str(bad) in done.stderr
