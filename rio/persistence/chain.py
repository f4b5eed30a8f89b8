"""The hash chain's one definition: how an event is encoded and linked to its predecessor.

`tools/verify_rio_log.py` restates this definition on purpose (an auditor must not need
RIO's code); `tests/store/test_audit_chain.py` proves the two agree.

    hash(n) = SHA-256( bytes.fromhex(prev_hash)
                       || LP(decimal notification id) || LP(originator id) || LP(decimal version)
                       || LP(topic, UTF-8) || LP(state bytes) )

where LP(x) is x's length as 8 bytes big-endian followed by x, and the first event's
prev_hash is GENESIS. The bytes after prev_hash are the event's `encoding`, which is also
its leaf in the Merkle tree beside the chain (rio.persistence.merkle). Both of an event's
times (the recorded timestamp and `occurred`) live inside its state, so they are covered
by the hash.

The fields are the values *as stored*, each in its canonical form: the originator id as a
lower-case hyphenated UUID (SQLite stores it as 32 lower-case hex digits, PostgreSQL as a
uuid), the version as an integer, the topic as text without NUL, the state as bytes. A value
stored in any other form (an upper-case hex digit, braces, another storage class) is never
normalised: it is hashed in a tagged form, NUL + its storage class + ":" + its stored bytes
in hex, which no canonical value equals, and verification reports it as tampering at its
row. So for every row RIO wrote the hashed bytes are what they always were.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import NamedTuple, Protocol, runtime_checkable
from uuid import UUID

from rio.domain.errors import DomainError

SCHEME = "rio-sha256-lp/1"
GENESIS = "0" * 64


class ChainError(DomainError):
    """The store cannot record events without breaking its hash chain."""


class Link(NamedTuple):
    """One row of the chain table: the hash of the event at `notification_id`."""

    notification_id: int
    prev_hash: str
    hash: str


_LENGTH = struct.Struct(">Q").pack  # LP(x): x's length, 8 bytes big-endian, then x
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_HASH = re.compile(r"[0-9a-f]{64}")


class Leaf(NamedTuple):
    """One stored event as the chain hashes it: each column as the database returned it, in
    its canonical form, or tagged (see `tagged`) when the row holds it in any other form."""

    notification_id: int
    originator_id: str
    originator_version: int | str
    topic: str
    state: bytes


class Hashed(Protocol):
    """What `link_hash` reads: a `Leaf`, or a `StoredEvent` on its way into the store."""

    @property
    def originator_id(self) -> UUID | str: ...
    @property
    def originator_version(self) -> int | str: ...
    @property
    def topic(self) -> str: ...
    @property
    def state(self) -> bytes: ...


def tagged(storage: str, raw: bytes | None) -> str:
    """A stored value RIO never writes in this form, kept exactly: it cannot equal any
    canonical value (those never start with NUL), so it changes the hash wherever it sits."""
    return f"\x00{storage}:{(raw or b'').hex()}"


def tagged_state(storage: str, raw: bytes | None) -> bytes:
    """A state stored as something other than bytes; the same tags as `state_bytes`."""
    if raw is None:
        return b"\x00null"
    return b"\x00" + storage.encode("ascii") + b":" + raw


def shown(value: object) -> str:
    """A stored value for a person: a tagged one as its storage class and its text."""
    if isinstance(value, str) and value.startswith("\x00") and ":" in value:
        storage, _, raw = value[1:].partition(":")
        try:
            text = bytes.fromhex(raw).decode("utf-8", "backslashreplace")
        except ValueError:
            return repr(value)
        return f"{storage} {text!r}"
    return repr(value)


def noncanonical(leaf: Leaf) -> str | None:
    """Which column of a stored event is in a form RIO never writes, or None.

    SQLite looks events up by the id column's exact text, so an id that still parses as the
    same UUID but is not its canonical text hides the event from its aggregate: such a row
    is tampering even before its hash is compared."""
    if not _UUID.fullmatch(leaf.originator_id):
        return (
            f"its originator id is stored as {shown(leaf.originator_id)}, not in the "
            "canonical form RIO writes"
        )
    if type(leaf.originator_version) is not int:
        return f"its version is stored as {shown(leaf.originator_version)}, not as an integer"
    if "\x00" in leaf.topic:
        return f"its topic is stored as {shown(leaf.topic)}, not as text"
    return None


def noncanonical_link(link: Link) -> str | None:
    """Which hash of a chain entry is not 64 lower-case hex digits as RIO writes it, or None."""
    for name in ("prev_hash", "hash"):
        value = getattr(link, name)
        if not (isinstance(value, str) and _HASH.fullmatch(value)):
            return f"its {name} is stored as {shown(value)}, not as RIO writes a hash"
    return None


def refuse_noncanonical(leaves: Iterable[Leaf]) -> None:
    """The migration vouches for what it chains: it will not chain a row edited outside RIO."""
    for leaf in leaves:
        problem = noncanonical(leaf)
        if problem is not None:
            raise ChainError(
                f"notification {leaf.notification_id} was edited outside RIO ({problem}), "
                "so nothing was chained: run `rio audit verify`"
            )


def hyphenated(hex32: str) -> str:
    """SQLite's stored form of an id (32 hex digits) as the chain's text form of a UUID."""
    return f"{hex32[:8]}-{hex32[8:12]}-{hex32[12:16]}-{hex32[16:20]}-{hex32[20:]}"


def state_bytes(state: object) -> bytes:
    """The state column's bytes. A row edited behind RIO's back into text or NULL gets a
    tagged form that can never equal the bytes RIO stored, so it fails as "changed"."""
    if isinstance(state, bytes):
        return state
    if isinstance(state, bytearray | memoryview):
        return bytes(state)
    return b"\x00null" if state is None else b"\x00text:" + str(state).encode("utf-8")


def link_hash(prev_hash: str, notification_id: int, event: Hashed) -> str:
    """hash(n) for `event` stored at notification id `notification_id` after `prev_hash`."""
    return _digest(bytes.fromhex(prev_hash), notification_id, event).hex()


def _digest(prev: bytes, notification_id: int, event: Hashed) -> bytes:
    return hashlib.sha256(prev + encoding(notification_id, event)).digest()


def encoding(notification_id: int, event: Hashed) -> bytes:
    """An event's canonical bytes: what the chain hashes after `prev_hash`, and the leaf the
    Merkle tree (rio.persistence.merkle) hashes. One join per event: this runs inside every
    write transaction."""
    n = str(notification_id).encode("ascii")
    originator = str(event.originator_id).encode("utf-8")
    version = str(event.originator_version).encode("utf-8")
    topic = str(event.topic).encode("utf-8")
    state = state_bytes(event.state)
    return b"".join(
        (
            _LENGTH(len(n)),
            n,
            _LENGTH(len(originator)),
            originator,
            _LENGTH(len(version)),
            version,
            _LENGTH(len(topic)),
            topic,
            _LENGTH(len(state)),
            state,
        )
    )


def extend(
    head: Link | None,
    events: Iterable[tuple[int, Hashed]],
    leaves: list[bytes] | None = None,
) -> list[Link]:
    """Links for `events` (notification id, event), in notification-id order, after `head`.

    Given a list as `leaves`, also appends each event's Merkle leaf hash to it
    (SHA-256(0x00 || encoding), rio.persistence.merkle) from the same encoding: the chain
    and the tree are written in one transaction, and each event is encoded once."""
    ordered = sorted(events, key=itemgetter(0))
    if head is not None and ordered and ordered[0][0] <= head.notification_id:
        raise ChainError(
            f"notification {ordered[0][0]} is already chained (the chain's head is "
            f"{head.notification_id}): an event row was removed from the log; "
            "run `rio audit verify`"
        )
    altered = noncanonical_link(head) if head is not None else None
    if head is not None and altered is not None:
        raise ChainError(
            f"the chain's head entry (notification {head.notification_id}) was edited outside "
            f"RIO ({altered}): run `rio audit verify`"
        )
    prev_hash = head.hash if head else GENESIS
    prev = bytes.fromhex(prev_hash)
    links = []
    sha256 = hashlib.sha256
    for notification_id, event in ordered:
        encoded = encoding(notification_id, event)
        raw = sha256(prev + encoded).digest()
        if leaves is not None:
            leaves.append(sha256(b"\x00" + encoded).digest())
        link = Link(notification_id, prev_hash, raw.hex())
        links.append(link)
        prev, prev_hash = raw, link.hash
    return links


def refuse_unchained(head: Link | None, newest_before: int | None) -> None:
    """Chaining new events over older unchained ones would strand those forever: refuse."""
    chained = head.notification_id if head else 0
    if newest_before is not None and newest_before > chained:
        raise ChainError(
            f"the event log holds events up to notification {newest_before} but its hash "
            f"chain ends at {chained}: run `rio audit chain` once to chain events recorded "
            "before tamper evidence (or `rio audit verify` to find rows added behind RIO's back)"
        )


@runtime_checkable
class ChainedRecorder(Protocol):
    """What the audit functions need from a store: its notification log and its chain."""

    chain_table_name: str

    def select_leaves(self, start: int, limit: int, stop: int) -> Sequence[Leaf]:
        """Stored events from notification `start` to `stop`, each column as stored."""
        ...

    def max_notification_id(self) -> int | None: ...

    def chain_head(self) -> Link | None: ...

    def select_links(self, start: int, limit: int, stop: int | None = None) -> list[Link]: ...

    def link_at(self, notification_id: int) -> Link | None: ...

    def count_links(self, stop: int) -> int: ...

    def chain_unchained(self) -> tuple[int, Link | None]:
        """Under the store's write lock, chain every event after the chain's head."""
        ...
