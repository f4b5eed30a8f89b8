"""Signed checkpoints and proofs as an auditor uses them: `rio audit` in a subprocess, the
standalone verifier under a bare interpreter (no RIO, no `cryptography`) and with one, and
the same over the API, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from rio.audit.notes import COSIGNATURE, Checkpoint, Signer, Verifier
from rio.audit.witness import witness
from tests.api.conftest import Api, committed, register, settings_for, start
from tests.api.test_serve_kill import RIO_COMMAND, serving
from tests.e2e.test_audit_cli import TOOL, loaded, note_progress, ok, the_tool
from tests.support.cli import refused
from tests.support.serving import free_port

__all__ = ["loaded"]


def the_tool_with_cryptography(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, TOOL, *args], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture
def signing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loaded: str) -> tuple[str, str]:
    """A log key made by `rio audit keygen`, named by RIO_AUDIT_SIGNING_KEY_FILE."""
    key = tmp_path / "log.key"
    vkey = ok(loaded, "audit", "keygen", "--output", str(key), "--name", "rio.test/log").strip()
    monkeypatch.setenv("RIO_AUDIT_SIGNING_KEY_FILE", str(key))
    return loaded, vkey


def test_without_a_signing_key_checkpoints_are_refused_saying_how_to_make_one(
    loaded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RIO_AUDIT_SIGNING_KEY_FILE", raising=False)
    line = refused(loaded, "audit", "checkpoint")
    assert "rio audit keygen --output FILE" in line and "RIO_AUDIT_SIGNING_KEY_FILE" in line


def test_keygen_never_overwrites_a_key(signing: tuple[str, str], tmp_path: Path) -> None:
    url, _ = signing
    line = refused(url, "audit", "keygen", "--output", str(tmp_path / "log.key"))
    assert "never overwrites" in line


def test_an_auditor_proves_growth_and_inclusion_without_the_log(
    signing: tuple[str, str], tmp_path: Path
) -> None:
    url, vkey = signing
    assert ok(url, "audit", "public-key").splitlines() == [vkey]
    old, new = tmp_path / "old.checkpoint", tmp_path / "new.checkpoint"
    ok(url, "audit", "checkpoint", "--output", str(old))
    note_progress(url)
    ok(url, "audit", "checkpoint", "--output", str(new))
    proof = tmp_path / "consistency.json"
    ok(url, "audit", "prove", "consistency", "--from", str(old), "--to", str(new), "-o", str(proof))
    inclusion = tmp_path / "inclusion.json"
    ok(url, "audit", "prove", "inclusion", "--event", "messenger-2022:1:1", "-o", str(inclusion))
    size = Checkpoint.parse(new.read_text()).size
    assert len(json.loads(proof.read_text())["path"]) <= 2 * size.bit_length()

    bare = the_tool("consistency", str(proof), "--from", str(old), "--to", str(new), "--key", vkey)
    assert bare.returncode == 0, bare.stdout + bare.stderr
    assert bare.stdout.startswith("OK: the log grew from size")
    assert "signatures NOT checked (install `cryptography`" in bare.stdout
    signed = the_tool_with_cryptography(
        "consistency", str(proof), "--from", str(old), "--to", str(new), "--key", vkey
    )
    assert signed.returncode == 0 and "signed by the log" in signed.stdout, signed.stdout
    included = the_tool_with_cryptography(
        "inclusion", str(inclusion), "--checkpoint", str(new), "--key", vkey
    )
    assert included.returncode == 0, included.stdout + included.stderr
    # the proof names the event's own leaf: its notification id less one (the review-wide
    # stream's events come before recommendation 1's)
    leaf = json.loads(inclusion.read_text())["leaf_index"]
    assert leaf == json.loads(inclusion.read_text())["notification_id"] - 1
    assert f"is leaf {leaf} of the tree of size" in included.stdout

    # The same proof against the old checkpoint is a proof for another tree.
    other = the_tool("inclusion", str(inclusion), "--checkpoint", str(old))
    assert other.returncode == 1 and "FAILED: proof for another tree" in other.stdout


def test_the_verifier_refuses_a_checkpoint_signed_by_another_key_and_a_split_view(
    signing: tuple[str, str], tmp_path: Path
) -> None:
    url, vkey = signing
    real = tmp_path / "real.checkpoint"
    ok(url, "audit", "checkpoint", "--output", str(real))
    at = Checkpoint.parse(real.read_text())
    impostor = Signer.generate("rio.test/log")
    forged = tmp_path / "forged.checkpoint"
    forged.write_text(Checkpoint(at.origin, at.size, bytes(32)).signed(impostor).text())
    proof = tmp_path / "same.json"
    proof.write_text(
        json.dumps(
            {
                "rio_proof": "rio-consistency/1",
                "old_size": at.size,
                "old_root": "",
                "new_size": at.size,
                "new_root": "",
                "path": [],
            }
        )
    )
    args = ("consistency", str(proof), "--from", str(real), "--to", str(forged))
    other_key = the_tool_with_cryptography(*args, "--key", vkey)
    assert other_key.returncode == 1
    assert "FAILED: another key" in other_key.stdout
    split = the_tool(*args)
    assert split.returncode == 1 and "FAILED: split view" in split.stdout


@pytest.fixture
def keyed_api(database_url: str, tmp_path: Path) -> Iterator[tuple[Api, Signer, Signer]]:
    log, clerk = Signer.generate("rio.test/log"), Signer.generate("clerk.example/w", COSIGNATURE)
    (tmp_path / "log.key").write_text(log.skey())
    (tmp_path / "witnesses").write_text(clerk.verifier.vkey() + "\n")
    settings = settings_for(
        database_url,
        audit_signing_key_file=tmp_path / "log.key",
        audit_witness_keys_file=tmp_path / "witnesses",
    )
    for api in start(settings):
        yield api, log, clerk


class ApiLog:
    """The witness's view of the log, through the API's test client with an auditor key."""

    def __init__(self, api: Api) -> None:
        self.api = api

    def get(self, path: str) -> str:
        answer = self.api.client.get(path, headers=self.api.as_("auditor"))
        assert answer.status_code == 200, answer.text
        return str(answer.text)

    def post(self, path: str, body: dict[str, Any]) -> str:
        answer = self.api.client.post(path, json=body, headers=self.api.as_("auditor"))
        assert answer.status_code == 200, answer.text
        return str(answer.text)


def test_auditors_and_witnesses_use_the_same_proofs_over_the_api(
    keyed_api: tuple[Api, Signer, Signer], tmp_path: Path
) -> None:
    api, log, clerk = keyed_api
    register(api)
    assert api.get("/audit/public-key", role="auditor").text == log.verifier.vkey() + "\n"
    assert api.get("/audit/checkpoint", role="secretariat").status_code == 403
    state = tmp_path / "clerk.json"
    assert witness(ApiLog(api), clerk, [log.verifier], state, 1_700_000_000).cosigned
    committed(api, number=2)
    assert witness(ApiLog(api), clerk, [log.verifier], state, 1_700_000_100).cosigned

    served = Checkpoint.parse(api.get("/audit/checkpoint", role="auditor").text)
    served.verify([log.verifier])
    assert served.cosigned_by(clerk.verifier) == 1_700_000_100
    proof = api.get("/audit/proof/consistency", role="auditor", old=1).json()
    assert proof["old_size"] == 1 and proof["new_size"] == served.size
    inclusion = api.get(
        "/audit/proof/inclusion", role="auditor", review="messenger-2022", number=2, version=1
    )
    assert inclusion.status_code == 200, inclusion.text
    assert inclusion.json()["size"] == served.size
    checkpoint_file, proof_file = tmp_path / "served.checkpoint", tmp_path / "proof.json"
    checkpoint_file.write_text(served.text())
    proof_file.write_text(json.dumps(inclusion.json()))
    stranger = Signer.generate("stranger.example/w", COSIGNATURE)
    named = ("--witness", clerk.verifier.vkey(), "--witness", stranger.verifier.vkey())
    args = ("inclusion", str(proof_file), "--checkpoint", str(checkpoint_file), *named)
    quorum_of_one = the_tool_with_cryptography(*args, "--quorum", "1")
    assert quorum_of_one.returncode == 0, quorum_of_one.stdout
    assert "cosigned by clerk.example/w" in quorum_of_one.stdout
    quorum_of_two = the_tool_with_cryptography(*args, "--quorum", "2")
    assert quorum_of_two.returncode == 1
    assert "FAILED: quorum not met" in quorum_of_two.stdout
    signed_only = Checkpoint(served.origin, served.size, served.root, served.signatures[:1])
    answer = api.post(
        "/audit/cosignatures",
        {"checkpoint": signed_only.with_lines([served.cosigned(stranger, 1)]).text()},
        role="auditor",
    )
    assert answer.status_code == 422 and "no valid cosignature" in answer.text
    assert "stranger" not in api.get("/audit/checkpoint", role="auditor").text


def test_every_export_carries_the_signed_checkpoint_it_rests_on(
    keyed_api: tuple[Api, Signer, Signer],
) -> None:
    api, log, _ = keyed_api
    committed(api, number=1)
    served = Checkpoint.parse(api.get("/audit/checkpoint", role="auditor").text)
    table = list(csv.reader(io.StringIO(api.get("/exports/tracker.csv", role="auditor").text)))
    assert table[-2] == [] and table[-1][0] == "checkpoint"
    in_csv = Checkpoint.parse(table[-1][1])
    assert in_csv.verify([log.verifier]) == log.verifier
    assert (in_csv.size, in_csv.root) == (served.size, served.root)
    book = openpyxl.load_workbook(
        io.BytesIO(api.get("/exports/tracker.xlsx", role="auditor").content)
    )
    assert Checkpoint.parse(book["Checkpoint"]["B1"].value).root == served.root


def test_a_printed_report_names_its_checkpoint(signing: tuple[str, str]) -> None:
    url, _ = signing
    printed = ok(url, "report", "promised-vs-delivered", "--promised-as-at", "2023-01-01")
    checkpoint_line = printed.strip().splitlines()[-1]
    assert checkpoint_line.startswith("Checkpoint: tree size ") and "(signed)" in checkpoint_line


def test_status_and_the_json_report_carry_the_signed_checkpoint_they_rest_on(
    signing: tuple[str, str],
) -> None:
    url, vkey = signing
    verifier = Verifier.parse(vkey)
    printed = ok(url, "status", "--as-at", "2024-10-01")
    assert printed.strip().splitlines()[-1].startswith("Checkpoint: tree size ")
    answers = [
        json.loads(ok(url, "status", "--as-at", "2024-10-01", "--json")),
        json.loads(
            ok(url, "report", "promised-vs-delivered", "--promised-as-at", "2023-11-30", "--json")
        ),
    ]
    for answer in answers:
        stamp = answer["checkpoint"]
        signed = Checkpoint.parse(stamp["checkpoint"])
        assert signed.verify([verifier]) == verifier
        assert (signed.size, base64.b64encode(signed.root).decode()) == (
            stamp["size"],
            stamp["root"],
        )
    assert answers[0]["checkpoint"]["size"] == answers[1]["checkpoint"]["size"]


def test_without_a_signing_key_the_json_answers_still_carry_size_and_root(
    loaded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RIO_AUDIT_SIGNING_KEY_FILE", raising=False)
    stamp = json.loads(ok(loaded, "status", "--json"))["checkpoint"]
    assert stamp["size"] > 0 and stamp["root"] and stamp["checkpoint"] is None
    printed = ok(loaded, "status").strip().splitlines()[-1]
    assert printed.startswith("Checkpoint: tree size ") and "unsigned" in printed


def test_the_witness_command_cosigns_a_served_log_once_per_checkpoint(tmp_path: Path) -> None:
    """`rio audit witness` against `rio serve` over HTTP: the witness's whole round trip."""
    url = f"sqlite:///{tmp_path / 'rio.db'}"
    env = {**os.environ, "RIO_DATABASE_URL": url, "RIO_API_RATE_PER_MINUTE": "0"}
    env.pop("RIO_AUDIT_SIGNING_KEY_FILE", None)

    def rio(*args: str, **more: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [RIO_COMMAND, *args], env={**env, **more}, capture_output=True, text=True, timeout=120
        )

    log_vkey = rio("audit", "keygen", "-o", str(tmp_path / "log.key")).stdout.strip()
    clerk = rio(
        "audit", "keygen", "--witness", "--name", "clerk.example/w", "-o", str(tmp_path / "w.key")
    )
    (tmp_path / "witnesses").write_text(clerk.stdout)
    env["RIO_AUDIT_SIGNING_KEY_FILE"] = str(tmp_path / "log.key")
    env["RIO_AUDIT_WITNESS_KEYS_FILE"] = str(tmp_path / "witnesses")
    auditor = rio("keys", "create", "--name", "clerk", "--role", "auditor").stdout.strip()
    note_progress_or_register(url)
    port = free_port()
    witness_args = (
        "audit",
        "witness",
        "--log",
        f"http://127.0.0.1:{port}",
        "--key",
        str(tmp_path / "w.key"),
        "--log-key",
        log_vkey,
        "--state",
        str(tmp_path / "state.json"),
    )
    with serving(env, port, tmp_path / "serve.log"):
        first = rio(*witness_args, RIO_AUDIT_API_KEY=auditor)
        again = rio(*witness_args, RIO_AUDIT_API_KEY=auditor)
        note_progress_or_register(url)
        grown = rio(*witness_args, RIO_AUDIT_API_KEY=auditor)
        served = rio("audit", "checkpoint").stdout
        unauthorised = rio(*witness_args)
    assert first.returncode == 0, first.stderr
    size = int(first.stdout.removeprefix("cosigned the checkpoint of size "))
    assert "already cosigned: nothing new" in again.stdout, again.stderr
    assert grown.stdout == f"cosigned the checkpoint of size {size + 1}\n", grown.stderr
    assert "\u2014 clerk.example/w " in served
    assert unauthorised.returncode == 2 and "answered 401" in unauthorised.stderr


def note_progress_or_register(url: str) -> None:
    """One more event: a registration the first time, then a progress note."""
    from rio.application.service import RIO
    from tests.support.audit import note, register

    app = RIO(url)
    try:
        events = list(app.all_events())
        if events:
            note(app, events[0].originator_id, "more")
        else:
            register(app, 1)
    finally:
        app.close()
