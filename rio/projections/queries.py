"""Questions to the read model's tables: the programme, its commitments, its reviews.

Each answers exactly what the pure replay answers (`rio.domain.replay`), by indexed SQL.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from rio.domain.state import Commitment, Programme
from rio.projections import codec, parts
from rio.projections.tables import (
    commitment_versions,
    days,
    facts,
    micros,
    recommendation_versions,
    visible,
    visible_bound,
)


def programme(
    engine: Engine, as_at: date, known_at: datetime | None = None, only: UUID | None = None
) -> Programme:
    """The programme as at `as_at`, as known at `known_at`; `only` restricts the answer to
    one recommendation (an indexed lookup). Each state is joined from its parts (`parts`):
    its bounded version, its commitments' versions, its facts and its latest day."""
    rec_query, commitment_query, items_query, latest_query = _programme_queries(
        known_at is not None, only is not None
    )
    params = {
        "as_at": as_at,
        "known_at": None if known_at is None else micros(known_at),
        "rec_id": None if only is None else str(only),
    }
    with engine.connect() as conn:
        rec_rows = conn.execute(rec_query, params).all()
        by_rec: dict[str, list[Commitment]] = {}
        for rec_id, text in conn.execute(commitment_query, params):
            by_rec.setdefault(rec_id, []).append(codec.loads_commitment(text))
        items = _found_items(conn.execute(items_query, params))
        latest = {rec_id: _day(day) for rec_id, day in conn.execute(latest_query, params)}
    return Programme(
        as_at=as_at,
        known_at=known_at,
        recommendations=tuple(
            parts.join(
                codec.loads_recommendation(text),
                latest.get(rec_id),
                by_rec.get(rec_id, ()),
                items.get(rec_id, ()),
            )
            for rec_id, text in rec_rows
        ),
    )


@functools.cache
def _programme_queries(known: bool, one: bool) -> tuple[sa.Select[Any], ...]:
    """`programme`'s four statements, built once for each shape of question: building and
    caching a statement cost more than running it for one recommendation."""
    recs, commits = recommendation_versions, commitment_versions

    def where(table: sa.Table) -> list[Any]:
        only = [table.c.rec_id == sa.bindparam("rec_id", type_=sa.String)] if one else []
        return [*visible_bound(table, known), *only]

    return (
        sa.select(recs.c.rec_id, recs.c.state)
        .where(*where(recs))
        .order_by(recs.c.review, recs.c.number),
        sa.select(commits.c.rec_id, commits.c.state)
        .where(*where(commits))
        .order_by(commits.c.rec_id, commits.c.ordinal),
        _items_query().where(*where(facts)),
        sa.select(days.c.rec_id, sa.func.max(days.c.valid_from))
        .where(*where(days))
        .group_by(days.c.rec_id),
    )


def commitments(engine: Engine, as_at: date, known_at: datetime | None = None) -> list[Commitment]:
    table = commitment_versions
    query = sa.select(table.c.rec_id, table.c.state).where(*visible(table, as_at, known_at))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
        revisions = _items(conn, as_at, known_at, None, kind=parts.REVISIONS)
    result = []
    for rec_id, text in rows:
        by_name: dict[str, list[Any]] = {}
        for _, name, item in revisions.get(rec_id, ()):
            by_name.setdefault(name or "", []).append(item)
        result.append(parts.with_revisions(codec.loads_commitment(text), by_name))
    return result


def _items(
    conn: Connection,
    as_at: date,
    known_at: datetime | None,
    only: UUID | None,
    kind: str | None = None,
) -> dict[str, list[tuple[str, str | None, Any]]]:
    """Each recommendation's append-only facts as at `as_at`, in valid-time order."""
    query = _items_query().where(*visible(facts, as_at, known_at), *_only(facts, only))
    if kind is not None:
        query = query.where(facts.c.kind == kind)
    return _found_items(conn.execute(query))


def _items_query() -> sa.Select[Any]:
    return sa.select(facts.c.rec_id, facts.c.kind, facts.c.commitment, facts.c.state).order_by(
        facts.c.rec_id, facts.c.valid_from, facts.c.phase, facts.c.version
    )


def _found_items(rows: Iterable[Any]) -> dict[str, list[tuple[str, str | None, Any]]]:
    found: dict[str, list[tuple[str, str | None, Any]]] = {}
    for rec_id, of_kind, commitment, text in rows:
        item = codec.loads(parts.ITEM_TYPES[of_kind], text)
        found.setdefault(rec_id, []).append((of_kind, commitment, item))
    return found


def _only(table: sa.Table, only: UUID | None) -> Sequence[sa.ColumnElement[bool]]:
    return [] if only is None else [table.c.rec_id == str(only)]


def _day(value: date | str) -> date:
    """max() of a date column: SQLite gives back its text, not a date."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def reviews(engine: Engine) -> list[str]:
    """The reviews with a recommendation on record now."""
    table = recommendation_versions
    query = sa.select(table.c.review).where(table.c.recorded_to.is_(None)).distinct()
    with engine.connect() as conn:
        return sorted(conn.execute(query).scalars())
