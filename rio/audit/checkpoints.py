"""Signed checkpoints of the Merkle tree, and the proofs an auditor checks them with.

A checkpoint says "the log held this tree, of this size, with this root" under the log's
key; a consistency proof shows a later checkpoint's tree extends an earlier one; an
inclusion proof shows one event is a leaf of a checkpoint's tree. Each is computed from the
stored tree's nodes (rio.persistence.merkle): O(log n) rows, never a rescan. Witnesses add
cosignatures, which RIO keeps and serves with its checkpoints.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

import structlog

from rio.audit.notes import COSIGNATURE, NOTE, Checkpoint, NoteError, Signer, Verifier
from rio.audit.verification import Store, recorder_of
from rio.persistence.chain import encoding, refuse_unchained
from rio.persistence.merkle import (
    ProofError,
    TreeError,
    TreeRecorder,
    consistency_path,
    from_rows,
    inclusion_path,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

CONSISTENCY = "rio-consistency/1"
INCLUSION = "rio-inclusion/1"

log = structlog.get_logger("rio.audit")


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def unb64(text: object, what: str) -> bytes:
    try:
        return base64.b64decode(str(text), validate=True)
    except (binascii.Error, ValueError):
        raise ProofError(f"{what} is not base64") from None


# --- keys ----------------------------------------------------------------------------------


def read_signer(path: Path | None, setting: str = "RIO_AUDIT_SIGNING_KEY_FILE") -> Signer:
    """The log's signing key; without one, say how to make one."""
    if path is None:
        raise NoteError(
            f"no signing key: run `rio audit keygen --output FILE`, then set {setting}=FILE"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise NoteError(f"cannot read the signing key {path} ({setting}): {error}") from None
    signer = Signer.parse(text, f"{path} ({setting})")
    return signer


def read_verifiers(path: Path | None, source: str) -> list[Verifier]:
    """Verifier keys, one a line (blank lines and # comments skipped)."""
    if path is None:
        return []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise NoteError(f"cannot read {source} {path}: {error}") from None
    return [
        Verifier.parse(line, f"{path} line {n}")
        for n, line in enumerate(lines, start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]


def published_keys(signer: Signer, earlier: Sequence[Verifier]) -> list[Verifier]:
    """The current key first, then each earlier key once: old checkpoints stay verifiable."""
    keys = [signer.verifier]
    keys += [k for k in earlier if k.kind == NOTE and k not in keys]
    return keys


# --- tree heads ----------------------------------------------------------------------------


def tree_of(rio: Store) -> TreeRecorder:
    recorder = recorder_of(rio)
    if isinstance(recorder, TreeRecorder):
        return recorder
    raise TreeError(f"{type(recorder).__name__} keeps no Merkle tree: open the store through RIO")


def current_size(rio: Store) -> int:
    """The tree's size now; refused while events are unchained or the tree trails the chain."""
    recorder = recorder_of(rio)
    newest = recorder.max_notification_id()
    head = recorder.chain_head()
    refuse_unchained(head, newest)
    size, tail = tree_of(rio).tree_tail()
    if tail != (head.notification_id if head else None):
        raise TreeError(
            f"the Merkle tree ends at notification {tail or 0}, the chain at "
            f"{head.notification_id if head else 0}: run `rio audit chain` once to build it"
        )
    return size


def root_at(rio: Store, size: int) -> bytes:
    tree = tree_of(rio)
    have = tree.tree_tail()[0]
    if not 0 <= size <= have:
        raise TreeError(f"the log's tree has {have} leaves, not {size}")
    return from_rows(lambda node: root(node, size), tree.tree_rows)


def checkpoint(rio: Store, signer: Signer, size: int | None = None) -> Checkpoint:
    """The signed checkpoint at `size` (default: now), with the cosignatures RIO holds."""
    at = current_size(rio) if size is None else size
    tree_root = root_at(rio, at)
    signed = Checkpoint(signer.name, at, tree_root).signed(signer)
    return signed.with_lines(tree_of(rio).cosignatures(at, tree_root))


# --- proofs --------------------------------------------------------------------------------


def consistency_proof(rio: Store, origin: str, old: int, new: int | None = None) -> dict[str, Any]:
    to = current_size(rio) if new is None else new
    if not 0 <= old <= to:
        raise ProofError(f"wrong size: cannot prove size {old} grew into size {to}")
    tree = tree_of(rio)
    old_root, new_root = root_at(rio, old), root_at(rio, to)
    path = from_rows(lambda node: consistency_path(node, old, to), tree.tree_rows)
    return {
        "rio_proof": CONSISTENCY,
        "origin": origin,
        "old_size": old,
        "old_root": b64(old_root),
        "new_size": to,
        "new_root": b64(new_root),
        "path": [b64(h) for h in path],
    }


def inclusion_proof(
    rio: Store, origin: str, originator_id: UUID, version: int, size: int | None = None
) -> dict[str, Any]:
    tree = tree_of(rio)
    at = current_size(rio) if size is None else size
    recorder = recorder_of(rio)
    found = tree.notification_of(originator_id, version)
    if found is None:
        raise ProofError(f"no event {originator_id} version {version} is recorded")
    index = tree.tree_leaf(found)
    if index is None or index >= at:
        raise ProofError(
            f"the event at notification {found} is not in the tree of size {at} "
            "(it was recorded after that checkpoint)"
        )
    (leaf,) = recorder.select_leaves(found, 1, found)
    encoded = encoding(found, leaf)
    path = from_rows(lambda node: inclusion_path(node, index, at), tree.tree_rows)
    return {
        "rio_proof": INCLUSION,
        "origin": origin,
        "size": at,
        "root": b64(root_at(rio, at)),
        "leaf_index": index,
        "notification_id": found,
        "originator_id": str(originator_id),
        "originator_version": version,
        "encoding": b64(encoded),
        "path": [b64(h) for h in path],
    }


def check_consistency(proof: dict[str, Any], old: Checkpoint, new: Checkpoint) -> None:
    """The proof takes `old`'s tree to `new`'s (signatures are checked by the caller)."""
    try:
        claimed = (int(proof["old_size"]), int(proof["new_size"]))
        path = [unb64(h, "a hash in the path") for h in proof["path"]]
        roots = (unb64(proof["old_root"], "old_root"), unb64(proof["new_root"], "new_root"))
    except (KeyError, TypeError, ValueError) as error:
        raise ProofError(f"not a RIO consistency proof: {error}") from None
    if old.size == new.size and old.root != new.root:
        raise ProofError(
            f"split view: two checkpoints of size {old.size} with different root hashes"
        )
    if claimed != (old.size, new.size):
        raise ProofError(
            f"proof for another tree: it goes from size {claimed[0]} to {claimed[1]}, the "
            f"checkpoints are sizes {old.size} and {new.size}"
        )
    # The path is checked against the checkpoints' roots, never the proof's own.
    verify_consistency(old.size, new.size, path, old.root, new.root)
    if roots != (old.root, new.root):
        raise ProofError("proof for another tree: its root hashes are not the checkpoints'")


def check_inclusion(proof: dict[str, Any], at: Checkpoint) -> None:
    try:
        index, size = int(proof["leaf_index"]), int(proof["size"])
        path = [unb64(h, "a hash in the path") for h in proof["path"]]
        claimed_root = unb64(proof["root"], "root")
        leaf = leaf_hash(unb64(proof["encoding"], "encoding"))
    except (KeyError, TypeError, ValueError) as error:
        raise ProofError(f"not a RIO inclusion proof: {error}") from None
    if size != at.size:
        raise ProofError(
            f"proof for another tree: it is for size {size}, the checkpoint is size {at.size}"
        )
    verify_inclusion(index, size, leaf, path, at.root)
    if claimed_root != at.root:
        raise ProofError("proof for another tree: its root hash is not the checkpoint's")


# --- cosignatures --------------------------------------------------------------------------


def add_cosignature(rio: Store, text: str, witnesses: Sequence[Verifier]) -> Checkpoint:
    """Keep the cosignatures in `text` (a checkpoint a witness cosigned) from known witnesses,
    each checked against the tree RIO holds at that size."""
    cosigned = Checkpoint.parse(text, "the cosigned checkpoint")
    known = [w for w in witnesses if w.kind == COSIGNATURE]
    if not known:
        raise NoteError(
            "RIO knows no witness keys: list them (one vkey a line) in RIO_AUDIT_WITNESS_KEYS_FILE"
        )
    tree = tree_of(rio)
    if cosigned.size > tree.tree_tail()[0] or root_at(rio, cosigned.size) != cosigned.root:
        raise ProofError(
            f"split view: the cosigned checkpoint of size {cosigned.size} is not the tree RIO "
            "holds at that size"
        )
    kept = found = 0
    for line in cosigned.signatures:
        one = Checkpoint(cosigned.origin, cosigned.size, cosigned.root, (line,))
        if any(one.cosigned_by(witness) is not None for witness in known):
            found += 1
            kept += tree.add_cosignature(cosigned.size, cosigned.root, line)
    if not found:
        raise NoteError(
            "the checkpoint carries no valid cosignature by a witness RIO knows "
            f"({', '.join(w.name for w in known)})"
        )
    log.info("audit_cosigned", size=cosigned.size, kept=kept)
    return cosigned


def cosigners(at: Checkpoint, witnesses: Sequence[Verifier]) -> list[str]:
    return [w.name for w in witnesses if at.cosigned_by(w) is not None]


def require_quorum(at: Checkpoint, witnesses: Sequence[Verifier], quorum: int) -> list[str]:
    names = cosigners(at, witnesses)
    if len(names) < quorum:
        raise NoteError(
            f"quorum not met: {len(names)} of the named witnesses cosigned this checkpoint "
            f"({', '.join(names) or 'none'}), {quorum} required"
        )
    return names
