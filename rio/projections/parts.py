"""A state's two parts: the bounded part a version row holds, and the append-only facts
(notes, assessments, decisions, actions, revisions) stored once each, then joined again.

Copied into every version of a state, the append-only tuples made the read model grow with
the square of a recommendation's events. The fold (`rio.domain.replay`) only ever appends
to them, one item per fact, in valid-time order, and nothing bounded is derived from them,
so the state as at D is its bounded part as at D with the items of the facts up to D.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from rio.domain.state import (
    Action,
    Assessment,
    Commitment,
    Decision,
    Note,
    RecommendationState,
    Revision,
    StatusReport,
    replace,
)

# The RecommendationState tuples the fold appends a fact's item to, and each item's type.
RECOMMENDATION_ITEMS: dict[str, type[Any]] = {
    "actions": Action,
    "decisions": Decision,
    "notes": Note,
    "assessments": Assessment,
    "statuses": StatusReport,
}
REVISIONS = "revisions"  # the Commitment tuple of the same kind
ITEM_TYPES: dict[str, type[Any]] = {**RECOMMENDATION_ITEMS, REVISIONS: Revision}
_EMPTY = {kind: () for kind in RECOMMENDATION_ITEMS}


def bounded(state: RecommendationState) -> RecommendationState:
    """What a recommendation version row holds: no commitments (their own rows), no items,
    and no last update (the `days` table's latest day answers it)."""
    return replace(state, commitments=(), last_update=None, **_EMPTY)


def bounded_commitment(commitment: Commitment) -> Commitment:
    return replace(commitment, revisions=()) if commitment.revisions else commitment


def split(state: RecommendationState) -> tuple[RecommendationState, list[tuple[str, Any]]]:
    """The state without its items, and the (kind, item) pairs taken out of it."""
    items = [(kind, item) for kind in RECOMMENDATION_ITEMS for item in getattr(state, kind)]
    return (replace(state, **_EMPTY) if items else state), items


def join(
    state: RecommendationState,
    last_update: date | None,
    commitments: Sequence[Commitment],
    items: Iterable[tuple[str, str | None, Any]],
) -> RecommendationState:
    """The whole state again from its parts: `items` are (kind, commitment, item) in
    valid-time order, a revision naming its commitment."""
    tuples: dict[str, list[Any]] = {kind: [] for kind in RECOMMENDATION_ITEMS}
    revisions: dict[str, list[Any]] = {}
    for kind, commitment, item in items:
        if kind == REVISIONS:
            revisions.setdefault(commitment or "", []).append(item)
        else:
            tuples[kind].append(item)
    return replace(
        state,
        last_update=last_update,
        commitments=tuple(with_revisions(c, revisions) for c in commitments),
        **{kind: tuple(found) for kind, found in tuples.items()},
    )


def with_revisions(commitment: Commitment, revisions: Mapping[str, Sequence[Any]]) -> Commitment:
    found = revisions.get(commitment.commitment)
    return replace(commitment, revisions=tuple(found)) if found else commitment
