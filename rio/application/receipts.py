"""What a keyed request recorded, kept with its events, so a retry is answered, never re-run.

A door (the API) names a request by its holder, its Idempotency-Key and a hash of what it
asked (`RequestKey`); the application writes the request's result (`Recorded`, or a batch's
`BatchResult`) as a receipt in the transaction that records its events
(rio.persistence.receipts), and reads it back here, typed, for the door to answer from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from uuid import UUID

from rio.application.batch import BatchResult
from rio.persistence.receipts import Receipt


@dataclass(frozen=True)
class RequestKey:
    """A request's Idempotency-Key: whose it is (keys are per holder) and what it asked."""

    holder: str
    key: str
    request_hash: str


@dataclass(frozen=True)
class Recorded:
    """What one command recorded: its recommendation's new version."""

    rec: UUID
    version: int


Result = Recorded | BatchResult


@dataclass(frozen=True)
class Completed:
    """A keyed request whose events were committed: the hash of what it asked, and its result."""

    request_hash: str
    result: Result


def receipt(request: RequestKey, result: Result) -> Receipt:
    """The receipt to commit with the events of `request`."""
    if isinstance(result, Recorded):
        data: dict[str, object] = {
            "kind": "recorded",
            "rec": str(result.rec),
            "version": result.version,
        }
    else:
        data = {
            "kind": "batch",
            "recorded": result.recorded,
            "already_recorded": result.already_recorded,
            "recommendations": result.recommendations,
            "versions": result.versions,
        }
    return Receipt(request.holder, request.key, request.request_hash, json.dumps(data))


def completed(stored: Receipt) -> Completed:
    """A stored receipt, read back as the result it recorded."""
    data = json.loads(stored.result)
    result: Result
    if data["kind"] == "recorded":
        result = Recorded(UUID(data["rec"]), int(data["version"]))
    else:
        result = BatchResult(
            recorded=int(data["recorded"]),
            already_recorded=int(data["already_recorded"]),
            recommendations=[int(n) for n in data["recommendations"]],
            versions=[int(v) for v in data["versions"]],
        )
    return Completed(stored.request_hash, result)
