"""The read model's tables, what their time columns mean, and the definition fingerprint.

A row is visible to the question (as_at, known_at) exactly when
valid_from <= as_at < valid_to and recorded_from <= known_at < recorded_to (`visible`).

A version row holds only the bounded part of a state (owners, dates, what is due). What
grows without bound with a recommendation's life (its notes, assessments, decisions,
actions and each commitment's revisions) is stored once, a row per fact (`facts`), and the
days it has facts on once each (`days`, whose latest is its `last_update`): copied into
every version, they made the read model grow with the square of the events.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

# Bump when what the tables mean changes: a read model with another definition is rebuilt.
DEFINITION_VERSION = "programme/8"  # /8: reported statuses, stages, review-wide promises
NAME = "programme"
REBUILDING = "rebuilding:"  # prefixes the definition in the tracking row during a rebuild
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)

metadata = sa.MetaData()

tracking = sa.Table(
    "rio_rm_tracking",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("definition", sa.String(64), nullable=False),
)


def _bitemporal(name: str, *columns: sa.Column[Any]) -> sa.Table:
    table = sa.Table(
        name,
        metadata,
        sa.Column("row_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("rec_id", sa.String(36), nullable=False),
        *columns,
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date, nullable=True),  # exclusive; NULL: still so
        sa.Column("recorded_from", sa.BigInteger, nullable=False),  # microseconds since 1970
        sa.Column("recorded_to", sa.BigInteger, nullable=True),  # exclusive; NULL: still known
        sa.Column("state", sa.Text, nullable=False),
    )
    # With valid_to, a follower reads only the open rows an event can change (`rows`).
    sa.Index(f"{name}_open", table.c.rec_id, table.c.recorded_to, table.c.valid_to)
    sa.Index(f"{name}_asat", table.c.valid_from, table.c.recorded_from)
    return table


def _point(name: str, *columns: sa.Column[Any]) -> sa.Table:
    """A table of facts that, once they have happened, stay so: no valid_to. A row is
    retired (recorded_to) only when a correction changes or retracts its fact."""
    table = sa.Table(
        name,
        metadata,
        sa.Column("row_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("rec_id", sa.String(36), nullable=False),
        *columns,
        sa.Column("valid_from", sa.Date, nullable=False),  # the day it occurred
        sa.Column("recorded_from", sa.BigInteger, nullable=False),
        sa.Column("recorded_to", sa.BigInteger, nullable=True),
    )
    return table


recommendation_versions = _bitemporal(
    "rio_rm_recommendation_versions",
    sa.Column("review", sa.String(200), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
)

commitment_versions = _bitemporal(
    "rio_rm_commitment_versions",
    sa.Column("review", sa.String(200), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("commitment", sa.String(200), nullable=False),
    sa.Column("ordinal", sa.Integer, nullable=False),  # its place in the recommendation
    sa.Column("owner", sa.String(200), nullable=True),  # its own owner, else the accountable one
    sa.Column("due_text", sa.String(200), nullable=True),
    sa.Column("due_latest", sa.Date, nullable=True),
    sa.Column("baseline_latest", sa.Date, nullable=True),
    sa.Column("delivered_on", sa.Date, nullable=True),
    sa.Column("withdrawn_on", sa.Date, nullable=True),
    sa.Column("superseded_on", sa.Date, nullable=True),  # replaced by its next stage
    # A review-wide promise's recommendations: "1,3"; "all"; NULL for a recommendation's own.
    sa.Column("serves", sa.String(200), nullable=True),
    sa.Column("unexplained_slips", sa.Integer, nullable=False),
    sa.Column("last_update", sa.Date, nullable=False),
)
sa.Index("rio_rm_commitment_versions_owner", commitment_versions.c.owner)
# Portfolio questions about what is known now read only this index, never the wide rows.
_NOW_COLUMNS = ("valid_from", "valid_to", "withdrawn_on", "delivered_on", "baseline_latest")
sa.Index(
    "rio_rm_commitment_versions_now",
    *(commitment_versions.c[name] for name in _NOW_COLUMNS),
    commitment_versions.c.due_latest,
    commitment_versions.c.last_update,
    sqlite_where=commitment_versions.c.recorded_to.is_(None),
    postgresql_where=commitment_versions.c.recorded_to.is_(None),
)
sa.Index(
    "rio_rm_commitment_versions_review", commitment_versions.c.review, commitment_versions.c.number
)
sa.Index(
    "rio_rm_recommendation_versions_review",
    recommendation_versions.c.review,
    recommendation_versions.c.number,
)

# One row per append-only fact: `kind` names the state's tuple it belongs to (`parts.ITEM_TYPES`),
# (phase, version) its place in valid-time order on its day (`rio.domain.history.day_order`),
# `commitment` a revision's commitment.
facts = _point(
    "rio_rm_facts",
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("phase", sa.SmallInteger, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("commitment", sa.String(200), nullable=True),
    sa.Column("state", sa.Text, nullable=False),
)
sa.Index("rio_rm_facts_order", facts.c.rec_id, facts.c.valid_from, facts.c.phase, facts.c.version)

# One row per day a recommendation has a fact on: its last update as at D is the latest <= D.
days = _point("rio_rm_days")
sa.Index("rio_rm_days_rec", days.c.rec_id, days.c.valid_from)

VERSIONED = (recommendation_versions, commitment_versions)  # rows that hold a span of days
BITEMPORAL = (*VERSIONED, facts, days)  # every table a recorded event writes rows to


@functools.cache
def definition() -> str:
    """A fingerprint of the version and the table definitions: any change forces a rebuild.

    Computed once: the tables are fixed when this module is imported, and rendering their
    types is far dearer than a page of events (every page checks the fingerprint)."""
    text = DEFINITION_VERSION + "".join(
        f"{t.name}:{[(c.name, str(c.type), c.nullable) for c in t.columns]}"
        for t in metadata.sorted_tables
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def micros(moment: datetime) -> int:
    return (moment - EPOCH) // MICROSECOND


def visible(table: sa.Table, as_at: date, known_at: datetime | None) -> list[Any]:
    """The conditions for a bitemporal table's rows as at `as_at`, as known at `known_at`."""
    return _visible(table, as_at, None if known_at is None else micros(known_at))


def visible_bound(table: sa.Table, known: bool) -> list[Any]:
    """`visible`, with the times as parameters (`as_at`, and `known_at` in microseconds when
    `known`): a statement built once and run many times skips building and caching it."""
    as_at = sa.bindparam("as_at", type_=sa.Date)
    return _visible(table, as_at, sa.bindparam("known_at", type_=sa.BigInteger) if known else None)


def _visible(table: sa.Table, as_at: Any, known: Any) -> list[Any]:
    conditions = [table.c.valid_from <= as_at]
    if "valid_to" in table.c:
        conditions.append(sa.or_(table.c.valid_to.is_(None), table.c.valid_to > as_at))
    if known is None:
        conditions.append(table.c.recorded_to.is_(None))
    else:
        conditions += [
            table.c.recorded_from <= known,
            sa.or_(table.c.recorded_to.is_(None), table.c.recorded_to > known),
        ]
    return conditions


def tracked(engine: Engine, conn: Connection | None = None) -> tuple[int, str]:
    """(position, definition) from the tracking row; locked when read in a write (`conn`)."""
    query = sa.select(tracking.c.position, tracking.c.definition).where(tracking.c.name == NAME)
    if conn is None:
        with engine.connect() as reading:
            row = reading.execute(query).one()
    else:
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).one()
    return int(row.position), str(row.definition)


@dataclass(frozen=True)
class Status:
    name: str
    position: int
    head: int
    definition_current: bool

    @property
    def lag(self) -> int:
        return self.head - self.position
