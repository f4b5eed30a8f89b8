"""Idempotency-Key: a retried POST records once and gets the first answer back.

Two records, for two jobs. The *receipt* says a request was done: the application commits
it in the same transaction as the request's events (rio.application.receipts), so after any
crash a retry finds it exactly when the events were committed, and replays; the receipt's
primary key refuses a second commit under one key whatever else happens. The *claim*, a
row here inserted before the command runs under a unique (key holder, key) constraint,
only keeps identical requests racing from doing the same work: the second is told the
first is still in progress. A claim left by a process that died is taken over after
`pending_seconds`; that is safe because the receipt, not the claim, guards the events.
After a refusal the claim is released and no receipt exists, so the client may fix the
request (or re-read the ETag) and retry with the same key.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from rio.application.receipts import Completed

metadata = sa.MetaData()

claims = sa.Table(
    "rio_api_idempotency",
    metadata,
    sa.Column("principal", sa.String(64), primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("started", sa.Float, nullable=False),  # unix seconds
    # Answers kept here by RIO before receipts: still replayed, never written now.
    sa.Column("status", sa.Integer, nullable=True),
    sa.Column("headers", sa.Text, nullable=True),
    sa.Column("body", sa.Text, nullable=True),
)


class Receipts(Protocol):
    """Where committed requests are found: the application (`RIO.completed`)."""

    def completed(self, holder: str, key: str) -> Completed | None: ...


@dataclass(frozen=True)
class Stored:
    """An answer as it was sent: status, headers, body."""

    status: int
    headers: dict[str, str]
    body: Any


@dataclass(frozen=True)
class Outcome:
    """What `begin` found: run the command (`run`); answer again from `completed` (or, for a
    key used before receipts, from `stored`); or refuse (`clash`)."""

    run: bool = False
    completed: Completed | None = None
    stored: Stored | None = None
    clash: str | None = None  # "different-request" or "in-progress"


class IdempotencyStore:
    def __init__(
        self,
        engine: Engine,
        pending_seconds: float,
        receipts: Receipts,
        *,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self._now = now  # seconds since the epoch; a test passes a clock it moves itself
        self._writer = engine.execution_options(rio_write=True)
        self.pending_seconds = pending_seconds
        self.receipts = receipts
        metadata.create_all(self._writer)

    def begin(self, principal: str, key: str, request_hash: str) -> Outcome:
        done = self.receipts.completed(principal, key)
        if done is not None:
            if done.request_hash != request_hash:
                return Outcome(clash="different-request")
            return Outcome(completed=done)
        now = self._now()
        try:
            with self._writer.begin() as conn:
                conn.execute(
                    claims.insert().values(
                        principal=principal, key=key, request_hash=request_hash, started=now
                    )
                )
            return Outcome(run=True)
        except sa.exc.IntegrityError:
            pass
        with self._writer.begin() as conn:
            row = conn.execute(
                sa.select(claims).where(claims.c.principal == principal, claims.c.key == key)
            ).first()
            if row is None:  # finished or released between our insert and this read
                return self.begin(principal, key, request_hash)
            if row.request_hash != request_hash:
                return Outcome(clash="different-request")
            if row.status is not None:
                return Outcome(
                    stored=Stored(row.status, json.loads(row.headers), json.loads(row.body))
                )
            if now - row.started < self.pending_seconds:
                return Outcome(clash="in-progress")
            # The first try never finished (its process died before committing, or the
            # receipt above would have been found): this retry takes the claim over.
            taken = conn.execute(
                claims.update()
                .where(
                    claims.c.principal == principal,
                    claims.c.key == key,
                    claims.c.status.is_(None),
                    claims.c.started == row.started,
                )
                .values(started=now)
            )
            return Outcome(run=True) if taken.rowcount == 1 else Outcome(clash="in-progress")

    def completed(self, principal: str, key: str) -> Completed | None:
        """The receipt of a request committed under this key, if any (after a failed try:
        was it a duplicate of one that got in first?)."""
        return self.receipts.completed(principal, key)

    def release(self, principal: str, key: str) -> None:
        """Drop the claim: after a refusal (nothing committed, so no receipt) or a success
        (the receipt answers from now on)."""
        with self._writer.begin() as conn:
            conn.execute(
                claims.delete().where(
                    claims.c.principal == principal,
                    claims.c.key == key,
                    claims.c.status.is_(None),
                )
            )
