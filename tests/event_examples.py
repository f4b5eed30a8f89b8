"""One deterministic example of every stored event type, and the golden fixtures they match.

The fixtures in `tests/fixtures/events/` are the exact bytes RIO's mapper writes for these
examples. They are added, never rewritten: a fixture is what some store already holds, so
a change to an event's stored shape must bump its `class_version` (with an upcaster) and
add a fixture for the new version beside the old one. `python -m tests.event_examples`
writes the fixtures that are missing and refuses to overwrite any that exist.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent

from rio.aggregates.alert import Alert, AlertRun
from rio.aggregates.api_key import ApiKey
from rio.aggregates.recommendation import Recommendation
from rio.aggregates.review import Review
from rio.domain import clock
from rio.domain.due_window import parse_due
from rio.domain.values import Source

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "events"
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
SOURCE = Source(
    document="Government response",
    date=date(2023, 11, 20),
    quote="We will publish the plan by spring 2024.",
    url="https://example.org/response",
)
ALERT_ID = UUID("00000000-0000-4000-8000-0000000000a1")
WITHDRAWN_ALERT_ID = UUID("00000000-0000-4000-8000-0000000000a2")
RUN_ID = UUID("00000000-0000-4000-8000-0000000000b1")


@dataclass(frozen=True)
class Fixture:
    """One stored event as a store holds it, and the name of the example it must decode to."""

    example: str
    class_version: int
    topic: str
    originator_id: str
    originator_version: int
    state: str  # the stored bytes, UTF-8 JSON as the transcoder writes them

    @property
    def stored(self) -> StoredEvent:
        return StoredEvent(
            originator_id=UUID(self.originator_id),
            originator_version=self.originator_version,
            topic=self.topic,
            state=self.state.encode("utf-8"),
        )

    @classmethod
    def read(cls, path: Path) -> Fixture:
        return cls(**json.loads(path.read_text(encoding="utf-8")))

    @classmethod
    def of(cls, example: str, stored: StoredEvent, class_version: int) -> Fixture:
        return cls(
            example=example,
            class_version=class_version,
            topic=stored.topic,
            originator_id=str(stored.originator_id),
            originator_version=stored.originator_version,
            state=stored.state.decode("utf-8"),
        )

    def text(self) -> str:
        return json.dumps(self.__dict__, indent=2, ensure_ascii=False) + "\n"


def fixture_name(example: str, class_version: int) -> str:
    return f"{example}.v{class_version}.json"


# Events as stored before the `rio:` topic scheme (Alert and AlertRun named by module path,
# AlertRun.Started before version 2): what existing stores hold.
BEFORE_RIO_TOPICS = FIXTURES / "before-rio-topics"


def fixtures() -> list[Path]:
    """Every fixture: today's and every older stored form."""
    return sorted(FIXTURES.rglob("*.json"))


@contextmanager
def _ticking() -> Iterator[None]:
    """A clock that moves one second per reading, from NOW: deterministic, never still."""
    moments = (NOW + timedelta(seconds=i) for i in range(1_000_000))
    with clock.use(lambda: next(moments)):
        yield


def examples() -> dict[str, DomainEventProtocol[UUID]]:
    """Every event type, named `<Aggregate>.<Event>` (a second example of a type adds a suffix)."""
    with _ticking():
        return {
            **_recommendation(),
            **_alert(),
            **_alert_run(),
            **_api_key(),
            **_review_wide(),  # the clock ticks on, so earlier examples keep their bytes
            **_review(),  # its own clock: examples added before it keep their bytes
        }


def _named(events: Sequence[Any], suffixes: dict[int, str] | None = None) -> dict[str, Any]:
    named: dict[str, Any] = {}
    for index, event in enumerate(events):
        name = type(event).__qualname__
        if suffixes and index in suffixes:
            name = f"{name}.{suffixes[index]}"
        assert name not in named, f"two examples named {name}: give one a suffix"
        named[name] = event
    return named


def _recommendation() -> dict[str, Any]:
    cited: dict[str, Any] = {"source": SOURCE, "recorded_by": "secretariat"}
    rec = Recommendation.register(
        review="messenger-2022",
        number=3,
        title="Leadership training",
        text="Introduce a national leadership framework.",
        occurred=date(2022, 6, 8),
        **cited,
    )
    rec.add_action(
        action="3.1", text="Consult on the framework", occurred=date(2022, 6, 8), **cited
    )
    rec.assign_owner(owner="NHS England", occurred=date(2022, 6, 9), **cited)
    rec.record_decision(decision="accepted", decided_by="DHSC", occurred=date(2022, 6, 9), **cited)
    rec.make_commitment(
        commitment="3.1-a",
        deliverable="Framework ready for consultation",
        due="March 2024",
        owner="NHS England",
        action="3.1",
        occurred=date(2023, 11, 20),
        **cited,
    )
    rec.make_commitment(
        commitment="3.1-b", deliverable="Induction scheme", occurred=date(2023, 11, 20), **cited
    )
    rec.revise_commitment(
        commitment="3.1-a",
        due="Spring 2025",
        reason="Consultation extended",
        occurred=date(2024, 2, 1),
        **cited,
    )
    rec.note_progress(
        note="Workshops held in four regions",
        commitment="3.1-a",
        occurred=date(2024, 3, 1),
        **cited,
    )
    rec.assess_status(
        scale="rag3",
        rating="amber",
        rationale="Consultation running late",
        assessor="Tracker",
        commitment="3.1-a",
        occurred=date(2024, 3, 2),
        **cited,
    )
    rec.record_delivery(
        commitment="3.1-a", evidence="Framework published", occurred=date(2024, 5, 1), **cited
    )
    rec.withdraw_commitment(
        commitment="3.1-b", reason="Folded into the framework", occurred=date(2024, 5, 2), **cited
    )
    rec.correct_event(
        version=5,
        changes={"due": "April 2024", "deliverable": "Framework ready to consult on"},
        reason="The response said April",
        occurred=date(2024, 5, 3),
        **cited,
    )
    rec.correct_event(
        version=8,
        retract=True,
        reason="Note was about another review",
        occurred=date(2024, 5, 3),
        **cited,
    )
    return _named(rec.collect_events(), {12: "retraction", 5: "undated"})


def _review_wide() -> dict[str, Any]:
    """Issue 14: the review's own stream, a review-wide promise serving two recommendations,
    an inferred promise, a next stage, and reported statuses."""
    cited: dict[str, Any] = {"source": SOURCE, "recorded_by": "secretariat"}
    rec = Recommendation.register(
        review="messenger-2022",
        number=0,
        title="The review as a whole",
        text="",
        occurred=date(2022, 6, 8),
        review_wide=True,
        **cited,
    )
    rec.make_commitment(
        commitment="delivery-plan",
        deliverable="Delivery plan with clear timelines",
        serves=[1, 3],
        owner="DHSC",
        occurred=date(2022, 6, 8),
        **cited,
    )
    rec.make_commitment(
        commitment="framework-consultation",
        deliverable="Framework ready for consultation",
        due="by March 2024",
        inferred=True,
        occurred=date(2023, 11, 20),
        **cited,
    )
    rec.make_commitment(
        commitment="framework-final",
        deliverable="Framework finalised",
        due="Spring 2025",
        supersedes="framework-consultation",
        occurred=date(2024, 5, 1),
        **cited,
    )
    rec.report_status(
        status="reported_not_delivered",
        commitment="delivery-plan",
        occurred=date(2024, 5, 1),
        **cited,
    )
    events = rec.collect_events()
    return {
        "Recommendation.Registered.review_wide": events[0],
        "Recommendation.CommitmentMade.review_wide": events[1],
        "Recommendation.CommitmentMade.inferred": events[2],
        "Recommendation.CommitmentMade.next_stage": events[3],
        "Recommendation.StatusReported": events[4],
    }


def _alert() -> dict[str, Any]:
    alert = Alert.raise_alert(
        id=ALERT_ID,
        kind="slipped",
        owner="NHS England",
        role="accountable",
        review="messenger-2022",
        number=3,
        title="Leadership training",
        commitment="3.1-a",
        deliverable="Framework ready for consultation",
        due=parse_due("Spring 2025", date(2024, 2, 1)),
        previous_due=parse_due("March 2024", date(2023, 11, 20)),
        source=SOURCE,
        why="moved from March 2024 to Spring 2025",
        days=427,
        as_at=date(2024, 6, 1),
        policy="rio-alerts/1",
        raised_by="scheduler",
        now=NOW,
    )
    lease = timedelta(minutes=10)
    alert.start_send(
        recipient="owner@example.org", message_id="<m1@rio>", by="host:1", now=NOW, lease=lease
    )
    alert.record_failure(error="connection refused", retry_after=NOW + lease, now=NOW)
    alert.start_send(
        recipient="owner@example.org",
        message_id="<m2@rio>",
        by="host:1",
        now=NOW + lease,
        lease=lease,
    )
    alert.record_sent(now=NOW + lease)
    events = alert.collect_events()
    return {**_named(events, {3: "second"}), **_withdrawn_alert()}


def _withdrawn_alert() -> dict[str, Any]:
    """Raised, its send failed in a mail outage, and the matter resolved before the retry."""
    alert = Alert.raise_alert(
        id=WITHDRAWN_ALERT_ID,
        kind="due_soon",
        owner="NHS England",
        role="accountable",
        review="messenger-2022",
        number=1,
        title="Targeted interventions",
        commitment="1.1-a",
        deliverable="National induction scheme, launched",
        due=parse_due("April 2024", date(2023, 11, 20)),
        previous_due=None,
        source=SOURCE,
        why="due by 30 April 2024",
        days=29,
        as_at=date(2024, 4, 1),
        policy="rio-alerts/1",
        raised_by="scheduler",
        now=NOW,
    )
    alert.withdraw(
        reason="“National induction scheme, launched” was delivered on 2 April 2024",
        as_at=date(2024, 4, 3),
        by="host:1",
        now=NOW + timedelta(days=2),
    )
    return {"Alert.Withdrawn": alert.collect_events()[-1]}


def _alert_run() -> dict[str, Any]:
    run = AlertRun.start(
        id=RUN_ID,
        as_at=date(2024, 6, 1),
        trigger="scheduler",
        scheduled_for=NOW,
        previous_as_at=date(2024, 5, 31),
        policy="rio-alerts/1",
        by="host:1",
        now=NOW,
    )
    run.complete(raised=1, sent=1, failed=0, held=0, waiting=0, now=NOW + timedelta(minutes=1))
    return _named(run.collect_events())


def _api_key() -> dict[str, Any]:
    key = ApiKey.grant(
        key_id="k-owner-1",
        name="NHS England reader",
        role="owner",
        owner="NHS England",
        secret_hash="pbkdf2_sha256$1$salt$hash",
        recorded_by="admin",
    )
    key.revoke(reason="Left the programme", recorded_by="admin")
    return _named(key.collect_events())


def _review() -> dict[str, Any]:
    # A clock of its own, so examples added to other aggregates never shift these bytes.
    moments = (NOW + timedelta(hours=1, seconds=i) for i in range(10))
    with clock.use(lambda: next(moments)):
        return _review_events()


def _review_events() -> dict[str, Any]:
    review = Review.register(
        key="pfd-2024-0001",
        title="Regulation 28: report to prevent future deaths",
        kind="coroners_report",
        sponsor="HM Coroner for Inner London",
        published=date(2024, 3, 4),
        themes={1: "Patient safety"},
        recorded_by="secretariat",
    )
    details = review.details
    review.revise(
        type(details)(
            title=details.title,
            kind=details.kind,
            sponsor=details.sponsor,
            published=details.published,
            response_days=details.response_days,
            themes={"1": "Patient safety", "2": "Discharge"},
        ),
        recorded_by="secretariat",
    )
    return _named(review.collect_events())


def write_missing(mapper: Mapper[UUID]) -> list[Path]:
    """Write a fixture for every example whose current class version has none; never overwrite."""
    FIXTURES.mkdir(parents=True, exist_ok=True)
    written = []
    for name, event in examples().items():
        version = getattr(type(event), "class_version", 1)
        path = FIXTURES / fixture_name(name, version)
        if path.exists():
            continue
        path.write_text(Fixture.of(name, mapper.to_stored_event(event), version).text())
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover - a maintainer's tool
    import tempfile

    from rio.application.service import RIO

    with tempfile.TemporaryDirectory() as tmp:
        app = RIO(f"sqlite:///{tmp}/rio.db")
        for path in write_missing(app.mapper):
            print(f"wrote {path}")
        app.close()
