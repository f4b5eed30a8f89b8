#!/usr/bin/env python3
"""Check a RIO audit export on your own machine, without trusting RIO's code.

    python3 verify_rio_log.py EXPORT.jsonl [--digest DIGEST.json ...]

EXPORT.jsonl comes from `rio audit export`; each DIGEST.json from `rio audit digest`, taken
earlier and kept where RIO's operators cannot change it. The tool recomputes every hash of
the chain from the exported events, reports the first record that fails and how (changed,
missing, reordered, inserted), and proves the export extends each digest (else: rewritten,
truncated). Exit status 0 when everything checks, 1 when something fails, 2 when a file
cannot be read. It needs only the Python standard library (3.8 or later).

The chain's definition (RIO's scheme "rio-sha256-lp/1"), restated here on purpose:

    hash(n) = SHA-256( bytes.fromhex(prev_hash)
                       || LP(decimal notification id) || LP(originator id) || LP(decimal version)
                       || LP(topic, UTF-8) || LP(state bytes) )

LP(x) is x's length as 8 bytes big-endian followed by x; the first event's prev_hash is 64
zeros. Both of an event's times (when it was recorded, when it occurred) are inside its state.

Each field is the value as the database stored it, in its canonical form: the originator id
as a lower-case hyphenated UUID, the version as an integer, the topic as text without NUL,
each hash as 64 lower-case hex digits. RIO exports a value stored in any other form tagged
(NUL, its storage class, ":", its bytes in hex), and this tool reports any row whose values
are not canonical as changed there, whatever its hash says.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from typing import Any

SCHEME = "rio-sha256-lp/1"
GENESIS = "0" * 64
EXPORT_FORMAT = 1
CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CANONICAL_HASH = re.compile(r"[0-9a-f]{64}")


def _lp(field: bytes) -> bytes:
    return len(field).to_bytes(8, "big") + field


def link_hash(
    prev_hash: str,
    notification_id: int,
    originator_id: str,
    originator_version: int | str,
    topic: str,
    state: bytes,
) -> str:
    """The hash chaining one event at one notification id to its predecessor."""
    digest = hashlib.sha256(bytes.fromhex(prev_hash))
    for field in (
        str(notification_id).encode("ascii"),
        str(originator_id).encode("utf-8"),
        str(originator_version).encode("utf-8"),
        str(topic).encode("utf-8"),
        state,
    ):
        digest.update(_lp(field))
    return digest.hexdigest()


def noncanonical(originator_id: object, originator_version: object, topic: object) -> str | None:
    """Which of an event's keys is not in the form RIO writes, or None."""
    if not (isinstance(originator_id, str) and CANONICAL_UUID.fullmatch(originator_id)):
        return f"its originator id is stored as {originator_id!r}, not in canonical form"
    if type(originator_version) is not int:
        return f"its version is stored as {originator_version!r}, not as an integer"
    if not isinstance(topic, str) or "\x00" in topic:
        return f"its topic is stored as {topic!r}, not as text"
    return None


def noncanonical_link(prev_hash: object, hash_: object) -> str | None:
    """Which hash of a chain entry is not 64 lower-case hex digits, or None."""
    for name, value in (("prev_hash", prev_hash), ("hash", hash_)):
        if not (isinstance(value, str) and CANONICAL_HASH.fullmatch(value)):
            return f"its {name} is stored as {value!r}, not as RIO writes a hash"
    return None


class Unreadable(Exception):
    """An input file that is not what it claims to be."""


@dataclass
class Entry:
    notification_id: int
    event: tuple[str, int | str, str, bytes] | None  # originator id, version, topic, state
    prev_hash: str | None
    hash: str | None

    def hash_at(self, prev_hash: str, notification_id: int) -> str:
        assert self.event is not None
        return link_hash(prev_hash, notification_id, *self.event)

    def describe(self) -> str:
        assert self.event is not None
        originator_id, version, topic, _ = self.event
        return f"the event {originator_id} version {version} ({topic})"


@dataclass
class Digest:
    position: int
    head_hash: str
    count: int
    time: str


def read_export(path: str) -> tuple[dict[str, Any], list[Entry]]:
    try:
        stream = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
        with stream:
            lines = [line for line in stream if line.strip()]
    except OSError as error:
        raise Unreadable(f"cannot read {path}: {error}") from None
    if not lines:
        raise Unreadable(f"{path} is empty: expected the output of `rio audit export`")
    try:
        header = json.loads(lines[0])
        if header.get("rio_audit_export") != EXPORT_FORMAT or header.get("scheme") != SCHEME:
            raise Unreadable(
                f"{path} is not a RIO audit export in format {EXPORT_FORMAT}, scheme {SCHEME}"
            )
        entries = [_entry(json.loads(line)) for line in lines[1:]]
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        raise Unreadable(f"{path} is not a RIO audit export: {error}") from None
    return header, entries


def _entry(data: dict[str, Any]) -> Entry:
    event = None
    if data["state"] is not None:
        event = (
            data["originator_id"],
            data["originator_version"],
            data["topic"],
            base64.b64decode(data["state"], validate=True),
        )
    return Entry(int(data["notification_id"]), event, data["prev_hash"], data["hash"])


def read_digest(path: str) -> Digest:
    try:
        with open(path, encoding="utf-8") as stream:
            data = json.load(stream)
        if data["scheme"] != SCHEME:
            raise Unreadable(f"{path} uses chain scheme {data['scheme']!r}, not {SCHEME!r}")
        return Digest(
            int(data["position"]), str(data["head_hash"]), int(data["count"]), data["time"]
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise Unreadable(f"{path} is not a RIO digest: {error}") from None


def check_chain(entries: list[Entry], hashes: dict[int, str]) -> str | None:
    """The first record that fails, as one line; fills `hashes` (notification id -> hash)
    with every link verified before it."""
    running, last = GENESIS, 0
    for entry in entries:
        n = entry.notification_id
        if n <= last:
            return f"reordered at notification {n}: the export's lines are out of order"
        if entry.event is None:
            return f"missing at notification {n}: the event chained here is not in the log"
        if entry.hash is None or entry.prev_hash is None:
            return f"inserted at notification {n}: {entry.describe()} has no chain entry"
        edited = noncanonical(*entry.event[:3])
        if edited is not None:
            return (
                f"changed at notification {n}: {entry.describe()} was edited outside RIO: {edited}"
            )
        altered = noncanonical_link(entry.prev_hash, entry.hash)
        if altered is not None:
            return f"changed at notification {n}: its chain entry was altered: {altered}"
        if entry.prev_hash != running:
            if entry.hash_at(entry.prev_hash, n) == entry.hash:
                return (
                    f"missing at notification {n}: the event chained before it (after "
                    f"notification {last}) was removed with its chain entry"
                )
            return f"changed at notification {n}: its chain entry was altered"
        if entry.hash_at(running, n) != entry.hash:
            home = next(
                (
                    other.notification_id
                    for other in entries
                    if other.notification_id != n
                    and other.prev_hash is not None
                    and noncanonical_link(other.prev_hash, other.hash) is None
                    and entry.hash_at(other.prev_hash, other.notification_id) == other.hash
                ),
                None,
            )
            if home is not None:
                return (
                    f"reordered at notification {n}: {entry.describe()} is genuine but was "
                    f"chained at notification {home}"
                )
            return (
                f"changed at notification {n}: {entry.describe()} is not the event chained "
                "here (its bytes differ)"
            )
        hashes[n] = running = entry.hash
        last = n
    return None


def check_extends(hashes: dict[int, str], digest: Digest, label: str) -> str | None:
    """Whether the verified chain (`hashes`, by notification id) extends `digest`."""
    if digest.position == 0:
        if digest.head_hash == GENESIS and digest.count == 0:
            return None
        return f"rewritten at notification 0: {label} is not a valid empty-log digest"
    head = max(hashes, default=0)
    if digest.position > head:
        return (
            f"truncated at notification {digest.position}: the chain ends at notification "
            f"{head}, before the position of {label}"
        )
    found = hashes.get(digest.position)
    if found != digest.head_hash:
        return (
            f"rewritten at notification {digest.position}: {label} has head "
            f"{digest.head_hash} here, the log has {found or 'no chain entry'}"
        )
    count = sum(1 for n in hashes if n <= digest.position)
    if count != digest.count:
        return (
            f"rewritten at notification {digest.position}: {label} counted {digest.count} "
            f"events up to here, the log has {count}"
        )
    return None


def verify(export_path: str, digest_paths: list[str]) -> tuple[bool, str]:
    header, entries = read_export(export_path)
    digests = [(read_digest(path), path) for path in digest_paths]
    hashes: dict[int, str] = {}
    failure = check_chain(entries, hashes)
    if failure is None:
        own = Digest(
            int(header["position"]), header["head_hash"], int(header["count"]), header["time"]
        )
        checks = [(own, "the export's own header"), *((d, f"digest {p}") for d, p in digests)]
        failure = next(
            (f for f in (check_extends(hashes, d, label) for d, label in checks) if f), None
        )
    if failure is not None:
        return False, f"FAILED: {failure}"
    head = max(hashes, default=0)
    return True, (
        f"OK: {len(hashes)} events chained, head at notification {head} "
        f"({hashes.get(head, GENESIS)}); extends {len(digests)} digest(s)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Verify a RIO audit export (rio audit export) against digests."
    )
    parser.add_argument("export", help="the JSON-lines export, or - for stdin")
    parser.add_argument("--digest", action="append", default=[], help="a digest file (repeatable)")
    args = parser.parse_args(argv)
    try:
        ok, line = verify(args.export, args.digest)
    except Unreadable as error:
        print(f"verify_rio_log: error: {error}", file=sys.stderr)
        return 2
    print(line)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
