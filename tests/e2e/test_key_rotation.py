"""Rotating the log's signing key as an operator does it, end to end: a new key under the
same name, the old public key kept in RIO_AUDIT_PUBLIC_KEYS_FILE; both are published, and
growth from a checkpoint the old key signed to one the new key signed is proved and
verified without the log, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from rio.audit.notes import Checkpoint
from tests.e2e.test_audit_cli import loaded, note_progress, ok
from tests.e2e.test_audit_proofs import the_tool_with_cryptography

__all__ = ["loaded"]


def test_a_rotated_key_keeps_the_old_checkpoints_provable(
    loaded: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = loaded
    old_key, new_key = tmp_path / "2025.key", tmp_path / "2026.key"
    old_vkey = ok(url, "audit", "keygen", "--output", str(old_key), "--name", "rio.test/log")
    monkeypatch.setenv("RIO_AUDIT_SIGNING_KEY_FILE", str(old_key))
    before = tmp_path / "before.checkpoint"
    ok(url, "audit", "checkpoint", "--output", str(before))

    new_vkey = ok(url, "audit", "keygen", "--output", str(new_key), "--name", "rio.test/log")
    earlier = tmp_path / "earlier-keys.txt"
    earlier.write_text(old_vkey, encoding="utf-8")
    monkeypatch.setenv("RIO_AUDIT_SIGNING_KEY_FILE", str(new_key))
    monkeypatch.setenv("RIO_AUDIT_PUBLIC_KEYS_FILE", str(earlier))
    note_progress(url)
    after = tmp_path / "after.checkpoint"
    ok(url, "audit", "checkpoint", "--output", str(after))

    published = ok(url, "audit", "public-key").splitlines()
    assert published == [new_vkey.strip(), old_vkey.strip()]
    assert Checkpoint.parse(after.read_text()).size > Checkpoint.parse(before.read_text()).size
    proof = tmp_path / "growth.json"
    ok(
        url,
        "audit",
        "prove",
        "consistency",
        "--from",
        str(before),
        "--to",
        str(after),
        "-o",
        str(proof),
    )
    keys = [arg for vkey in published for arg in ("--key", vkey)]

    verified = the_tool_with_cryptography(
        "consistency", str(proof), "--from", str(before), "--to", str(after), *keys
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "signed by the log" in verified.stdout

    # Without the old key the old checkpoint no longer verifies: rotation needs the file.
    only_new = the_tool_with_cryptography(
        "consistency", str(proof), "--from", str(before), "--to", str(after), "--key", new_vkey
    )
    assert only_new.returncode == 1 and "FAILED: another key" in only_new.stdout
