"""The application service: the only place that loads and saves aggregates.

The API, the CLI, the scheduler and the scenario loader hand it typed commands
(`rio.application.commands`); each is get -> the aggregate decides -> save, and none of the
doors hold rules. API keys and alerts are kept by `keys.Keys` and `alert_records.AlertRecords`,
which load and save through `load`, `commit` and `fold` here and nowhere else.

A command sent with an Idempotency-Key carries a `RequestKey`: its receipt is saved in the
transaction that records its events (rio.application.receipts), so `completed` finds it
exactly when those events were committed, and a second commit under the key is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, DomainEventProtocol
from eventsourcing.persistence import IntegrityError, JSONTranscoder, StoredEvent, Transcoder

from rio.aggregates.recommendation import Recommendation, recommendation_id
from rio.aggregates.registry import register_topics
from rio.application.batch import BatchResult, RecommendationBatch, plan
from rio.application.commands import RecommendationCommand, RegisterRecommendation
from rio.application.receipts import Completed, Recorded, RequestKey, Result, completed, receipt
from rio.domain.errors import DomainError, NotFound, VersionConflict
from rio.persistence.bulk import BulkRecorder, Insert
from rio.persistence.histories import HistoryRecorder
from rio.persistence.paging import notifications
from rio.persistence.receipts import RECEIPT, ReceiptRecorder
from rio.persistence.transcodings import FastJSONTranscoder, register_rio_transcodings
from rio.persistence.url import event_store_env

A = TypeVar("A", bound=Aggregate)

BULK_CHUNK = 5000
"""Events a bulk load holds in memory before inserting them into its open transaction: a
commit costs far more than an event, an insert of a few thousand little more than one."""


def _expect(recommendation: Recommendation, expected_version: int | None) -> None:
    """If-Match: refuse a change to a recommendation that moved on since the caller read it."""
    if expected_version is not None and recommendation.version != expected_version:
        raise VersionConflict(
            f"recommendation {recommendation.number} is at version "
            f"{recommendation.version}, not {expected_version}: reload it and try again"
        )


@dataclass(frozen=True)
class Written:
    """What a command recorded: its last event, as recorded, and that event's position in
    the log (its notification id), which a read model must pass to show it."""

    event: Recommendation.Event
    position: int


class RIO(Application[UUID]):
    """Records and reads one store's recommendations."""

    name = "rio"
    # Aggregates stay in memory between commands and are fast-forwarded from the store on
    # each read, so a long history is not replayed per command and other writers are seen.
    env = {"AGGREGATE_CACHE_MAXSIZE": "1000"}

    def __init__(self, database_url: str, env: Mapping[str, str] | None = None) -> None:
        self.database_url = database_url
        register_topics()  # the store holds every aggregate's events, used here or not
        super().__init__(env={**event_store_env(database_url), **(env or {})})

    def construct_transcoder(self) -> Transcoder:
        """Decodes with orjson; encodes, byte for byte, as eventsourcing's own transcoder."""
        transcoder = FastJSONTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_rio_transcodings(transcoder)

    # --- commands -------------------------------------------------------------------------

    def register_recommendation(
        self, command: RegisterRecommendation, *, request: RequestKey | None = None
    ) -> Recommendation:
        return self.register(command, request=request)[0]

    def register(
        self, command: RegisterRecommendation, *, request: RequestKey | None = None
    ) -> tuple[Recommendation, Written]:
        """Register a recommendation: the aggregate and what was recorded."""
        recommendation = command.create()
        if self.exists(recommendation.id):
            raise VersionConflict(
                f"recommendation {command.number} of review {command.review!r} is already "
                "registered"
            )
        return recommendation, self._save(recommendation, request)

    def handle(
        self,
        rec: UUID,
        command: RecommendationCommand,
        *,
        expected_version: int | None = None,
        request: RequestKey | None = None,
        opening: RegisterRecommendation | None = None,
    ) -> int:
        """Run one command on `rec` (see `record`); returns the recommendation's new version."""
        written = self.record(
            rec, command, expected_version=expected_version, request=request, opening=opening
        )
        return written.event.originator_version

    def record(
        self,
        rec: UUID,
        command: RecommendationCommand,
        *,
        expected_version: int | None = None,
        request: RequestKey | None = None,
        opening: RegisterRecommendation | None = None,
    ) -> Written:
        """Run one command on the recommendation `rec`: get -> the aggregate decides -> save.

        With `expected_version`, a recommendation changed since the caller read it is refused
        rather than overwritten; with `request`, its receipt is committed with the event (and
        a request already committed is refused, recording nothing). With `opening`, a
        recommendation not yet recorded is registered by it in the same transaction (a
        review's own stream opens with its first fact). Returns the last event recorded, so
        an answer need not read it back."""
        if opening is not None and opening.id == rec and not self.exists(rec):
            recommendation = opening.create()
        else:
            recommendation = self.get(rec)
        _expect(recommendation, expected_version)
        command.apply(recommendation)
        return self._save(recommendation, request)

    def record_together(
        self, commands: Sequence[tuple[UUID, RecommendationCommand, int | None]]
    ) -> list[Written | DomainError] | None:
        """Run many independent commands (rec, command, expected version), each as `record`
        would, and save what they record in one transaction: one commit for all (a group
        commit). Each gets its own outcome: what it recorded, or the refusal it met, which
        records nothing. None, and nothing recorded, when the transaction as a whole is
        refused (another writer got there first): run each alone with `record` then."""
        states: dict[UUID, Recommendation] = {}
        outcomes: list[tuple[UUID, int] | DomainError] = []
        for rec, command, expected_version in commands:
            try:
                recommendation = states.get(rec) or self.get(rec)
                before = recommendation.version
                _expect(recommendation, expected_version)
                try:
                    command.apply(recommendation)
                except DomainError:
                    if recommendation.version != before:
                        return None  # refused part-way: this copy is no longer clean
                    raise
            except DomainError as refusal:
                outcomes.append(refusal)
                continue
            states[rec] = recommendation
            outcomes.append((rec, recommendation.version))
        recorded: dict[tuple[UUID, int], Written] = {}
        if states:
            try:
                recordings = self.save(*states.values())
            except IntegrityError:
                return None
            for recording in recordings:
                event = recording.domain_event
                if isinstance(event, Recommendation.Event):
                    key = (event.originator_id, event.originator_version)
                    recorded[key] = Written(event, recording.notification.id)
        return [o if isinstance(o, DomainError) else recorded[o] for o in outcomes]

    def record_batch(
        self,
        batches: Iterable[RecommendationBatch],
        *,
        request: RequestKey | None = None,
        also: Sequence[Aggregate] = (),
        progress: Callable[[int], None] | None = None,
    ) -> BatchResult:
        """Record every batch in one transaction, or nothing: see rio.application.batch.
        With `request`, its receipt commits in that transaction too, even when the batch
        records nothing new, so a retry is answered as the first try was; `also` (a review's
        registration) commits in it after the batches.

        The batches are planned one at a time and their events inserted a chunk at a time
        into the open transaction (rio.persistence.bulk), so a file of any size is held in
        memory a chunk at a time; `progress` is told of each batch planned."""
        result = BatchResult()
        recorder = self.recorder
        if not isinstance(recorder, BulkRecorder):
            raise TypeError(f"{type(recorder).__name__} cannot record in bulk")
        try:
            # The transaction opens at the first insert: a batch smaller than a chunk is
            # planned whole before it takes the store's write lock, as one `save` would be.
            with ExitStack() as transaction:
                insert: Insert | None = None
                changed: list[Aggregate] = []
                pending = 0
                for batch in batches:
                    rec_id = batch.registration.command.id
                    stored = self.get(rec_id) if self.exists(rec_id) else None
                    recommendation, recorded, skipped = plan(batch, stored)
                    result.recorded += recorded
                    result.already_recorded += skipped
                    result.recommendations.append(recommendation.number)
                    result.versions.append(recommendation.version)
                    if recorded:
                        changed.append(recommendation)
                        pending += recorded
                    if pending >= BULK_CHUNK:
                        insert = insert or transaction.enter_context(recorder.inserting())
                        insert(self._stored(changed))
                        changed, pending = [], 0
                    if progress is not None:
                        progress(1)
                changed.extend(a for a in also if a.pending_events)
                if changed or request is not None:
                    insert = insert or transaction.enter_context(recorder.inserting())
                    insert(self._stored(changed), **self._receipt(request, result))
        except IntegrityError:
            raise VersionConflict(
                "another writer changed these recommendations during the load; "
                "nothing was recorded: load again"
            ) from None
        return result

    def completed(self, holder: str, key: str) -> Completed | None:
        """The committed result of `holder`'s request with Idempotency-Key `key`, if any:
        found exactly when that request's events were committed."""
        recorder = self.recorder
        if not isinstance(recorder, ReceiptRecorder):
            raise TypeError(f"{type(recorder).__name__} keeps no receipts")
        stored = recorder.select_receipt(holder, key)
        return None if stored is None else completed(stored)

    # --- queries --------------------------------------------------------------------------

    def exists(self, rec: UUID) -> bool:
        return bool(self.recorder.select_events(rec, desc=True, limit=1))

    def get(self, rec: UUID) -> Recommendation:
        try:
            recommendation: Recommendation = self.repository.get(rec)
        except AggregateNotFoundError:
            raise NotFound(f"no recommendation with id {rec}") from None
        return recommendation

    def find(self, review: str, number: int) -> Recommendation:
        try:
            return self.get(recommendation_id(review, number))
        except NotFound:
            raise NotFound(f"review {review!r} has no recommendation {number}") from None

    def all_events(self) -> Iterator[Recommendation.Event]:
        """Every recorded recommendation event in recorded order (the notification log)."""
        for event in self.events_after(0):
            if isinstance(event, Recommendation.Event):
                yield event

    def events_after(
        self, position: int, topics: Sequence[str] = ()
    ) -> Iterator[DomainEventProtocol[UUID]]:
        """Every event recorded after notification `position` (of `topics` if given), decoded,
        in recorded order, read a page at a time."""
        for notification in notifications(self.recorder, after=position, topics=topics):
            yield self.mapper.to_domain_event(notification)

    def event(self, rec: UUID, version: int) -> Recommendation.Event:
        """The recommendation's event at `version`, as stored (e.g. the one just recorded)."""
        stored = self.recorder.select_events(rec, gt=version - 1, lte=version, limit=1)
        if not stored:
            raise NotFound(f"recommendation {rec} has no event {version}")
        event = self.mapper.to_domain_event(stored[0])
        if not isinstance(event, Recommendation.Event):
            raise NotFound(f"{rec} is not a recommendation")
        return event

    def histories(
        self, stop: int, low: UUID | None = None, high: UUID | None = None
    ) -> Iterator[list[Recommendation.Event]]:
        """Each recommendation's events up to notification `stop`, one recommendation at a
        time (those with low <= id < high): one ordered pass, for rebuilding read models."""
        recorder = self.recorder
        assert isinstance(recorder, HistoryRecorder), recorder
        for stored in recorder.select_histories(stop, Recommendation.TOPIC + ".", low, high):
            yield [self.mapper.to_domain_event(s) for s in stored]  # type: ignore[misc]

    def position(self) -> int:
        """The newest event's global notification id: a cross-aggregate 'recorded' watermark."""
        return self.recorder.max_notification_id() or 0

    # --- other aggregates (API keys, alerts): for the services in rio.application ----------

    def load(self, kind: type[A], aggregate_id: UUID) -> A | None:
        """The aggregate stored under `aggregate_id`, or None when there is none of `kind`."""
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, kind) else None

    def changed_since(self, aggregate_id: UUID, version: int) -> bool:
        """Whether anything was recorded on `aggregate_id` after `version` (one indexed read)."""
        return bool(self.recorder.select_events(aggregate_id, gt=version, limit=1))

    def commit(self, *aggregates: Aggregate) -> bool:
        """Save their new events in one transaction; False, and nothing saved, when another
        writer recorded the same version of any of them first (the store's optimistic lock)."""
        try:
            self.save(*aggregates)
        except IntegrityError:
            return False
        return True

    def fold(self, kind: type[A], topics: Sequence[str]) -> list[A]:
        """Every aggregate of `kind`, folded from its events (found in the log by `topics`),
        in the order each was first recorded: one pass, however many there are."""
        folded: dict[UUID, A] = {}
        for event in self.events_after(0, topics):
            if isinstance(event, kind.Event):
                aggregate: Aggregate | None = event.mutate(folded.get(event.originator_id))
                if isinstance(aggregate, kind):
                    folded[event.originator_id] = aggregate
        return list(folded.values())

    # --- plumbing -------------------------------------------------------------------------

    def _save(self, recommendation: Recommendation, request: RequestKey | None = None) -> Written:
        result = Recorded(recommendation.id, recommendation.version)
        try:
            recordings = self.save(recommendation, **self._receipt(request, result))
        except IntegrityError:
            # Another writer recorded this version first, or (with `request`) this very
            # request was committed already: either way nothing was recorded here.
            raise VersionConflict(
                f"recommendation {recommendation.number} was changed by someone else while "
                "this change was being made: reload it and try again"
            ) from None
        last = recordings[-1]
        assert isinstance(last.domain_event, Recommendation.Event), last.domain_event
        return Written(last.domain_event, last.notification.id)

    def _stored(self, aggregates: Sequence[Aggregate]) -> list[StoredEvent]:
        """The aggregates' new events as the store keeps them (what `save` would insert)."""
        return [self.mapper.to_stored_event(e) for a in aggregates for e in a.collect_events()]

    @staticmethod
    def _receipt(request: RequestKey | None, result: Result) -> dict[str, object]:
        """The keyword argument that takes a receipt down the save path to the recorder."""
        return {} if request is None else {RECEIPT: receipt(request, result)}
