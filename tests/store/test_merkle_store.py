"""The Merkle tree on SQLite and PostgreSQL: written with every event, migrated once onto an
older store, and the checkpoints, proofs and witnesses built on it, attacked as an operator
with database access would attack them."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from rio.application.service import RIO
from rio.audit.checkpoints import (
    add_cosignature,
    check_consistency,
    check_inclusion,
    checkpoint,
    consistency_proof,
    current_size,
    inclusion_proof,
    require_quorum,
)
from rio.audit.notes import COSIGNATURE, Checkpoint, NoteError, Signer
from rio.audit.verification import Kind, chain_existing, verify
from rio.audit.witness import witness
from rio.persistence.chain import ChainError, encoding
from rio.persistence.merkle import ProofError
from tests.store.tamper import Tamperer
from tests.support.audit import note, record_history
from tests.unit.test_merkle import mth

LOG = Signer.generate("rio.test/log")


def merkle_table(t: Tamperer) -> str:
    return t.chain.replace("_chain", "_merkle")


def stored_leaves(rio: RIO) -> list[bytes]:
    recorder: Any = rio.recorder
    return [
        encoding(leaf.notification_id, leaf) for leaf in recorder.select_leaves(1, 10**6, 10**9)
    ]


def first_event(rio: RIO) -> tuple[uuid.UUID, int]:
    event = next(iter(rio.all_events()))
    return event.originator_id, event.originator_version


def test_every_event_is_a_leaf_written_with_it_and_the_root_is_rfc_9162s(rio: RIO) -> None:
    record_history(rio)

    assert current_size(rio) == 9
    signed = checkpoint(rio, LOG)
    assert signed.size == 9 and signed.root == mth(stored_leaves(rio))
    assert Checkpoint.parse(signed.text()).verify([LOG.verifier]) == LOG.verifier


def test_a_store_from_before_the_tree_is_migrated_once_all_or_nothing(
    rio: RIO, database_url: str
) -> None:
    record_history(rio)
    before = checkpoint(rio, LOG)
    t = Tamperer(database_url)
    with t.sql() as c:
        c.execute(f"DELETE FROM {merkle_table(t)}")  # as a store made before the tree

    with pytest.raises(ChainError, match="run `rio audit chain` once to build the tree"):
        note(rio, first_event(rio)[0], "refused until the tree is built")
    assert t.count("events") == 9

    chain_existing(rio)

    assert checkpoint(rio, LOG) == before
    note(rio, first_event(rio)[0], "recorded now")
    assert current_size(rio) == 10


def test_consistency_between_checkpoints_proves_growth_and_a_rewrite_is_refused(
    rio: RIO, database_url: str
) -> None:
    record_history(rio, notes=1)
    old = checkpoint(rio, LOG)
    note(rio, first_event(rio)[0], "later")
    new = checkpoint(rio, LOG)

    proof = consistency_proof(rio, LOG.name, old.size)
    check_consistency(proof, old, new)

    # The operator rewrites an early event and rebuilds chain and tree over the new history.
    t = Tamperer(database_url)
    t.flip_byte(2)
    with t.sql() as c:
        c.execute(f"DELETE FROM {merkle_table(t)}")
        c.execute(f"DELETE FROM {t.chain}")
    chain_existing(rio)
    rewritten = checkpoint(rio, LOG)
    with pytest.raises(ProofError, match="wrong path: the proof does not lead to the old root"):
        check_consistency(consistency_proof(rio, LOG.name, old.size), old, rewritten)
    with pytest.raises(ProofError, match="split view"):
        check_consistency(
            consistency_proof(rio, LOG.name, old.size, old.size),
            old,
            checkpoint(rio, LOG, old.size),
        )


def test_an_inclusion_proof_shows_one_event_is_in_a_checkpoints_tree(rio: RIO) -> None:
    record_history(rio)
    at = checkpoint(rio, LOG)
    originator, version = first_event(rio)

    proof = inclusion_proof(rio, LOG.name, originator, version)
    check_inclusion(proof, at)

    assert proof["notification_id"] == 1 and proof["leaf_index"] == 0
    older = checkpoint(rio, LOG, 4)
    with pytest.raises(ProofError, match="proof for another tree"):
        check_inclusion(proof, older)
    with pytest.raises(ProofError, match="no event"):
        inclusion_proof(rio, LOG.name, uuid.uuid4(), 1)


def test_a_checkpoint_signed_by_another_key_is_refused(rio: RIO) -> None:
    record_history(rio, recommendations=1, notes=0)
    other = Signer.generate("rio.test/log")
    forged = checkpoint(rio, other)
    with pytest.raises(NoteError, match="signed by another key"):
        forged.verify([LOG.verifier])
    altered = checkpoint(rio, LOG).text().replace("\n1\n", "\n2\n", 1)
    with pytest.raises(NoteError, match="altered or forged"):
        Checkpoint.parse(altered).verify([LOG.verifier])


class InProcessLog:
    """The log's audit API for a witness, answered by the audit functions themselves."""

    def __init__(self, rio: RIO, witnesses: list[Signer]) -> None:
        self.rio = rio
        self.witnesses = [w.verifier for w in witnesses]
        self.posted: list[str] = []

    def get(self, path: str) -> str:
        if path == "/audit/checkpoint":
            return checkpoint(self.rio, LOG).text()
        query = dict(part.split("=") for part in path.partition("?")[2].split("&"))
        return json.dumps(
            consistency_proof(self.rio, LOG.name, int(query["old"]), int(query["new"]))
        )

    def post(self, path: str, body: dict[str, Any]) -> str:
        self.posted.append(body["checkpoint"])
        return add_cosignature(self.rio, body["checkpoint"], self.witnesses).text()


def test_a_witness_cosigns_each_new_checkpoint_once_and_refuses_after_a_rewrite(
    rio: RIO, database_url: str, tmp_path: Path
) -> None:
    clerk = Signer.generate("clerk.example/witness", COSIGNATURE)
    sponsor = Signer.generate("sponsor.example/witness", COSIGNATURE)
    api = InProcessLog(rio, [clerk, sponsor])
    state = tmp_path / "clerk.json"
    record_history(rio, notes=0)

    assert witness(api, clerk, [LOG.verifier], state, 1_700_000_000).cosigned
    assert not witness(api, clerk, [LOG.verifier], state, 1_700_000_100).cosigned
    assert len(api.posted) == 1
    note(rio, first_event(rio)[0], "grown")
    assert witness(api, clerk, [LOG.verifier], state, 1_700_000_200).cosigned
    witness(api, sponsor, [LOG.verifier], tmp_path / "sponsor.json", 1_700_000_300)

    served = Checkpoint.parse(checkpoint(rio, LOG).text())
    assert require_quorum(served, [clerk.verifier, sponsor.verifier], 2) == [
        "clerk.example/witness",
        "sponsor.example/witness",
    ]
    with pytest.raises(NoteError, match=r"quorum not met: 1 of .*\(clerk.example/witness\)"):
        require_quorum(checkpoint(rio, LOG, 3), [clerk.verifier, sponsor.verifier], 2)

    # The operator rewrites history and re-chains it: the witness refuses to cosign.
    t = Tamperer(database_url)
    t.flip_byte(2)
    with t.sql() as c:
        c.execute(f"DELETE FROM {merkle_table(t)}")
        c.execute(f"DELETE FROM {t.chain}")
    chain_existing(rio)
    with pytest.raises(ProofError, match="split view"):
        witness(api, clerk, [LOG.verifier], state, 1_700_000_400)
    note(rio, first_event(rio)[0], "after the rewrite")
    with pytest.raises(ProofError, match="fork"):
        witness(api, clerk, [LOG.verifier], state, 1_700_000_500)
    assert len(api.posted) == 3  # clerk at sizes 3 and 4, sponsor at 4: nothing after


def test_a_cosignature_for_a_fork_or_by_an_unknown_witness_is_not_kept(rio: RIO) -> None:
    clerk = Signer.generate("clerk.example/witness", COSIGNATURE)
    stranger = Signer.generate("stranger.example/witness", COSIGNATURE)
    record_history(rio, recommendations=1, notes=1)
    at = checkpoint(rio, LOG)
    fork = Checkpoint(at.origin, at.size, bytes(32)).signed(LOG)
    with pytest.raises(ProofError, match="split view"):
        add_cosignature(rio, fork.with_lines([fork.cosigned(clerk, 1)]).text(), [clerk.verifier])
    with pytest.raises(NoteError, match="no valid cosignature"):
        add_cosignature(rio, at.with_lines([at.cosigned(stranger, 1)]).text(), [clerk.verifier])
    assert checkpoint(rio, LOG).signatures == at.signatures


def test_verify_rebuilds_the_tree_and_reports_an_edited_row(rio: RIO, database_url: str) -> None:
    record_history(rio)
    t = Tamperer(database_url)
    with t.sql() as c:
        c.execute(t.q("UPDATE {merkle} SET hashes = {p} WHERE leaf = 4"), (bytes(32),))

    result = verify(rio)

    assert result.failure is not None and result.failure.kind == Kind.TREE
    assert result.failure.notification_id == 5
    assert "row for leaf 4 was edited outside RIO" in result.failure.detail
