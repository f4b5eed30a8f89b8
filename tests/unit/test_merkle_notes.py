"""Signed notes, checkpoints and cosignatures in the C2SP formats: keys read back as written,
a rotated key keeps old checkpoints verifiable, and the standalone verifier agrees."""

from __future__ import annotations

import base64
import hashlib
import struct

import pytest

from rio.audit.checkpoints import published_keys
from rio.audit.notes import COSIGNATURE, Checkpoint, NoteError, Signer, Verifier
from tests.support.audit import tool

ROOT = hashlib.sha256(b"root").digest()


def test_keys_read_back_as_written_whatever_their_base64_holds() -> None:
    for _ in range(20):  # base64 holds '+' often enough: keys are split on the first ones
        signer = Signer.generate("rio.test/log")
        assert Signer.parse(signer.skey()) == signer
        assert Verifier.parse(signer.verifier.vkey()) == signer.verifier
        assert tool.read_key(signer.verifier.vkey()).public == signer.verifier.public
    with pytest.raises(NoteError, match="not an Ed25519 verifier key"):
        Verifier.parse("rio.test/log+00000000+AAAA")
    with pytest.raises(NoteError, match="no spaces"):
        Signer.generate("has space")


def test_the_key_id_and_the_signed_body_are_the_signed_note_formats() -> None:
    signer = Signer.generate("rio.test/log")
    public = signer.verifier.public
    assert signer.verifier.id == hashlib.sha256(b"rio.test/log\n\x01" + public).digest()[:4]
    signed = Checkpoint("rio.test/log", 5, ROOT).signed(signer)
    text = signed.text()
    body, _, line = text.partition("\n\n")
    assert body == f"rio.test/log\n5\n{base64.b64encode(ROOT).decode()}"
    assert line.startswith("\u2014 rio.test/log ")
    raw = base64.b64decode(line.split(" ")[2])
    assert raw[:4] == signer.verifier.id and signer.verifier.verify((body + "\n").encode(), raw[4:])


def test_a_cosignature_signs_the_cosignature_v1_message_with_its_time() -> None:
    witness = Signer.generate("clerk.example/w", COSIGNATURE)
    at = Checkpoint("rio.test/log", 5, ROOT)
    line = at.cosigned(witness, 1679315147)
    raw = base64.b64decode(line.split(" ")[2])
    assert (
        raw[:4] == hashlib.sha256(b"clerk.example/w\n\x04" + witness.verifier.public).digest()[:4]
    )
    assert struct.unpack(">Q", raw[4:12]) == (1679315147,)
    message = b"cosignature/v1\ntime 1679315147\n" + at.body
    assert witness.verifier.verify(message, raw[12:])
    assert at.with_lines([line]).cosigned_by(witness.verifier) == 1679315147
    assert (
        Checkpoint("rio.test/log", 6, ROOT).with_lines([line]).cosigned_by(witness.verifier) is None
    )


def test_a_rotated_key_keeps_old_checkpoints_verifiable() -> None:
    old, new = Signer.generate("rio.test/log"), Signer.generate("rio.test/log")
    earlier = Checkpoint("rio.test/log", 3, ROOT).signed(old)
    keys = published_keys(new, [old.verifier])
    assert keys == [new.verifier, old.verifier]
    assert earlier.verify(keys) == old.verifier
    with pytest.raises(NoteError, match="signed by another key"):
        earlier.verify([new.verifier])
