"""The checkpoint a report or an export rests on, so that a printed copy can later be proved
to rest on the log as it was (an inclusion or consistency proof against that checkpoint).

Every door that writes a report calls `stamp` once, after the read model has caught up:
size and root hash always, the signed checkpoint text when a signing key is configured.
A store whose tree cannot answer (an older store not yet migrated) still gets its report,
stamped as such rather than refused.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rio.audit.checkpoints import current_size, read_signer, root_at
from rio.audit.notes import Checkpoint
from rio.domain.errors import DomainError


@dataclass(frozen=True)
class Stamp:
    size: int | None
    root: str | None  # base64, as in the checkpoint
    checkpoint: str | None  # the signed checkpoint text, when a key is configured
    why: str = ""  # why there is no size, or no signature

    def line(self) -> str:
        if self.size is None:
            return f"Checkpoint: none ({self.why})"
        signed = "signed" if self.checkpoint else f"unsigned: {self.why}"
        return f"Checkpoint: tree size {self.size}, root {self.root} ({signed})"

    def to_json(self) -> dict[str, Any]:
        return {"size": self.size, "root": self.root, "checkpoint": self.checkpoint}

    def rows(self) -> list[list[str]]:
        """A row to end a table with: the signed checkpoint's whole text in one cell (so it
        can be copied out and verified as it is), else the one-line summary."""
        return [["checkpoint", self.checkpoint or self.line()]]


def stamp(rio: Any, key_file: Path | None) -> Stamp:
    try:
        size = current_size(rio)
        root = root_at(rio, size)
    except DomainError as error:
        return Stamp(None, None, None, str(error))
    signed, why = None, "no RIO_AUDIT_SIGNING_KEY_FILE"
    if key_file is not None:
        try:
            signer = read_signer(key_file)
        except DomainError as error:  # a report still goes out, saying why it is unsigned
            why = str(error)
        else:
            signed = Checkpoint(signer.name, size, root).signed(signer).text()
    return Stamp(size, base64.b64encode(root).decode("ascii"), signed, why)
