"""The hash chain's one definition: how an event is encoded and linked to its predecessor.

`tools/verify_rio_log.py` restates this definition on purpose (an auditor must not need
RIO's code); `tests/store/test_audit_chain.py` proves the two agree.

    hash(n) = SHA-256( bytes.fromhex(prev_hash)
                       || LP(decimal notification id) || LP(originator id) || LP(decimal version)
                       || LP(topic, UTF-8) || LP(state bytes) )

where LP(x) is x's length as 8 bytes big-endian followed by x, the originator id is its
text form (a UUID in lower-case hyphenated form), and the first event's prev_hash is
GENESIS. Both of an event's times (the recorded timestamp and `occurred`) live inside its
state, so they are covered by the hash.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import NamedTuple, Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent

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


def originator_text(originator_id: UUID | str) -> str:
    return str(originator_id)


def state_bytes(state: object) -> bytes:
    """The state column's bytes. A row edited behind RIO's back into text or NULL gets a
    tagged form that can never equal the bytes RIO stored, so it fails as "changed"."""
    if isinstance(state, bytes):
        return state
    if isinstance(state, bytearray | memoryview):
        return bytes(state)
    return b"\x00null" if state is None else b"\x00text:" + str(state).encode("utf-8")


def link_hash(prev_hash: str, notification_id: int, event: StoredEvent) -> str:
    """hash(n) for `event` stored at notification id `notification_id` after `prev_hash`."""
    return _digest(bytes.fromhex(prev_hash), notification_id, event).hex()


def _digest(prev: bytes, notification_id: int, event: StoredEvent) -> bytes:
    # One join and one hash call per event: this runs inside every write transaction.
    n = str(notification_id).encode("ascii")
    originator = str(event.originator_id).encode("utf-8")
    version = str(event.originator_version).encode("utf-8")
    topic = str(event.topic).encode("utf-8")
    state = state_bytes(event.state)
    return hashlib.sha256(
        b"".join(
            (
                prev,
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
    ).digest()


def extend(head: Link | None, events: Iterable[tuple[int, StoredEvent]]) -> list[Link]:
    """Links for `events` (notification id, event), in notification-id order, after `head`."""
    ordered = sorted(events, key=itemgetter(0))
    if head is not None and ordered and ordered[0][0] <= head.notification_id:
        raise ChainError(
            f"notification {ordered[0][0]} is already chained (the chain's head is "
            f"{head.notification_id}): an event row was removed from the log; "
            "run `rio audit verify`"
        )
    prev_hash = head.hash if head else GENESIS
    prev = bytes.fromhex(prev_hash)
    links = []
    for notification_id, event in ordered:
        raw = _digest(prev, notification_id, event)
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

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]: ...

    def max_notification_id(self) -> int | None: ...

    def chain_head(self) -> Link | None: ...

    def select_links(self, start: int, limit: int, stop: int | None = None) -> list[Link]: ...

    def link_at(self, notification_id: int) -> Link | None: ...

    def count_links(self, stop: int) -> int: ...

    def chain_unchained(self) -> tuple[int, Link | None]:
        """Under the store's write lock, chain every event after the chain's head."""
        ...
