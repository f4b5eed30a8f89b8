"""Receipts: a keyed request's completion, written in the transaction that records its events.

An Idempotency-Key is only as good as the place its completion is kept. Kept apart from the
events, a crash between the two commits leaves events without a record of the key, and a
retry records them again. So the chained recorders write the receipt in the same database
transaction as the events and their chain links: a receipt exists exactly when its events
were committed, and its primary key (holder, key) refuses a second commit under one key
whatever any other bookkeeping says.

The application passes the receipt down its save path as an explicit keyword argument
(`Application.save(..., receipt=...)`), which eventsourcing hands to `insert_events`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

RECEIPT = "receipt"  # the keyword argument `insert_events` receives it under


@dataclass(frozen=True)
class Receipt:
    """Who sent which key for which request, and what it recorded (the application's JSON)."""

    holder: str
    key: str
    request_hash: str
    result: str


@runtime_checkable
class ReceiptRecorder(Protocol):
    """A recorder that keeps receipts with its events."""

    def select_receipt(self, holder: str, key: str) -> Receipt | None: ...


def receipt_to_write(kwargs: Mapping[str, Any]) -> Receipt | None:
    """The receipt a save passed down with its events, if any; anything else is a bug."""
    receipt = kwargs.get(RECEIPT)
    if receipt is None or isinstance(receipt, Receipt):
        return receipt
    raise TypeError(f"{RECEIPT}= must be a Receipt, not {type(receipt).__name__}")
