"""The application service driven by random commands, checked against the pure fold each step.

A hypothesis state machine registers recommendations and makes, revises, delivers, withdraws
and corrects commitments through `RIO` on a real store, with back-filled occurred dates (any
order against the recording order) and a clock that moves forward between commands. Many
commands are refused (unknown commitments, dates in the future, a stale expected version, a
second registration): a refused command must leave the stored log exactly as it was, and an
accepted one may only add to it. After every step the read model, caught up from the log,
must answer exactly as the fold over the stored events for several (as_at, known_at) pairs,
and the application's cached aggregates must equal aggregates rebuilt from the log.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import event as note_outcome
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from rio.aggregates.recommendation import Recommendation, recommendation_id
from rio.application.service import RIO
from rio.domain import clock
from rio.domain.errors import DomainError
from rio.projections.read_model import ReadModel
from rio.projections.readers import ReplayReader
from tests.properties.histories import COMMITMENTS, OCCURRED, PHRASES
from tests.support import commands
from tests.support.stores import fresh_url

REVIEW = "machine"
# Mostly recommendation 1 (registered first), so most commands find what they act on.
NUMBERS = st.sampled_from([1, 1, 2])
REGISTERED = st.dates(date(2022, 1, 1), date(2022, 6, 30))
COMMITMENT = st.sampled_from(COMMITMENTS[:2])
# Minutes between two commands: from a burst to a long pause, so recorded times interleave
# with every kind of back-filled occurred date.
GAP = st.integers(1, 60 * 24 * 60)
FIRST_RECORDED = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
# A stored notification, as the log holds it: what "unchanged" is checked against.
Row = tuple[int, UUID | str, int, str, bytes]


class ApplicationMachine(RuleBasedStateMachine):
    """One store, one application, one read model; subclasses choose the store."""

    backend: ClassVar[str] = "sqlite"

    def __init__(self) -> None:
        super().__init__()
        self.stack = ExitStack()
        url = self.stack.enter_context(fresh_url(self.backend))
        self.rio = RIO(url)
        self.stack.callback(self.rio.close)
        self.model = ReadModel(self.rio, page=3)  # small pages: catch-ups span several
        self.stack.callback(self.model.close)
        self.now = FIRST_RECORDED
        self.ids: dict[int, UUID] = {}
        self.versions: dict[int, int] = {}

    def teardown(self) -> None:
        self.stack.close()

    # --- commands --------------------------------------------------------------------------

    @initialize(
        occurred=REGISTERED,
        promised=st.dates(date(2022, 7, 1), date(2023, 6, 30)),
        due=st.sampled_from(PHRASES),
        gap=GAP,
    )
    def begin(self, occurred: date, promised: date, due: str | None, gap: int) -> None:
        """Recommendation 1 with commitment "a" from the start, so most commands have
        something to act on (the rules below still add, refuse and correct at random)."""
        self.register(1, occurred, gap)
        self.make(1, "a", "Plan", due, promised, gap)

    @rule(number=NUMBERS, occurred=REGISTERED, gap=GAP)
    def register(self, number: int, occurred: date, gap: int) -> None:
        registered = self._attempt(
            "register", gap, lambda: commands.register(self.rio, REVIEW, number, occurred)
        )
        if number in self.ids:
            assert registered is None, "a second registration is refused"
        elif registered is not None:
            self.ids[number] = registered
            self.versions[number] = 1

    @rule(
        number=NUMBERS,
        commitment=COMMITMENT,
        deliverable=st.sampled_from(["Plan", "Framework", "Scheme"]),
        due=st.sampled_from(PHRASES),
        occurred=OCCURRED,
        gap=GAP,
    )
    def make(
        self,
        number: int,
        commitment: str,
        deliverable: str,
        due: str | None,
        occurred: date,
        gap: int,
    ) -> None:
        fields = {"commitment": commitment, "deliverable": deliverable, "due": due}
        self._send(number, "make", fields, occurred, gap)

    @rule(
        number=NUMBERS,
        commitment=COMMITMENT,
        due=st.sampled_from(PHRASES),
        reason=st.sampled_from([None, "consultation ran long"]),
        occurred=OCCURRED,
        gap=GAP,
    )
    def revise(
        self,
        number: int,
        commitment: str,
        due: str | None,
        reason: str | None,
        occurred: date,
        gap: int,
    ) -> None:
        fields = {"commitment": commitment, "due": due or "2026", "reason": reason}
        self._send(number, "revise", fields, occurred, gap)

    @rule(number=NUMBERS, commitment=COMMITMENT, occurred=OCCURRED, gap=GAP)
    def deliver(self, number: int, commitment: str, occurred: date, gap: int) -> None:
        fields = {"commitment": commitment, "evidence": "published"}
        self._send(number, "deliver", fields, occurred, gap)

    @rule(number=NUMBERS, commitment=COMMITMENT, occurred=OCCURRED, gap=GAP)
    def withdraw(self, number: int, commitment: str, occurred: date, gap: int) -> None:
        fields = {"commitment": commitment, "reason": "superseded"}
        self._send(number, "withdraw", fields, occurred, gap)

    @rule(number=NUMBERS, commitment=st.none() | COMMITMENT, occurred=OCCURRED, gap=GAP)
    def note(self, number: int, commitment: str | None, occurred: date, gap: int) -> None:
        self._send(number, "note", {"note": "in progress", "commitment": commitment}, occurred, gap)

    @rule(
        number=NUMBERS,
        status=st.sampled_from(["in_progress", "reported_not_delivered", "not_started"]),
        commitment=st.none() | COMMITMENT,
        occurred=OCCURRED,
        gap=GAP,
    )
    def report_status(
        self, number: int, status: str, commitment: str | None, occurred: date, gap: int
    ) -> None:
        fields = {"status": status, "commitment": commitment}
        self._send(number, "status", fields, occurred, gap)

    @rule(number=NUMBERS, pair=st.permutations(["a", "b", "c"]), occurred=OCCURRED, gap=GAP)
    def next_stage(self, number: int, pair: list[str], occurred: date, gap: int) -> None:
        earlier, later = pair[:2]
        fields = {"commitment": later, "deliverable": "Next stage", "supersedes": earlier}
        self._send(number, "make", fields, occurred, gap)

    @rule(
        number=NUMBERS, owner=st.sampled_from(["NHS England", "DHSC"]), occurred=OCCURRED, gap=GAP
    )
    def assign_owner(self, number: int, owner: str, occurred: date, gap: int) -> None:
        self._send(number, "owner", {"owner": owner}, occurred, gap)

    @rule(
        number=NUMBERS,
        change=st.sampled_from(["due", "occurred", "retract", "deliverable", "evidence"]),
        value=st.sampled_from(PHRASES) | OCCURRED.map(date.isoformat),
        occurred=OCCURRED,
        gap=GAP,
        data=st.data(),
    )
    def correct(
        self,
        number: int,
        change: str,
        value: str | None,
        occurred: date,
        gap: int,
        data: st.DataObject,
    ) -> None:
        # Mostly an event that exists; now and then one past the end, which is refused.
        version = data.draw(st.integers(1, self.versions.get(number, 1) + 1), label="version")
        fields: dict[str, Any] = {"version": version, "reason": "typo"}
        if change == "retract":
            fields |= {"retract": True, "reason": "recorded in error"}
        else:
            fields["changes"] = {change: value}
        self._send(number, "correct", fields, occurred, gap)

    @rule(number=NUMBERS, behind=st.integers(1, 3), occurred=OCCURRED, gap=GAP)
    def write_from_a_stale_read(self, number: int, behind: int, occurred: date, gap: int) -> None:
        """A writer that read an older version is refused, never overwrites."""
        stale = self.versions.get(number, 1) - behind
        self._send(
            number, "note", {"note": "stale"}, occurred, gap, expected_version=stale, label="stale"
        )

    @rule(number=NUMBERS, ahead=st.integers(1, 400), gap=GAP)
    def date_in_the_future(self, number: int, ahead: int, gap: int) -> None:
        """An event dated after today is refused (its due date may be, its occurrence not)."""
        occurred = (self.now + timedelta(minutes=gap)).date() + timedelta(days=ahead)
        self._send(number, "note", {"note": "tomorrow"}, occurred, gap, label="future")

    @rule(pages=st.integers(1, 3))
    def catch_up_partly(self, pages: int) -> None:
        """Catch up a few pages only: the next answers must still be whole (they refresh)."""
        self.model.catch_up(pages=pages)

    @rule(data=st.data())
    def ask_anything(self, data: st.DataObject) -> None:
        """One more random (as_at, known_at) question, beyond the fixed ones of `agrees`."""
        events = self._events()
        as_at = data.draw(OCCURRED, label="as_at")
        moments = [None, *(e.timestamp for e in events)]
        known_at = data.draw(st.sampled_from(moments), label="known_at")
        assert self.model.programme(as_at, known_at) == ReplayReader(self.rio).programme(
            as_at, known_at
        )

    # --- invariants ------------------------------------------------------------------------

    @invariant()
    def agrees(self) -> None:
        """The read model answers as the fold over the stored events, for questions around
        the newest events: before and after their occurred dates and their recording."""
        events = self._events()
        fold = ReplayReader(self.rio)
        as_ats = {date(2024, 6, 1), date(2026, 12, 31)}  # mid-history, and after all of it
        knowns: list[datetime | None] = [None]
        for event in events[-2:]:
            as_ats |= {event.occurred, event.occurred - timedelta(days=1)}
            knowns.append(event.timestamp - timedelta(microseconds=1))
        for as_at in sorted(as_ats):
            for known_at in knowns:
                expected = fold.programme(as_at, known_at)
                assert self.model.programme(as_at, known_at) == expected, (as_at, known_at)

    @invariant()
    def cached_aggregates_are_the_log(self) -> None:
        """What the application holds in memory is exactly what its stored events make."""
        for number, rec in self.ids.items():
            held = self.rio.get(rec)
            rebuilt: Recommendation | None = None
            for stored in self.rio.events.get(rec):  # the log itself: no cache in between
                assert isinstance(stored, Recommendation.Event)
                rebuilt = stored.mutate(rebuilt)
            assert rebuilt is not None
            assert vars(held) == vars(rebuilt)
            assert held.version == self.versions[number]

    # --- helpers ---------------------------------------------------------------------------

    def _send(
        self,
        number: int,
        kind: str,
        fields: dict[str, Any],
        occurred: date,
        gap: int,
        expected_version: int | None = None,
        label: str | None = None,
    ) -> None:
        # An unregistered number still has its id (ids are deterministic): refused, NotFound.
        rec = recommendation_id(REVIEW, number)
        version = self._attempt(
            label or kind,
            gap,
            lambda: commands.send(self.rio, rec, kind, fields, occurred, expected_version),
        )
        if version is not None:
            assert number in self.ids, "a command on an unregistered recommendation is refused"
            assert version == self.versions[number] + 1
            self.versions[number] = version

    def _attempt(self, kind: str, gap: int, command: Callable[[], Any]) -> Any:
        """Run `command` at a later 'now'; its result, or None if it was refused. Either way
        nothing already recorded changes, and a refusal records nothing at all."""
        self.now = now = self.now + timedelta(minutes=gap)
        before = self._log()
        try:
            with clock.use(lambda: now):
                result = command()
        except DomainError as refusal:
            # Outcomes are counted in `pytest --hypothesis-show-statistics`.
            note_outcome(f"{kind}: refused ({type(refusal).__name__})")
            assert self._log() == before, "a refused command recorded something"
            return None
        note_outcome(f"{kind}: recorded")
        after = self._log()
        assert after[: len(before)] == before, "an accepted command altered the log"
        assert len(after) == len(before) + 1, "one command, one event"
        return result

    def _log(self) -> list[Row]:
        notifications = self.rio.recorder.select_notifications(start=1, limit=1_000_000)
        return [
            (n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in notifications
        ]

    def _events(self) -> list[Recommendation.Event]:
        return [e for e in self.rio.all_events() if isinstance(e, Recommendation.Event)]


class PostgresApplicationMachine(ApplicationMachine):
    backend = "postgres"


def machine_settings(examples: int) -> settings:
    """About 20 s a store on a shared machine: PostgreSQL's round trips cost twice SQLite's."""
    return settings(
        max_examples=examples,
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


TestApplicationOnSQLite = ApplicationMachine.TestCase
TestApplicationOnSQLite.settings = machine_settings(15)

TestApplicationOnPostgreSQL = pytest.mark.postgres(PostgresApplicationMachine.TestCase)
TestApplicationOnPostgreSQL.settings = machine_settings(6)
