"""One transaction for many inserts: how a large load is recorded all or nothing without
holding all of its events in memory at once.

A scenario file of 70,000 recommendations is planned and recorded a few thousand events at a
time, each chunk inserted (with its chain links) into the one open transaction; the load
commits once at the end, or rolls back entirely. Both chained recorders provide it.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

from eventsourcing.persistence import StoredEvent


class Insert(Protocol):
    """Insert events (and, with `receipt=`, a request's receipt) into the open transaction."""

    def __call__(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None: ...


@runtime_checkable
class BulkRecorder(Protocol):
    def inserting(self) -> AbstractContextManager[Insert]:
        """A transaction that commits when the block ends and rolls back if it raises."""
        ...
