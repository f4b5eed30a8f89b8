#!/usr/bin/env python3
"""Check a RIO audit export on your own machine, without trusting RIO's code.

    python3 verify_rio_log.py EXPORT.jsonl [--digest DIGEST.json ...]
    python3 verify_rio_log.py consistency PROOF.json --from OLD --to NEW [--key VKEY]
    python3 verify_rio_log.py inclusion PROOF.json --checkpoint CP [--key VKEY]
        (either also: --witness VKEY ... --quorum N)

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


# --- Merkle proofs and signed checkpoints ------------------------------------------------
#
# RIO's Merkle tree (RFC 9162), restated here on purpose:
#
#     leaf hash = SHA-256(0x00 || leaf), the leaf being the event's bytes the chain hashes
#                 after prev_hash: LP(notification id) || LP(originator id) || LP(version)
#                 || LP(topic) || LP(state);   node hash = SHA-256(0x01 || left || right)
#
# A checkpoint is a C2SP signed note: origin, size, base64 root hash, a blank line, then
# signature lines "— NAME base64(key id || signature)"; a witness's cosignature (C2SP
# tlog-cosignature) signs "cosignature/v1\ntime T\n" + the checkpoint's first three lines.

CONSISTENCY = "rio-consistency/1"
INCLUSION = "rio-inclusion/1"
DASH = "\u2014 "


class Refused(Exception):
    """A proof or checkpoint that does not prove what it claims; the message names why."""


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(index: int, size: int, leaf: bytes, path: list[bytes], root: bytes) -> None:
    """RFC 9162 section 2.1.3.2."""
    if not 0 <= index < size:
        raise Refused(f"wrong size: leaf {index} is not in a tree of {size} leaves")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise Refused(f"wrong size: the path has more hashes than a tree of {size} needs")
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = _node(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise Refused(f"wrong size: the path has fewer hashes than a tree of {size} needs")
    if r != root:
        raise Refused(
            "wrong path: the path does not lead from the leaf to the checkpoint's root hash "
            "(a hash in it is wrong or out of order, or it is for another tree)"
        )


def verify_consistency(
    old: int, new: int, path: list[bytes], old_root: bytes, new_root: bytes
) -> None:
    """RFC 9162 section 2.1.4.2, with the trivial cases (old 0; old == new) made explicit."""
    if not 0 <= old <= new:
        raise Refused(f"wrong size: a tree of {new} leaves cannot extend one of {old}")
    if old == new:
        if path:
            raise Refused("wrong path: trees of the same size need an empty proof")
        if old_root != new_root:
            raise Refused(f"split view: two different root hashes for the same size {old}")
        return
    if old == 0:
        if path:
            raise Refused("wrong path: the empty tree needs an empty proof")
        return
    if not path:
        raise Refused(f"wrong size: an empty proof cannot take size {old} to {new}")
    nodes = ([old_root] if old & (old - 1) == 0 else []) + list(path)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = nodes[0]
    for c in nodes[1:]:
        if sn == 0:
            raise Refused(f"wrong size: the proof has more hashes than sizes {old} to {new} need")
        if fn & 1 or fn == sn:
            fr, sr = _node(c, fr), _node(c, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = _node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise Refused(f"wrong size: the proof has fewer hashes than sizes {old} to {new} need")
    if fr != old_root:
        raise Refused(
            f"wrong path: the proof does not lead to the old root hash at size {old} (a hash "
            "in it is wrong or out of order, or the log's history was rewritten)"
        )
    if sr != new_root:
        raise Refused(
            f"wrong path: the proof does not lead to the new root hash at size {new} (a hash "
            "in it is wrong or out of order, or it is for another tree)"
        )


@dataclass
class Checkpoint:
    origin: str
    size: int
    root: bytes
    body: bytes
    signatures: list[str]


def _b64(text: object, what: str) -> bytes:
    try:
        return base64.b64decode(str(text), validate=True)
    except (binascii.Error, ValueError):
        raise Unreadable(f"{what} is not base64") from None


def read_checkpoint(path: str) -> Checkpoint:
    try:
        with open(path, encoding="utf-8") as stream:
            text = stream.read()
    except OSError as error:
        raise Unreadable(f"cannot read {path}: {error}") from None
    body, sep, rest = text.partition("\n\n")
    lines = body.split("\n")
    if not sep or len(lines) < 3 or not lines[1].isdigit():
        raise Unreadable(
            f"{path} is not a signed checkpoint (origin, size, root, blank line, signatures)"
        )
    root = _b64(lines[2], f"{path}: the root hash")
    if len(root) != 32:
        raise Unreadable(f"{path}: the root hash is not 32 bytes")
    signatures = [line for line in rest.split("\n") if line]
    if not signatures or not all(line.startswith(DASH) for line in signatures):
        raise Unreadable(f"{path}: each signature line starts with an em dash and a space")
    return Checkpoint(lines[0], int(lines[1]), root, (body + "\n").encode("utf-8"), signatures)


@dataclass
class Key:
    name: str
    kind: int  # 0x01: the log's note signature; 0x04: a witness's cosignature
    public: bytes

    @property
    def id(self) -> bytes:
        return hashlib.sha256(
            self.name.encode() + b"\n" + bytes([self.kind]) + self.public
        ).digest()[:4]


def read_key(text: str) -> Key:
    """A vkey (NAME+KEYID+BASE64), given as itself or as a file holding it."""
    try:
        with open(text, encoding="utf-8") as stream:
            text = stream.read().strip().splitlines()[0]
    except OSError:
        pass
    try:
        name, hex_id, encoded = text.strip().split("+", 2)
        raw = base64.b64decode(encoded, validate=True)
        key = Key(name, raw[0], raw[1:])
    except (ValueError, IndexError, binascii.Error):
        raise Unreadable(f"{text!r} is not a verifier key (NAME+KEYID+BASE64)") from None
    if len(key.public) != 32 or key.id.hex() != hex_id:
        raise Unreadable(f"{text!r} is not an Ed25519 verifier key (its key id does not match)")
    return key


def _ed25519() -> Any:
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError:
        return None

    def verify(public: bytes, signature: bytes, message: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
        except InvalidSignature:
            return False
        return True

    return verify


def _signatures_by(cp: Checkpoint, key: Key) -> list[bytes]:
    found = []
    for line in cp.signatures:
        name, _, encoded = line[len(DASH) :].partition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            continue
        if name == key.name and raw[:4] == key.id:
            found.append(raw[4:])
    return found


def check_signatures(
    cp: Checkpoint, label: str, keys: list[Key], witnesses: list[Key], quorum: int, notes: list[str]
) -> None:
    """The log's signature and the witnesses' quorum; says plainly what was not checked."""
    verify = _ed25519()
    if verify is None:
        if keys or witnesses:
            notes.append(f"{label}: signatures NOT checked (install `cryptography` to check them)")
        if quorum:
            raise Refused("quorum not checked: `cryptography` is not installed")
        return
    if not keys:
        notes.append(f"{label}: the log's signature NOT checked (give --key)")
    else:
        signed = False
        for key in (k for k in keys if k.kind == 0x01):
            for signature in _signatures_by(cp, key):
                if not verify(key.public, signature, cp.body):
                    raise Refused(
                        f"forged signature: {label}'s signature by {key.name} does not verify"
                    )
                signed = True
        if not signed:
            raise Refused(f"another key: {label} is not signed by the log's key(s) given")
        notes.append(f"{label}: signed by the log")
    cosigned = []
    for key in (k for k in witnesses if k.kind == 0x04):
        for raw in _signatures_by(cp, key):
            if len(raw) == 72:
                stamp = int.from_bytes(raw[:8], "big")
                message = b"cosignature/v1\ntime %d\n" % stamp + cp.body
                if verify(key.public, raw[8:], message):
                    cosigned.append(key.name)
                    break
    if quorum and len(set(cosigned)) < quorum:
        raise Refused(
            f"quorum not met: {label} is cosigned by {len(set(cosigned))} of the named witnesses "
            f"({', '.join(cosigned) or 'none'}), {quorum} required"
        )
    if witnesses:
        notes.append(f"{label}: cosigned by {', '.join(cosigned) or 'no named witness'}")


def _proof(path: str, kind: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as stream:
            proof = json.load(stream)
    except (OSError, ValueError) as error:
        raise Unreadable(f"cannot read proof {path}: {error}") from None
    if not isinstance(proof, dict) or proof.get("rio_proof") != kind:
        raise Unreadable(f"{path} is not a RIO {kind} proof")
    return proof


def prove_consistency(args: argparse.Namespace) -> tuple[bool, str]:
    proof = _proof(args.proof, CONSISTENCY)
    old, new = read_checkpoint(args.old), read_checkpoint(args.new)
    keys = [read_key(k) for k in args.key]
    witnesses = [read_key(k) for k in args.witness]
    notes: list[str] = []
    try:
        check_signatures(old, args.old, keys, witnesses, args.quorum, notes)
        check_signatures(new, args.new, keys, witnesses, args.quorum, notes)
        if old.origin != new.origin:
            raise Refused(f"another log: origins {old.origin!r} and {new.origin!r} differ")
        if old.size == new.size and old.root != new.root:
            raise Refused(f"split view: two checkpoints of size {old.size} with different roots")
        try:
            claimed = (int(proof["old_size"]), int(proof["new_size"]))
            roots = (_b64(proof["old_root"], "old_root"), _b64(proof["new_root"], "new_root"))
            hashes = [_b64(h, "a hash in the path") for h in proof["path"]]
        except (KeyError, TypeError, ValueError) as error:
            raise Unreadable(f"{args.proof} is not a consistency proof: {error}") from None
        if claimed != (old.size, new.size):
            raise Refused(
                f"proof for another tree: it goes from size {claimed[0]} to {claimed[1]}, the "
                f"checkpoints are sizes {old.size} and {new.size}"
            )
        # The path is checked against the checkpoints' roots, never the proof's own.
        verify_consistency(old.size, new.size, hashes, old.root, new.root)
        if roots != (old.root, new.root):
            raise Refused("proof for another tree: its root hashes are not the checkpoints'")
    except Refused as error:
        return False, f"FAILED: {error}"
    return True, "\n".join(
        [
            f"OK: the log grew from size {old.size} to {new.size} without a rewrite "
            f"({len(hashes)} hashes)",
            *notes,
        ]
    )


def prove_inclusion(args: argparse.Namespace) -> tuple[bool, str]:
    proof = _proof(args.proof, INCLUSION)
    cp = read_checkpoint(args.checkpoint)
    keys = [read_key(k) for k in args.key]
    witnesses = [read_key(k) for k in args.witness]
    notes: list[str] = []
    try:
        check_signatures(cp, args.checkpoint, keys, witnesses, args.quorum, notes)
        try:
            index, size = int(proof["leaf_index"]), int(proof["size"])
            root = _b64(proof["root"], "root")
            leaf = _b64(proof["encoding"], "encoding")
            hashes = [_b64(h, "a hash in the path") for h in proof["path"]]
        except (KeyError, TypeError, ValueError) as error:
            raise Unreadable(f"{args.proof} is not an inclusion proof: {error}") from None
        if size != cp.size:
            raise Refused(
                f"proof for another tree: it is for size {size}, the checkpoint is size {cp.size}"
            )
        fields = _fields(leaf)
        if fields is None or fields[0] != str(proof.get("notification_id")):
            raise Refused(
                "wrong leaf: the proof's event bytes are not an event at its notification id"
            )
        verify_inclusion(index, size, hashlib.sha256(b"\x00" + leaf).digest(), hashes, cp.root)
        if root != cp.root:
            raise Refused("proof for another tree: its root hash is not the checkpoint's")
    except Refused as error:
        return False, f"FAILED: {error}"
    n, originator, version, topic = fields[:4]
    return True, "\n".join(
        [
            f"OK: the event {originator} version {version} ({topic}) at notification {n} is "
            f"leaf {index} of the tree of size {size}",
            *notes,
        ]
    )


def _fields(leaf: bytes) -> list[str] | None:
    """The LP fields of a leaf: notification id, originator id, version, topic (and state)."""
    fields, at = [], 0
    while at < len(leaf):
        length = int.from_bytes(leaf[at : at + 8], "big")
        fields.append(leaf[at + 8 : at + 8 + length])
        at += 8 + length
    if at != len(leaf) or len(fields) != 5:
        return None
    return [f.decode("utf-8", "replace") for f in fields[:4]]


def _proof_parser(command: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"verify_rio_log.py {command}", description=f"Verify a RIO {command} proof."
    )
    parser.add_argument("proof", help="the proof's JSON (rio audit prove ...)")
    if command == "consistency":
        parser.add_argument("--from", dest="old", required=True, help="the earlier checkpoint")
        parser.add_argument("--to", dest="new", required=True, help="the later checkpoint")
    else:
        parser.add_argument("--checkpoint", required=True, help="the checkpoint")
    parser.add_argument("--key", action="append", default=[], help="the log's vkey (or a file)")
    parser.add_argument(
        "--witness", action="append", default=[], help="a witness's vkey (or a file)"
    )
    parser.add_argument(
        "--quorum", type=int, default=0, help="how many named witnesses must cosign"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("consistency", "inclusion"):
        args = _proof_parser(argv[0]).parse_args(argv[1:])
        check = prove_consistency if argv[0] == "consistency" else prove_inclusion
        try:
            ok, line = check(args)
        except Unreadable as error:
            print(f"verify_rio_log: error: {error}", file=sys.stderr)
            return 2
        print(line)
        return 0 if ok else 1
    return _verify_export(argv)


def _verify_export(argv: list[str]) -> int:
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
