"""The Merkle tree's definition, its stored-row layout, and its proofs: checked against RFC
9162's recursive definition, for random sizes, by RIO and by the standalone verifier alike,
and attacked (forged proofs, single-bit changes) so that each forgery is refused by name."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Collection, Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rio.persistence import merkle
from rio.persistence.merkle import ProofError, TreeError
from tests.support.audit import tool


def mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1, as written there."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return merkle.leaf_hash(leaves[0])
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return merkle.node_hash(mth(leaves[:k]), mth(leaves[k:]))


def stored(leaves: list[bytes], chunks: list[int]) -> dict[int, bytes]:
    """The rows the recorders write, appended in the given batch sizes."""
    rows: dict[int, bytes] = {}
    size = 0
    cuts = [0]
    for chunk in chunks:
        cuts.append(min(len(leaves), cuts[-1] + chunk))
    cuts.append(len(leaves))
    for start, end in itertools.pairwise(cuts):
        frontier = {row: rows[row] for _, row in merkle.frontier_rows(size)}
        batch = [(i + 1, merkle.leaf_hash(leaves[i])) for i in range(start, end)]
        for row in merkle.append(size, frontier, batch):
            rows[row.leaf] = row.hashes
        size = end
    return rows


def fetch(rows: Mapping[int, bytes]) -> Callable[[Collection[int]], dict[int, bytes]]:
    return lambda wanted: {r: rows[r] for r in wanted if r in rows}


def flip(raw: bytes, bit: int) -> bytes:
    bit %= len(raw) * 8
    changed = bytearray(raw)
    changed[bit // 8] ^= 1 << (bit % 8)
    return bytes(changed)


VERIFIERS = [
    (merkle.verify_inclusion, merkle.verify_consistency, ProofError),
    (tool.verify_inclusion, tool.verify_consistency, tool.Refused),
]

sizes = st.integers(min_value=1, max_value=140)


@settings(max_examples=60, deadline=None)
@given(n=sizes, data=st.data())
def test_stored_rows_give_rfc_9162_roots_and_proofs_that_verify(
    n: int, data: st.DataObject
) -> None:
    leaves = [f"event {i}".encode() for i in range(n)]
    chunks = data.draw(st.lists(st.integers(1, 40), max_size=6))
    rows = stored(leaves, chunks)
    m = data.draw(st.integers(0, n))
    index = data.draw(st.integers(0, n - 1))
    root_n = merkle.from_rows(lambda node: merkle.root(node, n), fetch(rows))
    root_m = merkle.from_rows(lambda node: merkle.root(node, m), fetch(rows))
    assert root_n == mth(leaves) and root_m == mth(leaves[:m])
    inclusion = merkle.from_rows(lambda node: merkle.inclusion_path(node, index, n), fetch(rows))
    consistency = merkle.from_rows(lambda node: merkle.consistency_path(node, m, n), fetch(rows))
    assert len(inclusion) <= max(1, n - 1).bit_length()
    assert len(consistency) <= 2 * max(1, n).bit_length()
    leaf = merkle.leaf_hash(leaves[index])
    for verify_inclusion, verify_consistency, _ in VERIFIERS:
        verify_inclusion(index, n, leaf, inclusion, root_n)
        verify_consistency(m, n, consistency, root_m, root_n)


@settings(max_examples=80, deadline=None)
@given(n=st.integers(2, 100), data=st.data())
def test_any_single_bit_changed_in_a_proof_fails(n: int, data: st.DataObject) -> None:
    leaves = [f"event {i}".encode() for i in range(n)]
    rows = stored(leaves, [])
    m = data.draw(st.integers(1, n - 1))
    index = data.draw(st.integers(0, n - 1))
    root_n, root_m = mth(leaves), mth(leaves[:m])
    inclusion = merkle.from_rows(lambda node: merkle.inclusion_path(node, index, n), fetch(rows))
    consistency = merkle.from_rows(lambda node: merkle.consistency_path(node, m, n), fetch(rows))
    leaf = merkle.leaf_hash(leaves[index])
    bit = data.draw(st.integers(0, 2**16))
    which = data.draw(st.sampled_from(["leaf", "root", "path"]))
    for verify_inclusion, verify_consistency, refused in VERIFIERS:
        if which == "leaf":
            with pytest.raises(refused):
                verify_inclusion(index, n, flip(leaf, bit), inclusion, root_n)
            with pytest.raises(refused):
                verify_consistency(m, n, consistency, flip(root_m, bit), root_n)
        elif which == "root":
            with pytest.raises(refused):
                verify_inclusion(index, n, leaf, inclusion, flip(root_n, bit))
            with pytest.raises(refused):
                verify_consistency(m, n, consistency, root_m, flip(root_n, bit))
        else:
            if inclusion:
                k = bit % len(inclusion)
                forged = [*inclusion[:k], flip(inclusion[k], bit), *inclusion[k + 1 :]]
                with pytest.raises(refused):
                    verify_inclusion(index, n, leaf, forged, root_n)
            k = bit % len(consistency)
            forged = [*consistency[:k], flip(consistency[k], bit), *consistency[k + 1 :]]
            with pytest.raises(refused):
                verify_consistency(m, n, forged, root_m, root_n)


LEAVES = [f"event {i}".encode() for i in range(13)]
ROWS = stored(LEAVES, [5, 1, 4])


def path_for(index: int, size: int) -> list[bytes]:
    return merkle.from_rows(lambda node: merkle.inclusion_path(node, index, size), fetch(ROWS))


def proof_for(old: int, new: int) -> list[bytes]:
    return merkle.from_rows(lambda node: merkle.consistency_path(node, old, new), fetch(ROWS))


@pytest.mark.parametrize(("verify_inclusion", "verify_consistency", "refused"), VERIFIERS)
def test_forged_inclusion_proofs_are_refused_by_name(
    verify_inclusion: Callable[..., None], verify_consistency: Callable[..., None], refused: type
) -> None:
    leaf, root = merkle.leaf_hash(LEAVES[5]), mth(LEAVES)
    path = path_for(5, 13)
    with pytest.raises(refused, match="wrong size"):
        verify_inclusion(5, 6, leaf, path, root)  # claims a size the path does not fit
    with pytest.raises(refused, match="wrong path"):
        verify_inclusion(5, 12, leaf, path, mth(LEAVES[:12]))  # the tree of another size
    with pytest.raises(refused, match="wrong size"):
        verify_inclusion(5, 13, leaf, path[:-1], root)  # a hash left out
    with pytest.raises(refused, match="wrong size"):
        verify_inclusion(13, 13, leaf, path, root)  # an index beyond the tree
    with pytest.raises(refused, match="wrong path"):
        verify_inclusion(5, 13, leaf, [path[1], path[0], *path[2:]], root)  # swapped siblings
    with pytest.raises(refused, match="wrong path"):
        verify_inclusion(4, 13, leaf, path, root)  # the path of another leaf's position
    other = [b"x" + leaf for leaf in LEAVES]
    with pytest.raises(refused, match="wrong path"):  # a proof from another tree
        verify_inclusion(5, 13, merkle.leaf_hash(other[5]), path, mth(other))


@pytest.mark.parametrize(("verify_inclusion", "verify_consistency", "refused"), VERIFIERS)
def test_forged_consistency_proofs_are_refused_by_name(
    verify_inclusion: Callable[..., None], verify_consistency: Callable[..., None], refused: type
) -> None:
    old, new = mth(LEAVES[:6]), mth(LEAVES)
    proof = proof_for(6, 13)
    verify_consistency(6, 13, proof, old, new)
    with pytest.raises(refused, match="wrong path"):
        verify_consistency(6, 12, proof, old, mth(LEAVES[:12]))  # the tree of another size
    with pytest.raises(refused, match="wrong size"):
        verify_consistency(6, 7, proof, old, mth(LEAVES[:7]))  # a size the proof cannot fit
    with pytest.raises(refused, match="wrong size"):
        verify_consistency(6, 13, proof[:-1], old, new)
    with pytest.raises(refused, match="wrong path"):
        verify_consistency(6, 13, [proof[1], proof[0], *proof[2:]], old, new)  # swapped
    rewritten = [*LEAVES[:2], b"rewritten", *LEAVES[3:]]
    with pytest.raises(refused, match="wrong path"):  # the old tree was rewritten
        verify_consistency(6, 13, proof, old, mth(rewritten))
    with pytest.raises(refused, match="split view"):
        verify_consistency(6, 6, [], old, mth(rewritten[:6]))
    with pytest.raises(refused, match="wrong size"):
        verify_consistency(7, 6, [], old, new)  # a smaller tree cannot extend a larger one


def test_a_missing_tree_row_is_a_clear_refusal_not_a_wrong_answer() -> None:
    rows = dict(ROWS)
    del rows[7]
    with pytest.raises(TreeError, match="row for leaf 7 is missing"):
        merkle.from_rows(lambda node: merkle.root(node, 13), fetch(rows))


def test_rows_hold_each_perfect_subtree_at_its_last_leaf() -> None:
    rows = stored(LEAVES[:8], [3])
    # leaf 7 completes subtrees of 1, 2, 4 and 8 leaves; leaf 6 only itself
    assert len(rows[7]) == 4 * 32 and len(rows[6]) == 32 and len(rows[5]) == 2 * 32
    assert rows[7][3 * 32 :] == mth(LEAVES[:8])
