"""Signed notes (C2SP signed-note), checkpoints (C2SP tlog-checkpoint) and cosignatures
(C2SP tlog-cosignature, Ed25519 cosignature/v1), with Ed25519 keys from `cryptography`.

A checkpoint is a note whose body is three lines: the log's origin, the tree size in
decimal, the root hash in base64. Signature lines follow a blank line:

    — <key name> base64(key id (4 bytes) || signature)

The key id is SHA-256(name || 0x0A || type || public key)[:4], type 0x01 for the log's
signed-note signature and 0x04 for a witness's cosignature, whose signature is the 8-byte
big-endian timestamp then an Ed25519 signature over

    cosignature/v1\\ntime <timestamp>\\n<checkpoint body>

Keys are kept as text: a signing key as `PRIVATE+KEY+<name>+<hex key id>+base64(type ||
seed)`, a verifier key ("vkey") as `<name>+<hex key id>+base64(type || public key)`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from rio.domain.errors import DomainError

NOTE = 0x01  # signed-note Ed25519
COSIGNATURE = 0x04  # tlog-cosignature Ed25519 cosignature/v1
DASH = "\u2014 "


class NoteError(DomainError):
    """A key, note or checkpoint that does not read or does not verify; says which."""


def key_id(name: str, kind: int, public: bytes) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([kind]) + public).digest()[:4]


def _check_name(name: str) -> str:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise NoteError(f"key name {name!r} must be non-empty, with no spaces and no '+'")
    return name


@dataclass(frozen=True)
class Verifier:
    name: str
    kind: int
    public: bytes

    @property
    def id(self) -> bytes:
        return key_id(self.name, self.kind, self.public)

    def vkey(self) -> str:
        encoded = base64.b64encode(bytes([self.kind]) + self.public).decode("ascii")
        return f"{self.name}+{self.id.hex()}+{encoded}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except InvalidSignature:
            return False
        return True

    @classmethod
    def parse(cls, text: str, source: str = "public key") -> Verifier:
        try:
            name, hex_id, encoded = text.strip().split("+", 2)
            raw = base64.b64decode(encoded, validate=True)
            verifier = cls(_check_name(name), raw[0], raw[1:])
            ok = len(verifier.public) == 32 and verifier.id.hex() == hex_id
        except (ValueError, IndexError, binascii.Error):
            ok = False
        if not ok or verifier.kind not in (NOTE, COSIGNATURE):
            raise NoteError(
                f"{source} is not an Ed25519 verifier key (NAME+KEYID+BASE64, as "
                "`rio audit public-key` prints one)"
            )
        return verifier


@dataclass(frozen=True)
class Signer:
    name: str
    kind: int
    seed: bytes = field(repr=False)

    @classmethod
    def generate(cls, name: str, kind: int = NOTE) -> Signer:
        seed = Ed25519PrivateKey.generate().private_bytes_raw()
        return cls(_check_name(name), kind, seed)

    @property
    def verifier(self) -> Verifier:
        public = (
            Ed25519PrivateKey.from_private_bytes(self.seed)
            .public_key()
            .public_bytes(Encoding.Raw, PublicFormat.Raw)
        )
        return Verifier(self.name, self.kind, public)

    def sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)

    def skey(self) -> str:
        encoded = base64.b64encode(bytes([self.kind]) + self.seed).decode("ascii")
        return f"PRIVATE+KEY+{self.name}+{self.verifier.id.hex()}+{encoded}"

    @classmethod
    def parse(cls, text: str, source: str = "signing key") -> Signer:
        try:
            private, key, name, hex_id, encoded = text.strip().split("+", 4)
            raw = base64.b64decode(encoded, validate=True)
            signer = cls(_check_name(name), raw[0], raw[1:])
            ok = (
                (private, key) == ("PRIVATE", "KEY")
                and len(signer.seed) == 32
                and signer.kind in (NOTE, COSIGNATURE)
                and signer.verifier.id.hex() == hex_id
            )
        except (ValueError, IndexError, binascii.Error):
            ok = False
        if not ok:
            raise NoteError(
                f"{source} is not a RIO signing key (PRIVATE+KEY+NAME+KEYID+BASE64, as "
                "`rio audit keygen` writes one)"
            )
        return signer


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    signatures: tuple[str, ...] = ()  # signature lines, without their newline

    @property
    def body(self) -> bytes:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n".encode()

    def text(self) -> str:
        return self.body.decode() + "\n" + "".join(f"{line}\n" for line in self.signatures)

    def signed(self, signer: Signer) -> Checkpoint:
        signature = signer.verifier.id + signer.sign(self.body)
        line = f"{DASH}{signer.name} {base64.b64encode(signature).decode()}"
        return Checkpoint(self.origin, self.size, self.root, (*self.signatures, line))

    def cosigned(self, witness: Signer, timestamp: int) -> str:
        """A witness's cosignature line for this checkpoint (tlog-cosignature)."""
        stamp = struct.pack(">Q", timestamp)
        signature = witness.sign(cosigned_message(self.body, timestamp))
        encoded = base64.b64encode(witness.verifier.id + stamp + signature).decode()
        return f"{DASH}{witness.name} {encoded}"

    def with_lines(self, lines: list[str]) -> Checkpoint:
        kept = [line for line in lines if line not in self.signatures]
        return Checkpoint(self.origin, self.size, self.root, (*self.signatures, *kept))

    @classmethod
    def parse(cls, text: str, source: str = "checkpoint") -> Checkpoint:
        body, sep, rest = text.partition("\n\n")
        lines = body.split("\n")
        try:
            if not sep or len(lines) < 3:
                raise ValueError("needs origin, size, root hash, a blank line, signatures")
            origin, size_text, root_text = lines[:3]
            if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
                raise ValueError(f"size {size_text!r} is not a decimal number")
            root = base64.b64decode(root_text, validate=True)
            if len(root) != 32:
                raise ValueError("the root hash is not 32 bytes")
            signatures = tuple(line for line in rest.split("\n") if line)
            if not signatures or not all(line.startswith(DASH) for line in signatures):
                raise ValueError("each signature line starts with an em dash and a space")
        except (ValueError, binascii.Error) as error:
            raise NoteError(f"{source} is not a signed checkpoint: {error}") from None
        return cls(origin, int(size_text), root, signatures)

    def _lines_by(self, verifier: Verifier) -> list[bytes]:
        found = []
        for line in self.signatures:
            name, _, encoded = line[len(DASH) :].partition(" ")
            try:
                raw = base64.b64decode(encoded, validate=True)
            except binascii.Error:
                continue
            if name == verifier.name and raw[:4] == verifier.id:
                found.append(raw[4:])
        return found

    def verify(self, keys: list[Verifier], source: str = "checkpoint") -> Verifier:
        """The log key that signed this checkpoint; refuses one signed by no key given."""
        for verifier in keys:
            if verifier.kind != NOTE:
                continue
            for signature in self._lines_by(verifier):
                if verifier.verify(self.body, signature):
                    return verifier
                raise NoteError(
                    f"{source}: the signature by {verifier.name} (key {verifier.id.hex()}) "
                    "does not verify: the checkpoint was altered or forged"
                )
        raise NoteError(
            f"{source} is not signed by the log's key ({', '.join(k.vkey() for k in keys)}): "
            "signed by another key, or not by this log"
        )

    def cosigned_by(self, witness: Verifier) -> int | None:
        """The timestamp of `witness`'s valid cosignature, or None if it has none."""
        for raw in self._lines_by(witness):
            if len(raw) != 8 + 64:
                continue
            (timestamp,) = struct.unpack(">Q", raw[:8])
            if witness.verify(cosigned_message(self.body, timestamp), raw[8:]):
                return int(timestamp)
        return None


def cosigned_message(body: bytes, timestamp: int) -> bytes:
    return b"cosignature/v1\ntime %d\n" % timestamp + body
