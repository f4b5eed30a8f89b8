"""One recommendation's history in valid-time order, with corrections applied as known at a moment.

Both the aggregate (to refuse contradictions) and the pure replay (to answer "as at")
read history through `effective`, so what RIO accepts and what it reports never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from rio.domain import facts as R
from rio.domain.due_window import DueWindow
from rio.domain.errors import (
    CommitmentClosed,
    DomainError,
    DuplicateCommitment,
    InvalidCommand,
    OutOfOrder,
    UnknownCommitment,
)
from rio.domain.facts import F

Event = R.Fact
TERMINAL = (R.MilestoneDelivered, R.CommitmentWithdrawn)
CLOSEABLE = (R.CommitmentRevised, R.MilestoneDelivered, R.CommitmentWithdrawn)


def day_order(occurred: date, phase: int, sequence: int) -> tuple[date, int, int]:
    """THE valid-time order: by occurred date; on one day by phase (registration, creation,
    change, closure: see `rio.domain.facts`); then by `sequence` (version, or place in a file).

    Every ordering of facts or of the commands that record them is this key."""
    return (occurred, phase, sequence)


def valid_order(event: Event) -> tuple[date, int, int]:
    """Sort key of a recorded fact: `day_order`, ties broken by the order it was recorded in."""
    return day_order(event.occurred, event.phase, event.originator_version)


def effective(events: Iterable[F], known_at: datetime | None = None) -> list[F]:
    """The facts as RIO knew them at `known_at` (default: now), corrected, in valid-time order.

    Corrections are applied in the order they were recorded; later ones win. The
    correction events themselves are not facts about the world and are left out.
    """
    visible = [e for e in events if known_at is None or e.timestamp <= known_at]
    facts: dict[int, F] = {}
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


@dataclass
class Checked:
    """What `check_history` knew at the end of a history it accepted, so that a fact dated
    after all of it is checked alone: re-checking the whole history for every new fact made
    a long-lived recommendation's load quadratic (10,000 notes: minutes)."""

    size: int  # the events it covers, corrections included
    tail: Event  # the last of them, to tell this history from another of the same size
    last: tuple[date, int, int]  # the valid-time key of the last effective fact
    lives: dict[str, _Life]
    actions: set[str]
    seen: set[str]

    def covers(self, events: Sequence[Event]) -> bool:
        return len(events) == self.size and events[-1] == self.tail


def check_history(
    events: Sequence[Event], new_version: int, checked: Checked | None = None
) -> Checked | None:
    """Refuse a history that contradicts itself; `new_version` is the event being added.

    When the new event is fine on its own but makes an older one impossible (a backdated
    withdrawal before a recorded revision), the error says so. `checked` (what the last
    call returned) lets a fact dated after the whole accepted history be checked alone.
    """
    new = events[-1]
    if (
        checked is not None
        and not isinstance(new, R.EventCorrected)
        and checked.covers(events[:-1])
        and valid_order(new) > checked.last
    ):
        # The history before it was accepted and nothing in it comes after this fact, so
        # the full check would walk the same facts to the same state, then check this one.
        # Checked on copies, never in place: the aggregate's copies (one per command, from
        # the cache) share this record, and a command that is never saved must leave it as
        # it was. Copying costs one entry per commitment and action, not per fact.
        lives = {name: replace(life) for name, life in checked.lives.items()}
        seen, actions = set(checked.seen), set(checked.actions)
        _check_one(new, lives, actions | _action_of(new), seen)
        if isinstance(new, R.ActionAdded):
            actions.add(new.action)
        return Checked(len(events), new, valid_order(new), lives, actions, seen)
    facts = effective(events)
    try:
        found = _check(facts)
    except _Contradiction as contradiction:
        error = contradiction.error
        if contradiction.version != new_version:
            raise type(error)(
                f"that would contradict what is already recorded: {error} "
                f"(recorded event {contradiction.version})"
            ) from None
        raise error from None
    if found is None:
        return None
    return Checked(len(events), new, valid_order(facts[-1]), *found)


def _action_of(fact: Event) -> set[str]:
    return {fact.action} if isinstance(fact, R.ActionAdded) else set()


class _Contradiction(Exception):
    def __init__(self, version: int, error: DomainError) -> None:
        super().__init__(str(error))
        self.version = version
        self.error = error


def _check(facts: Sequence[Event]) -> tuple[dict[str, _Life], set[str], set[str]] | None:
    """Walk the facts; return what they leave (commitments' lives, actions, actions seen)."""
    if not facts or not isinstance(facts[0], R.Registered):
        first = facts[0] if facts else None
        if first is None:
            return None
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
    return lives, actions, seen_actions


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
        if fact.supersedes is not None:
            _supersede(fact, lives)
        lives[fact.commitment] = _Life(fact.occurred, fact.due, fact.deliverable)
        return
    if (
        isinstance(fact, R.StatusReported)
        and fact.action is not None
        and fact.action not in actions
    ):
        known = ", ".join(sorted(actions)) or "none"
        raise InvalidCommand(
            f"the status reported on {fact.occurred} is about action {fact.action!r}, which "
            f"this recommendation does not have (actions: {known})"
        )
    commitment = getattr(fact, "commitment", None)
    if commitment is None:
        return
    life = lives.get(commitment)
    if life is None:
        raise UnknownCommitment(f"no commitment {commitment!r} had been made by {fact.occurred}")
    if isinstance(fact, CLOSEABLE) and life.closed_by is not None:
        closed = life.closed_by
        how = _closed_how(closed)
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


def _supersede(fact: R.CommitmentMade, lives: dict[str, _Life]) -> None:
    """A next stage closes the stage it replaces, which must be open when it is made."""
    earlier = fact.supersedes
    assert earlier is not None
    life = lives.get(earlier)
    if life is None:
        raise UnknownCommitment(
            f"commitment {fact.commitment!r} supersedes {earlier!r}, but no commitment "
            f"{earlier!r} had been made by {fact.occurred}"
        )
    if life.closed_by is not None:
        raise CommitmentClosed(
            f"commitment {earlier!r} was {_closed_how(life.closed_by)} on "
            f"{life.closed_by.occurred}; {fact.commitment!r} cannot supersede it on {fact.occurred}"
        )
    life.closed_by = fact


def _closed_how(closed: Event) -> str:
    if isinstance(closed, R.MilestoneDelivered):
        return "delivered"
    if isinstance(closed, R.CommitmentMade):
        return f"superseded by {closed.commitment!r}"
    return "withdrawn"


def _kind(fact: Event) -> str:
    return type(fact).__name__


def _verb(fact: Event) -> str:
    if isinstance(fact, R.MilestoneDelivered):
        return "delivered"
    if isinstance(fact, R.CommitmentWithdrawn):
        return "withdrawn"
    return "revised"
