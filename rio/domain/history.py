"""One recommendation's history in valid-time order, with corrections applied as known at a moment.

Both the aggregate (to refuse contradictions) and the pure replay (to answer "as at")
read history through `effective`, so what RIO accepts and what it reports never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from rio.aggregates.recommendation import Recommendation as R
from rio.domain.due_window import DueWindow
from rio.domain.errors import (
    CommitmentClosed,
    DomainError,
    DuplicateCommitment,
    InvalidCommand,
    OutOfOrder,
    UnknownCommitment,
)

Event = R.Event
TERMINAL = (R.MilestoneDelivered, R.CommitmentWithdrawn)
CLOSEABLE = (R.CommitmentRevised, R.MilestoneDelivered, R.CommitmentWithdrawn)


def valid_order(event: Event) -> tuple[date, int, int]:
    """Sort key: by occurred date; on one day, creation before change before closure."""
    if isinstance(event, R.Registered):
        phase = 0
    elif isinstance(event, R.ActionAdded | R.CommitmentMade):
        phase = 1
    elif isinstance(event, TERMINAL):
        phase = 3
    else:
        phase = 2
    return (event.occurred, phase, event.originator_version)


def effective(events: Iterable[Event], known_at: datetime | None = None) -> list[Event]:
    """The facts as RIO knew them at `known_at` (default: now), corrected, in valid-time order.

    Corrections are applied in the order they were recorded; later ones win. The
    correction events themselves are not facts about the world and are left out.
    """
    visible = [e for e in events if known_at is None or e.timestamp <= known_at]
    facts: dict[int, Event] = {}
    corrections: list[R.EventCorrected] = []
    for event in visible:
        if isinstance(event, R.EventCorrected):
            corrections.append(event)
        else:
            facts[event.originator_version] = event
    corrections.sort(key=lambda c: (c.timestamp, c.originator_version))
    for correction in corrections:
        target = facts.get(correction.corrects)
        if target is None:
            continue
        if correction.retracted:
            del facts[correction.corrects]
        else:
            facts[correction.corrects] = correction.corrected(target)
    return sorted(facts.values(), key=valid_order)


@dataclass
class _Life:
    made: date
    due: DueWindow | None
    deliverable: str
    closed_by: Event | None = None


def check_history(events: Sequence[Event], new_version: int) -> None:
    """Refuse a history that contradicts itself; `new_version` is the event being added.

    When the new event is fine on its own but makes an older one impossible (a backdated
    withdrawal before a recorded revision), the error says so.
    """
    try:
        _check(effective(events))
    except _Contradiction as contradiction:
        error = contradiction.error
        if contradiction.version != new_version:
            raise type(error)(
                f"that would contradict what is already recorded: {error} "
                f"(recorded event {contradiction.version})"
            ) from None
        raise error from None


class _Contradiction(Exception):
    def __init__(self, version: int, error: DomainError) -> None:
        super().__init__(str(error))
        self.version = version
        self.error = error


def _check(facts: Sequence[Event]) -> None:
    if not facts or not isinstance(facts[0], R.Registered):
        first = facts[0] if facts else None
        if first is None:
            return
        registered_on = next((f.occurred for f in facts if isinstance(f, R.Registered)), None)
        raise _Contradiction(
            first.originator_version,
            OutOfOrder(
                f"{_kind(first)} on {first.occurred} is dated before the recommendation was "
                f"made on {registered_on}"
            ),
        )
    actions = {f.action for f in facts if isinstance(f, R.ActionAdded)}
    seen_actions: set[str] = set()
    lives: dict[str, _Life] = {}
    for fact in facts:
        try:
            _check_one(fact, lives, actions, seen_actions)
        except DomainError as error:
            raise _Contradiction(fact.originator_version, error) from None


def _check_one(fact: Event, lives: dict[str, _Life], actions: set[str], seen: set[str]) -> None:
    if isinstance(fact, R.ActionAdded):
        if fact.action in seen:
            raise InvalidCommand(f"action {fact.action!r} was already added")
        seen.add(fact.action)
        return
    if isinstance(fact, R.CommitmentMade):
        if fact.commitment in lives:
            raise DuplicateCommitment(
                f"commitment {fact.commitment!r} was already made on "
                f"{lives[fact.commitment].made}; revise it instead"
            )
        if fact.action is not None and fact.action not in actions:
            known = ", ".join(sorted(actions)) or "none"
            raise InvalidCommand(
                f"commitment {fact.commitment!r} serves action {fact.action!r}, which this "
                f"recommendation does not have (actions: {known})"
            )
        lives[fact.commitment] = _Life(fact.occurred, fact.due, fact.deliverable)
        return
    commitment = getattr(fact, "commitment", None)
    if commitment is None:
        return
    life = lives.get(commitment)
    if life is None:
        raise UnknownCommitment(f"no commitment {commitment!r} had been made by {fact.occurred}")
    if isinstance(fact, CLOSEABLE) and life.closed_by is not None:
        closed = life.closed_by
        how = "delivered" if isinstance(closed, R.MilestoneDelivered) else "withdrawn"
        raise CommitmentClosed(
            f"commitment {commitment!r} was {how} on {closed.occurred}; it cannot be "
            f"{_verb(fact)} on {fact.occurred}"
        )
    if isinstance(fact, R.CommitmentRevised):
        if fact.due in (None, life.due) and fact.deliverable in (None, life.deliverable):
            due = life.due.text if life.due else "no date"
            raise InvalidCommand(
                f"the revision of {commitment!r} changes nothing: it is already due {due!r}"
            )
        if fact.due is not None:
            life.due = fact.due
        if fact.deliverable is not None:
            life.deliverable = fact.deliverable
    if isinstance(fact, TERMINAL):
        life.closed_by = fact


def _kind(fact: Event) -> str:
    return type(fact).__name__


def _verb(fact: Event) -> str:
    if isinstance(fact, R.MilestoneDelivered):
        return "delivered"
    if isinstance(fact, R.CommitmentWithdrawn):
        return "withdrawn"
    return "revised"
