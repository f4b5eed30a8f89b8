"""The application service: the only place that loads and saves recommendations.

The API, the CLI, the scheduler and the scenario loader all call these methods; each is
get -> call the aggregate -> save, and none of them hold rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder

from rio.aggregates import api_key as _api_key  # noqa: F401  registers ApiKey topics for decoding
from rio.aggregates.recommendation import Recommendation, recommendation_id
from rio.application.batch import BatchResult, RecommendationBatch, plan
from rio.domain.errors import NotFound, VersionConflict
from rio.domain.values import Source
from rio.persistence.histories import HistoryRecorder
from rio.persistence.transcodings import register_rio_transcodings
from rio.persistence.url import event_store_env

PAGE = 1000


class RIO(Application[UUID]):
    """Records and reads one store's recommendations."""

    name = "rio"
    # Aggregates stay in memory between commands and are fast-forwarded from the store on
    # each read, so a long history is not replayed per command and other writers are seen.
    env = {"AGGREGATE_CACHE_MAXSIZE": "1000"}

    def __init__(self, database_url: str, env: Mapping[str, str] | None = None) -> None:
        self.database_url = database_url
        super().__init__(env={**event_store_env(database_url), **(env or {})})

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_rio_transcodings(transcoder)

    # --- commands -------------------------------------------------------------------------

    def register_recommendation(
        self,
        *,
        review: str,
        number: int,
        title: str,
        text: str,
        occurred: date,
        source: Source,
        recorded_by: str,
    ) -> Recommendation:
        recommendation = Recommendation.register(
            review=review,
            number=number,
            title=title,
            text=text,
            occurred=occurred,
            source=source,
            recorded_by=recorded_by,
        )
        if self.exists(recommendation.id):
            raise VersionConflict(
                f"recommendation {number} of review {review!r} is already registered"
            )
        self._save(recommendation)
        return recommendation

    def add_action(self, rec: UUID, *, expected_version: int | None = None, **kw: Any) -> int:
        return self._change(rec, Recommendation.add_action, expected_version, kw)

    def assign_owner(self, rec: UUID, *, expected_version: int | None = None, **kw: Any) -> int:
        return self._change(rec, Recommendation.assign_owner, expected_version, kw)

    def record_decision(self, rec: UUID, *, expected_version: int | None = None, **kw: Any) -> int:
        return self._change(rec, Recommendation.record_decision, expected_version, kw)

    def make_commitment(self, rec: UUID, *, expected_version: int | None = None, **kw: Any) -> int:
        return self._change(rec, Recommendation.make_commitment, expected_version, kw)

    def revise_commitment(
        self, rec: UUID, *, expected_version: int | None = None, **kw: Any
    ) -> int:
        return self._change(rec, Recommendation.revise_commitment, expected_version, kw)

    def withdraw_commitment(
        self, rec: UUID, *, expected_version: int | None = None, **kw: Any
    ) -> int:
        return self._change(rec, Recommendation.withdraw_commitment, expected_version, kw)

    def record_delivery(self, rec: UUID, *, expected_version: int | None = None, **kw: Any) -> int:
        return self._change(rec, Recommendation.record_delivery, expected_version, kw)

    def note_progress(self, rec: UUID, *, expected_version: int | None = None, **kw: Any) -> int:
        return self._change(rec, Recommendation.note_progress, expected_version, kw)

    def assess_status(self, rec: UUID, *, expected_version: int | None = None, **kw: Any) -> int:
        return self._change(rec, Recommendation.assess_status, expected_version, kw)

    def correct_event(self, rec: UUID, *, expected_version: int | None = None, **kw: Any) -> int:
        return self._change(rec, Recommendation.correct_event, expected_version, kw)

    def record_batch(self, batches: Sequence[RecommendationBatch]) -> BatchResult:
        """Record every batch in one transaction, or nothing: see rio.application.batch."""
        result = BatchResult()
        changed = []
        for batch in batches:
            rec_id = recommendation_id(
                batch.registration.arguments["review"], batch.registration.arguments["number"]
            )
            stored = self.get(rec_id) if self.exists(rec_id) else None
            recommendation, recorded, skipped = plan(batch, stored)
            result.recorded += recorded
            result.already_recorded += skipped
            result.recommendations.append(recommendation.number)
            if recorded:
                changed.append(recommendation)
        if changed:
            try:
                self.save(*changed)
            except IntegrityError:
                raise VersionConflict(
                    "another writer changed these recommendations during the load; "
                    "nothing was recorded: load again"
                ) from None
        return result

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
        """Every recorded event in recorded order (the notification log), page by page."""
        start = 1
        while True:
            page = self.recorder.select_notifications(start=start, limit=PAGE)
            for notification in page:
                event = self.mapper.to_domain_event(notification)
                if isinstance(event, Recommendation.Event):
                    yield event
            if len(page) < PAGE:
                return
            start = page[-1].id + 1

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

    # --- plumbing -------------------------------------------------------------------------

    def _change(
        self,
        rec: UUID,
        command: Callable[..., None],
        expected_version: int | None,
        kwargs: Mapping[str, Any],
    ) -> int:
        recommendation = self.get(rec)
        if expected_version is not None and recommendation.version != expected_version:
            raise VersionConflict(
                f"recommendation {recommendation.number} is at version "
                f"{recommendation.version}, not {expected_version}: reload it and try again"
            )
        command(recommendation, **kwargs)
        self._save(recommendation)
        return recommendation.version

    def _save(self, recommendation: Recommendation) -> None:
        try:
            self.save(recommendation)
        except IntegrityError:
            raise VersionConflict(
                f"recommendation {recommendation.number} was changed by someone else while "
                "this change was being made: reload it and try again"
            ) from None
