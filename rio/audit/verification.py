"""Digests, verification, export and the one-off chaining of an older store.

An auditor keeps digests (position + head hash) outside RIO; `verify` recomputes the whole
chain from the stored events and proves the log still extends every digest it is given.
The API and the CLI both call these functions.
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, TextIO

import structlog

from rio.domain import clock
from rio.persistence.chain import (
    GENESIS,
    SCHEME,
    ChainedRecorder,
    ChainError,
    Leaf,
    Link,
    encoding,
    link_hash,
    noncanonical,
    noncanonical_link,
    refuse_unchained,
    shown,
)
from rio.persistence.merkle import TreeRecorder, append, frontier_rows, leaf_hash

PAGE = 1000
EXPORT_FORMAT = 1

log = structlog.get_logger("rio.audit")


class DigestError(ChainError):
    """A digest file RIO cannot read or was made by another chain definition."""


class Kind(StrEnum):
    CHANGED = "changed"
    MISSING = "missing"
    REORDERED = "reordered"
    INSERTED = "inserted"
    REWRITTEN = "rewritten"
    TRUNCATED = "truncated"
    TREE = "tree"  # the Merkle tree's table does not match the verified chain


@dataclass(frozen=True)
class Failure:
    """The first record that fails, and how."""

    kind: Kind
    notification_id: int
    detail: str

    def line(self) -> str:
        return f"{self.kind} at notification {self.notification_id}: {self.detail}"


@dataclass(frozen=True)
class Digest:
    """What an auditor keeps: the chain's head at a position, and how many events led there."""

    position: int
    head_hash: str
    count: int
    time: datetime
    scheme: str = SCHEME

    def to_json(self) -> dict[str, Any]:
        return {
            "scheme": self.scheme,
            "position": self.position,
            "head_hash": self.head_hash,
            "count": self.count,
            "time": self.time.isoformat(),
        }

    @classmethod
    def from_json(cls, data: Any, source: str = "digest") -> Digest:
        try:
            digest = cls(
                position=int(data["position"]),
                head_hash=str(data["head_hash"]),
                count=int(data["count"]),
                time=datetime.fromisoformat(data["time"]),
                scheme=str(data["scheme"]),
            )
        except (TypeError, KeyError, ValueError) as error:
            raise DigestError(
                f"{source} is not a RIO digest (needs scheme, position, head_hash, count, time): "
                f"{error}"
            ) from None
        if digest.scheme != SCHEME:
            raise DigestError(f"{source} uses chain scheme {digest.scheme!r}; RIO uses {SCHEME!r}")
        return digest


@dataclass(frozen=True)
class Verification:
    position: int
    events: int
    chained: int
    head_hash: str
    digests: int = 0
    failure: Failure | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None

    def line(self) -> str:
        if self.failure is not None:
            return f"FAILED: {self.failure.line()}"
        extends = f"; extends {self.digests} digest(s)" if self.digests else ""
        return (
            f"OK: {self.events} events, {self.chained} chained, head at notification "
            f"{self.position} ({self.head_hash}){extends}"
        )

    def to_json(self) -> dict[str, Any]:
        failure = self.failure
        return {
            "ok": self.ok,
            "position": self.position,
            "events": self.events,
            "chained": self.chained,
            "head_hash": self.head_hash,
            "digests": self.digests,
            "failure": None
            if failure is None
            else {
                "kind": str(failure.kind),
                "notification_id": failure.notification_id,
                "detail": failure.detail,
            },
        }


class Store(Protocol):
    """What verification needs of a store: its recorder. Auditing reads the log as stored,
    so it takes the recorder and never the application that writes through it."""

    @property
    def recorder(self) -> object: ...


def recorder_of(rio: Store) -> ChainedRecorder:
    recorder = rio.recorder
    if isinstance(recorder, ChainedRecorder):
        return recorder
    raise ChainError(f"{type(recorder).__name__} keeps no hash chain: open the store through RIO")


def digest(rio: Store) -> Digest:
    """The chain's head now. Refused while events are unchained (a digest would skip them)."""
    recorder = recorder_of(rio)
    # The newest event is read before the head: every event committed by then is chained
    # by the time the head is read, so a healthy store never trips the check below.
    newest = recorder.max_notification_id()
    head = recorder.chain_head()
    refuse_unchained(head, newest)
    if head is None:
        return Digest(0, GENESIS, 0, clock.now())
    return Digest(
        head.notification_id,
        head.hash,
        recorder.count_links(head.notification_id),
        clock.now(),
    )


def verify(rio: Store, digests: Sequence[Digest] = ()) -> Verification:
    """Recompute the chain from the stored events; then check the log extends each digest."""
    recorder = recorder_of(rio)
    result = _verify_chain(recorder)
    if result.failure is None:
        for taken in digests:
            failure = _against(recorder, result, taken)
            if failure is not None:
                result = replace(result, failure=failure)
                break
        else:
            result = replace(result, digests=len(digests))
    if result.failure is None:
        # Last: a chain rewritten with the tree left behind is first of all "rewritten".
        result = replace(result, failure=_verify_tree(recorder, result.position))
    if result.failure is None:
        log.info("audit_verified", **result.to_json())
    else:
        log.warning("audit_verify_failed", **result.to_json())
    return result


@dataclass(frozen=True)
class Exported:
    digest: Digest
    events: int


def export(rio: Store, out: TextIO, checkpoint: dict[str, Any] | None = None) -> Exported:
    """Write the log as JSON lines: a header (the digest of the exported chain, and the
    `checkpoint` taken just before, if given), then one line per notification id, each
    event with its chain entry (null where either is absent).
    """
    recorder = recorder_of(rio)
    position, head = _position(recorder)
    taken = Digest(
        head.notification_id if head else 0,
        head.hash if head else GENESIS,
        recorder.count_links(head.notification_id) if head else 0,
        clock.now(),
    )
    header = {"rio_audit_export": EXPORT_FORMAT, **taken.to_json()}
    if checkpoint is not None:
        header["checkpoint"] = checkpoint
    out.write(json.dumps(header) + "\n")
    events = 0
    for notification_id, event, link in _entries(recorder, position):
        events += event is not None
        out.write(json.dumps(_export_line(notification_id, event, link)) + "\n")
    log.info("audit_exported", position=position, events=events, chained=taken.count)
    return Exported(taken, events)


@dataclass(frozen=True)
class Chained:
    chained: int
    position: int
    head_hash: str


def chain_existing(rio: Store, *, extend: bool = False) -> Chained:
    """Chain the events recorded before tamper evidence existed: the one-off migration.

    Whatever is in the log when this runs becomes vouched for, so it refuses when the part
    already chained does not verify, and (unless `extend`) when a chain exists already:
    RIO itself never leaves events unchained behind a chain, so those are suspect.
    """
    recorder = recorder_of(rio)
    position, head = _position(recorder)
    if head is not None:
        checked = _verify_chain(recorder, stop=head.notification_id)
        if checked.failure is not None:
            raise ChainError(
                "the chained part of the log does not verify, so nothing was chained: "
                + checked.failure.line()
            )
        if position > head.notification_id and not extend:
            raise ChainError(
                f"events after notification {head.notification_id} are not chained, but a "
                "chain exists, so RIO did not record them: check them (`rio audit verify`), "
                "then chain them with `rio audit chain --extend` if they are genuine"
            )
    log.info("audit_chain_started", chained_up_to=head.notification_id if head else 0)
    count, new_head = recorder.chain_unchained()
    result = Chained(
        chained=count,
        position=new_head.notification_id if new_head else 0,
        head_hash=new_head.hash if new_head else GENESIS,
    )
    # A warning, not info: events chained after the fact were unprotected until now, and
    # an auditor reading the logs should see when that changed.
    (log.warning if count else log.info)(
        "audit_chain_migrated",
        chained=count,
        position=result.position,
        head_hash=result.head_hash,
        extend=extend,
    )
    return result


# --- the walk ------------------------------------------------------------------------------


def _position(recorder: ChainedRecorder) -> tuple[int, Link | None]:
    """A stable upper bound (every event and link at or below it is already committed), and
    the chain's head. The newest event is read first: once it is committed, so is its link.
    """
    newest = recorder.max_notification_id() or 0
    head = recorder.chain_head()
    return max(newest, head.notification_id if head else 0), head


def _paged(fetch: Callable[[int], Sequence[Any]], key: Callable[[Any], int]) -> Iterator[Any]:
    start = 1
    while True:
        page = fetch(start)
        yield from page
        if len(page) < PAGE:
            return
        start = key(page[-1]) + 1


def _entries(
    recorder: ChainedRecorder, position: int
) -> Iterator[tuple[int, Leaf | None, Link | None]]:
    """Events (as stored) and links side by side, by notification id, up to `position`."""
    events: Iterator[Leaf] = _paged(
        lambda start: recorder.select_leaves(start, PAGE, position),
        lambda leaf: leaf.notification_id,
    )
    links: Iterator[Link] = _paged(
        lambda start: recorder.select_links(start, PAGE, stop=position),
        lambda link: link.notification_id,
    )
    event, link = next(events, None), next(links, None)
    while event is not None or link is not None:
        if link is None or (event is not None and event.notification_id < link.notification_id):
            assert event is not None
            yield event.notification_id, event, None
            event = next(events, None)
        elif event is None or link.notification_id < event.notification_id:
            yield link.notification_id, None, link
            link = next(links, None)
        else:
            yield event.notification_id, event, link
            event, link = next(events, None), next(links, None)


def _verify_chain(recorder: ChainedRecorder, stop: int | None = None) -> Verification:
    position = _position(recorder)[0] if stop is None else stop
    events = chained = 0
    running = GENESIS
    last = 0
    for notification_id, event, link in _entries(recorder, position):
        failure = _check(recorder, position, running, last, notification_id, event, link)
        if failure is not None:
            return Verification(position, events, chained, running, failure=failure)
        assert event is not None and link is not None
        events += 1
        chained += 1
        running, last = link.hash, notification_id
    return Verification(last, events, chained, running)


def _verify_tree(recorder: ChainedRecorder, position: int) -> Failure | None:
    """Rebuild the Merkle tree from the verified events and compare every stored row."""
    if not isinstance(recorder, TreeRecorder):
        return None
    events = (
        (n, leaf_hash(encoding(n, event)))
        for n, event, _ in _entries(recorder, position)
        if event is not None
    )
    size, frontier = 0, dict[int, bytes]()
    while True:
        page = list(itertools.islice(events, PAGE))
        stored = {row.leaf: row for row in recorder.select_tree_rows(size, PAGE)}
        expected = append(size, frontier, page)
        for row in expected:
            found = stored.get(row.leaf)
            if found is None:
                return Failure(
                    Kind.TREE,
                    row.notification_id,
                    f"the Merkle tree has no leaf {row.leaf} for this event: run "
                    "`rio audit chain` to build it (or its rows were deleted)",
                )
            if found != row:
                return Failure(
                    Kind.TREE,
                    row.notification_id,
                    f"the Merkle tree's row for leaf {row.leaf} was edited outside RIO",
                )
        size += len(expected)
        kept = {**frontier, **{row.leaf: row.hashes for row in expected}}
        frontier = {r: kept[r] for _, r in frontier_rows(size)}
        if len(page) < PAGE:
            extra = recorder.select_tree_rows(size, 1)
            if extra:
                return Failure(
                    Kind.TREE,
                    extra[0].notification_id,
                    f"the Merkle tree has a leaf {size} beyond the chain's events: it was "
                    "added outside RIO",
                )
            return None


def _check(
    recorder: ChainedRecorder,
    position: int,
    running: str,
    last: int,
    notification_id: int,
    event: Leaf | None,
    link: Link | None,
) -> Failure | None:
    if link is None:
        assert event is not None
        return Failure(
            Kind.INSERTED,
            notification_id,
            f"{_describe(event)} has no chain entry: it was added outside RIO "
            "(or recorded before chaining: see `rio audit chain`)",
        )
    if event is None:
        return Failure(
            Kind.MISSING, notification_id, "the event chained here is no longer in the log"
        )
    # A key in a form RIO never writes is tampering whatever the hashes say: SQLite finds
    # events by the id's exact text, so such a row is hidden from its own aggregate.
    edited = noncanonical(event)
    if edited is not None:
        return Failure(
            Kind.CHANGED, notification_id, f"{_describe(event)} was edited outside RIO: {edited}"
        )
    altered = noncanonical_link(link)
    if altered is not None:
        return Failure(Kind.CHANGED, notification_id, f"its chain entry was altered: {altered}")
    if link.prev_hash != running:
        if link_hash(link.prev_hash, notification_id, event) == link.hash:
            return Failure(
                Kind.MISSING,
                notification_id,
                f"the event chained before it (after notification {last}) was removed "
                "with its chain entry",
            )
        return Failure(Kind.CHANGED, notification_id, "its chain entry was altered")
    if link_hash(running, notification_id, event) == link.hash:
        return None
    home = _chained_at(recorder, position, notification_id, event)
    if home is not None:
        return Failure(
            Kind.REORDERED,
            notification_id,
            f"{_describe(event)} is genuine but was chained at notification {home}",
        )
    return Failure(
        Kind.CHANGED,
        notification_id,
        f"{_describe(event)} is not the event chained here (its bytes differ)",
    )


def _chained_at(
    recorder: ChainedRecorder, position: int, notification_id: int, event: Leaf
) -> int | None:
    """Where this exact event was chained, if anywhere else (one pass, only on failure)."""
    links: Iterable[Link] = _paged(
        lambda start: recorder.select_links(start, PAGE, stop=position),
        lambda link: link.notification_id,
    )
    for link in links:
        if (
            link.notification_id != notification_id
            and noncanonical_link(link) is None
            and link_hash(link.prev_hash, link.notification_id, event) == link.hash
        ):
            return link.notification_id
    return None


def _against(recorder: ChainedRecorder, verified: Verification, taken: Digest) -> Failure | None:
    when = taken.time.isoformat()
    if taken.position == 0:
        if taken.head_hash == GENESIS and taken.count == 0:
            return None
        return Failure(Kind.REWRITTEN, 0, f"the digest of {when} is not a valid empty-log digest")
    if taken.position > verified.position:
        return Failure(
            Kind.TRUNCATED,
            taken.position,
            f"the log's chain ends at notification {verified.position}, before the position "
            f"of the digest of {when}: events were removed from its end",
        )
    link = recorder.link_at(taken.position)
    if link is None or link.hash != taken.head_hash:
        found = link.hash if link else "no chain entry"
        return Failure(
            Kind.REWRITTEN,
            taken.position,
            f"the digest of {when} has head {taken.head_hash} here, the log has {found}: "
            "history up to this point was rewritten and re-chained",
        )
    count = recorder.count_links(taken.position)
    if count != taken.count:
        return Failure(
            Kind.REWRITTEN,
            taken.position,
            f"the digest of {when} counted {taken.count} events up to here, the log has {count}",
        )
    return None


def _describe(event: Leaf) -> str:
    def text(value: object) -> str:
        return shown(value) if isinstance(value, str) and value.startswith("\x00") else str(value)

    return (
        f"the event {text(event.originator_id)} "
        f"version {text(event.originator_version)} ({text(event.topic)})"
    )


def _export_line(notification_id: int, event: Leaf | None, link: Link | None) -> dict[str, Any]:
    """The values the chain hashed, so an independent verifier sees exactly what RIO saw:
    a value stored in a non-canonical form is exported in its tagged form."""
    return {
        "notification_id": notification_id,
        "originator_id": event.originator_id if event else None,
        "originator_version": event.originator_version if event else None,
        "topic": event.topic if event else None,
        "state": base64.b64encode(event.state).decode("ascii") if event else None,
        "prev_hash": link.prev_hash if link else None,
        "hash": link.hash if link else None,
    }
