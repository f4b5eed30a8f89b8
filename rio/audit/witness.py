"""A witness: a second party that cosigns each checkpoint only after checking it extends the
last one it cosigned, so the log's operator cannot show two parties two histories.

The witness keeps its state (the last checkpoint it cosigned) in a small local JSON file,
fetches the log's checkpoint and a consistency proof from the last one, and only then signs
(C2SP tlog-cosignature) and hands its cosignature back to the log. A checkpoint of the same
size with another root, a smaller one, or one the proof does not connect is refused and
never cosigned.
"""

from __future__ import annotations

import json
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import structlog

from rio.audit.checkpoints import b64, check_consistency, unb64
from rio.audit.notes import Checkpoint, NoteError, Signer, Verifier
from rio.persistence.merkle import ProofError

log = structlog.get_logger("rio.audit")


class Log(Protocol):
    """The log's audit API, as a witness reaches it."""

    def get(self, path: str) -> str: ...

    def post(self, path: str, body: dict[str, Any]) -> str: ...


@dataclass(frozen=True)
class HTTPLog:
    """The log's API over HTTP(S), with an auditor key."""

    base_url: str
    api_key: str | None = None
    timeout: float = 30.0

    def _open(self, request: urllib.request.Request) -> str:
        if self.api_key:
            request.add_header("Authorization", f"Bearer {self.api_key}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return str(answer.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            detail = error.read().decode("utf-8", "replace")[:300]
            raise NoteError(
                f"the log answered {error.code} at {request.full_url}: {detail}"
            ) from None
        except (urllib.error.URLError, OSError) as error:
            raise NoteError(f"cannot reach the log at {request.full_url}: {error}") from None

    def get(self, path: str) -> str:
        return self._open(urllib.request.Request(self.base_url.rstrip("/") + path))

    def post(self, path: str, body: dict[str, Any]) -> str:
        request = urllib.request.Request(
            self.base_url.rstrip("/") + path,
            data=json.dumps(body).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        return self._open(request)


@dataclass(frozen=True)
class Witnessed:
    size: int
    cosigned: bool  # False: this checkpoint was cosigned on an earlier run
    line: str


def _read_state(path: Path) -> Checkpoint | None:
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Checkpoint(str(data["origin"]), int(data["size"]), unb64(data["root"], "root"))
    except (OSError, ValueError, KeyError, TypeError, ProofError) as error:
        raise NoteError(f"the witness state {path} cannot be read: {error}") from None


def _write_state(path: Path, at: Checkpoint) -> None:
    """Atomically: a crash leaves the old state or the new, never half of one."""
    data = json.dumps({"origin": at.origin, "size": at.size, "root": b64(at.root)})
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(data + "\n")
    os.replace(tmp, path)


def witness(
    log_api: Log, key: Signer, log_keys: list[Verifier], state: Path, now: int
) -> Witnessed:
    """Check the log's newest checkpoint against the last one cosigned; cosign it."""
    served = Checkpoint.parse(log_api.get("/audit/checkpoint"), "the log's checkpoint")
    served.verify(log_keys, "the log's checkpoint")
    last = _read_state(state)
    if last is not None:
        if served.origin != last.origin:
            raise NoteError(
                f"the log's origin is {served.origin!r}, the witness state's {last.origin!r}: "
                "another log (use another --state file)"
            )
        if served.size < last.size:
            raise ProofError(
                f"rollback: the log's checkpoint has size {served.size}, smaller than size "
                f"{last.size} already cosigned; not cosigned"
            )
        if served.size == last.size and served.root != last.root:
            raise ProofError(
                f"split view: the log's checkpoint of size {served.size} has another root "
                "than the one cosigned at that size; not cosigned"
            )
        if served.size > last.size:
            proof = json.loads(
                log_api.get(f"/audit/proof/consistency?old={last.size}&new={served.size}")
            )
            try:
                check_consistency(proof, last, served)
            except ProofError as error:
                raise ProofError(
                    f"fork: the log's checkpoint of size {served.size} does not extend the one "
                    f"cosigned at size {last.size} ({error}); not cosigned"
                ) from None
    mine = served.cosigned_by(key.verifier)
    if last is not None and served.size == last.size and mine is not None:
        return Witnessed(served.size, False, "")
    _write_state(state, served)
    line = served.cosigned(key, now)
    log_api.post("/audit/cosignatures", {"checkpoint": served.with_lines([line]).text()})
    log.info("audit_witness_cosigned", size=served.size, witness=key.name)
    return Witnessed(served.size, True, line)
