"""Idempotency-Key records: a retried POST records once and gets the first answer back.

The record is inserted *before* the command runs, under a unique (key holder, key)
constraint, so of two identical requests racing only one can run the command; the other
is told the first is still in progress, or gets its stored answer once it is done. Only
successful (2xx) answers are kept: after a refusal the key is released, so the client may
fix the request (or re-read the ETag) and retry with the same key.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

metadata = sa.MetaData()

records = sa.Table(
    "rio_api_idempotency",
    metadata,
    sa.Column("principal", sa.String(64), primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("started", sa.Float, nullable=False),  # unix seconds
    sa.Column("status", sa.Integer, nullable=True),  # NULL while the first try runs
    sa.Column("headers", sa.Text, nullable=True),
    sa.Column("body", sa.Text, nullable=True),
)


@dataclass(frozen=True)
class Stored:
    status: int
    headers: dict[str, str]
    body: Any


@dataclass(frozen=True)
class Outcome:
    """What `begin` found: run the command (`run`), replay `stored`, or refuse (`clash`)."""

    run: bool = False
    stored: Stored | None = None
    clash: str | None = None  # "different-request" or "in-progress"


class IdempotencyStore:
    def __init__(self, engine: Engine, pending_seconds: float) -> None:
        self.engine = engine
        self._writer = engine.execution_options(rio_write=True)
        self.pending_seconds = pending_seconds
        metadata.create_all(self._writer)

    def begin(self, principal: str, key: str, request_hash: str) -> Outcome:
        now = time.time()
        try:
            with self._writer.begin() as conn:
                conn.execute(
                    records.insert().values(
                        principal=principal, key=key, request_hash=request_hash, started=now
                    )
                )
            return Outcome(run=True)
        except sa.exc.IntegrityError:
            pass
        with self._writer.begin() as conn:
            row = conn.execute(
                sa.select(records).where(records.c.principal == principal, records.c.key == key)
            ).first()
            if row is None:  # released between our insert and this read: try again
                return self.begin(principal, key, request_hash)
            if row.request_hash != request_hash:
                return Outcome(clash="different-request")
            if row.status is not None:
                return Outcome(
                    stored=Stored(row.status, json.loads(row.headers), json.loads(row.body))
                )
            if now - row.started < self.pending_seconds:
                return Outcome(clash="in-progress")
            # The first try never finished (its process died): this retry takes it over.
            taken = conn.execute(
                records.update()
                .where(
                    records.c.principal == principal,
                    records.c.key == key,
                    records.c.status.is_(None),
                    records.c.started == row.started,
                )
                .values(started=now)
            )
            return Outcome(run=True) if taken.rowcount == 1 else Outcome(clash="in-progress")

    def complete(self, principal: str, key: str, stored: Stored) -> None:
        with self._writer.begin() as conn:
            conn.execute(
                records.update()
                .where(records.c.principal == principal, records.c.key == key)
                .values(
                    status=stored.status,
                    headers=json.dumps(stored.headers),
                    body=json.dumps(stored.body),
                )
            )

    def release(self, principal: str, key: str) -> None:
        with self._writer.begin() as conn:
            conn.execute(
                records.delete().where(
                    records.c.principal == principal,
                    records.c.key == key,
                    records.c.status.is_(None),
                )
            )
