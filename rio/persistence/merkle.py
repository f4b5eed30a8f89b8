"""The Merkle tree over the event log: RFC 9162's shape, stored so that proofs need no rescan.

    leaf hash  = SHA-256(0x00 || encoding(event))        (rio.persistence.chain.encoding)
    node hash  = SHA-256(0x01 || left || right)
    MTH(D[n])  = RFC 9162 §2.1.1: the left subtree is the largest power of two below n

Leaf i is the i-th chained event in notification-id order (0-based). The tree is stored one
row per leaf, written in the transaction that records the event beside its chain link: row
i holds, concatenated, the hash of every perfect subtree whose last leaf is i, from level 0
(the leaf itself) up. Node (level l, index j) is therefore the 32 bytes at offset 32*l of row
(j + 1) * 2**l - 1. Appending reads the O(log n) rows holding the right edge of the tree (the
"frontier") and writes one row; a tree head at any size and any proof read O(log n) rows.

`tools/verify_rio_log.py` restates the verification half on purpose (an auditor must not
need RIO's code); tests/unit/test_merkle.py proves the two agree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import NamedTuple, Protocol, TypeVar, runtime_checkable
from uuid import UUID

from rio.domain.errors import DomainError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # RFC 9162: MTH({}) = SHA-256()


class TreeError(DomainError):
    """The stored tree cannot answer: it was altered, or it does not cover the chain."""


class ProofError(DomainError):
    """A proof that does not prove what it claims: each message names the failed check."""


def leaf_hash(encoded: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + encoded).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class Row(NamedTuple):
    """One stored row of the tree: a leaf and the perfect subtrees it completes."""

    leaf: int
    notification_id: int
    hashes: bytes


def row_of(level: int, index: int) -> int:
    """The leaf row that stores node (level, index): the subtree's last leaf."""
    return ((index + 1) << level) - 1


def frontier_rows(size: int) -> list[tuple[int, int]]:
    """(level, row) of the perfect subtrees a tree of `size` leaves decomposes into, left
    (largest) to right: what appending the next leaf needs."""
    return [
        (level, row_of(level, (size >> level) - 1))
        for level in range(size.bit_length() - 1, -1, -1)
        if size >> level & 1
    ]


def _slice(rows: Mapping[int, bytes], level: int, row: int) -> bytes:
    stored = rows.get(row)
    node = stored[level * HASH_SIZE : (level + 1) * HASH_SIZE] if stored is not None else b""
    if len(node) != HASH_SIZE:
        raise TreeError(
            f"the Merkle tree's row for leaf {row} is missing or cut short (it should hold "
            f"level {level}): the tree table was altered; run `rio audit verify`"
        )
    return node


def append(
    size: int, frontier: Mapping[int, bytes], leaves: Iterable[tuple[int, bytes]]
) -> list[Row]:
    """Rows for `leaves` (notification id, leaf hash) appended to a tree of `size` leaves,
    given its frontier rows (row -> stored hashes)."""
    stack = [(level, _slice(frontier, level, row)) for level, row in frontier_rows(size)]
    rows = []
    leaf = size
    for notification_id, hashed in leaves:
        level, node, completed = 0, hashed, [hashed]
        while stack and stack[-1][0] == level:
            node = node_hash(stack.pop()[1], node)
            level += 1
            completed.append(node)
        stack.append((level, node))
        rows.append(Row(leaf, notification_id, b"".join(completed)))
        leaf += 1
    return rows


# --- tree heads and proofs from stored nodes ------------------------------------------------

Node = Callable[[int, int], bytes]  # (level, index) -> hash
T = TypeVar("T")


def _largest_power_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def subtree_root(node: Node, start: int, end: int) -> bytes:
    """MTH(D[start:end]) for a range the RFC 9162 recursion produces."""
    n = end - start
    if n == 0:
        return EMPTY_ROOT
    if n & (n - 1) == 0:
        level = n.bit_length() - 1
        return node(level, start >> level)
    k = _largest_power_below(n)
    return node_hash(subtree_root(node, start, start + k), subtree_root(node, start + k, end))


def root(node: Node, size: int) -> bytes:
    return subtree_root(node, 0, size)


def inclusion_path(node: Node, index: int, size: int) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(index, D[size])."""

    def path(start: int, end: int) -> list[bytes]:
        if end - start == 1:
            return []
        k = _largest_power_below(end - start)
        if index < start + k:
            return [*path(start, start + k), subtree_root(node, start + k, end)]
        return [*path(start + k, end), subtree_root(node, start, start + k)]

    return path(0, size)


def consistency_path(node: Node, old: int, new: int) -> list[bytes]:
    """RFC 9162 §2.1.4.1 PROOF(old, D[new]); empty when old is 0 or old == new."""

    def subproof(start: int, end: int, complete: bool) -> list[bytes]:
        if old == end:
            return [] if complete else [subtree_root(node, start, end)]
        k = _largest_power_below(end - start)
        if old - start <= k:
            return [*subproof(start, start + k, complete), subtree_root(node, start + k, end)]
        return [*subproof(start + k, end, False), subtree_root(node, start, start + k)]

    if old == 0 or old == new:
        return []
    return subproof(0, new, True)


def from_rows(
    compute: Callable[[Node], T], fetch: Callable[[Collection[int]], Mapping[int, bytes]]
) -> T:
    """Run `compute` over stored nodes with one read: a first pass records which nodes it
    asks for (the recursion never depends on their values), `fetch` reads their rows."""
    wanted: set[int] = set()

    def record(level: int, index: int) -> bytes:
        wanted.add(row_of(level, index))
        return bytes(HASH_SIZE)

    compute(record)
    rows = fetch(wanted) if wanted else {}
    return compute(lambda level, index: _slice(rows, level, row_of(level, index)))


# --- verification (restated in tools/verify_rio_log.py) --------------------------------------


def verify_inclusion(
    index: int, size: int, leaf: bytes, path: Sequence[bytes], expected_root: bytes
) -> None:
    """RFC 9162 §2.1.3.2; raises ProofError naming the check that failed."""
    if not 0 <= index < size:
        raise ProofError(f"wrong size: leaf {index} is not in a tree of {size} leaves")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ProofError(
                f"wrong size: the path has {len(path)} hashes, more than a tree of {size} "
                "leaves needs"
            )
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(
            f"wrong size: the path has {len(path)} hashes, fewer than a tree of {size} leaves needs"
        )
    if r != expected_root:
        raise ProofError(
            "wrong path: the path does not lead from the leaf to the root hash (a hash in it "
            "is wrong or out of order, or it is for another tree)"
        )


def verify_consistency(
    old: int, new: int, path: Sequence[bytes], old_root: bytes, new_root: bytes
) -> None:
    """RFC 9162 §2.1.4.2, with the trivial cases (old 0; old == new) made explicit."""
    if not 0 <= old <= new:
        raise ProofError(f"wrong size: a tree of {new} leaves cannot extend one of {old}")
    if old == new:
        if path:
            raise ProofError("wrong path: trees of the same size need an empty proof")
        if old_root != new_root:
            raise ProofError(f"split view: two different root hashes for the same size {old}")
        return
    if old == 0:
        if path:
            raise ProofError("wrong path: the empty tree needs an empty proof")
        return
    if not path:
        raise ProofError(f"wrong size: an empty proof cannot take size {old} to {new}")
    nodes = list(path)
    if old & (old - 1) == 0:
        nodes.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = nodes[0]
    for c in nodes[1:]:
        if sn == 0:
            raise ProofError(
                f"wrong size: the proof has {len(path)} hashes, more than sizes {old} to {new} need"
            )
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(
            f"wrong size: the proof has {len(path)} hashes, fewer than sizes {old} to {new} need"
        )
    if fr != old_root:
        raise ProofError(
            f"wrong path: the proof does not lead to the old root hash at size {old} (a hash "
            "in it is wrong or out of order, or the log's history was rewritten)"
        )
    if sr != new_root:
        raise ProofError(
            f"wrong path: the proof does not lead to the new root hash at size {new} (a hash "
            "in it is wrong or out of order, or it is for another tree)"
        )


@runtime_checkable
class TreeRecorder(Protocol):
    """What proofs need from a store: its stored tree rows."""

    def tree_tail(self) -> tuple[int, int | None]:
        """(size, notification id of the last leaf)."""
        ...

    def tree_rows(self, rows: Collection[int]) -> dict[int, bytes]: ...

    def select_tree_rows(self, start: int, limit: int) -> list[Row]: ...

    def tree_leaf(self, notification_id: int) -> int | None:
        """The leaf index of the event at `notification_id`, if it is in the tree."""
        ...

    def notification_of(self, originator_id: UUID, version: int) -> int | None: ...

    def add_cosignature(self, size: int, root_hash: bytes, line: str) -> bool:
        """Keep one witness's signature line for the checkpoint (size, root); False if kept."""
        ...

    def cosignatures(self, size: int, root_hash: bytes) -> list[str]: ...
