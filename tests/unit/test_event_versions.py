"""Stored events stay readable: every event type has a golden fixture of its stored bytes,
today's encoding matches it, every older stored form still decodes (through its upcaster),
and topics follow one scheme with the old names still resolving."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper
from eventsourcing.utils import resolve_topic

from rio.aggregates.alert import ALERT_TOPICS, RUN_TOPICS, Alert, AlertRun
from rio.aggregates.recommendation import Recommendation
from rio.aggregates.registry import AGGREGATES, stored_classes
from rio.aggregates.topics import Stored, legacy_topics
from rio.application.service import RIO
from rio.domain import facts
from rio.domain.due_window import DueWindow
from tests.event_examples import (
    BEFORE_RIO_TOPICS,
    FIXTURES,
    Fixture,
    examples,
    fixture_name,
    fixtures,
)

# What an upcaster gives a field an older version did not have: (example, version) -> fields.
UPCAST_FIELDS: dict[tuple[str, int], dict[str, Any]] = {
    ("AlertRun.Started", 1): {"policy": None},
}


@pytest.fixture(scope="module")
def mapper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mapper[UUID]]:
    """The mapper RIO itself stores with (its transcodings, its topics)."""
    app = RIO(f"sqlite:///{tmp_path_factory.mktemp('versions') / 'rio.db'}")
    yield app.mapper
    app.close()


@cache
def _examples() -> dict[str, DomainEventProtocol[UUID]]:
    return examples()


def _event_classes() -> list[type[Stored]]:
    """Every event class RIO records (not the bases, nor eventsourcing's unused `Created`)."""
    return [
        cls
        for cls in stored_classes()
        if cls not in AGGREGATES and cls.__name__ not in ("Event", "Created")
    ]


def test_every_event_class_declares_its_class_version() -> None:
    for cls in _event_classes():
        # Declared on the class, or on the domain fact whose stored shape it is.
        declared_by = next(k for k in cls.__mro__ if "class_version" in vars(k))
        assert declared_by is cls or declared_by in cls.__bases__, cls.__qualname__
        assert isinstance(getattr(cls, "class_version"), int), cls.__qualname__  # noqa: B009


def test_every_event_type_has_an_example_and_a_fixture_of_its_current_version() -> None:
    exampled = {type(event).__qualname__ for event in _examples().values()}
    assert exampled == {cls.__qualname__ for cls in _event_classes()}
    for name, event in _examples().items():
        version = getattr(type(event), "class_version", 1)
        assert (FIXTURES / fixture_name(name, version)).exists(), (
            f"no fixture for {name} version {version}: run python -m tests.event_examples"
        )


def test_a_correction_fixture_stores_its_changes() -> None:
    stored = json.loads(Fixture.read(FIXTURES / "Recommendation.EventCorrected.v1.json").state)
    assert stored["changes"]["deliverable"] == "Framework ready to consult on"
    assert stored["changes"]["due"]["_type_"] == "rio_due_window"


@pytest.mark.parametrize("name", sorted(_examples()))
def test_encoding_an_example_today_gives_its_fixture_bytes(name: str, mapper: Mapper[UUID]) -> None:
    event = _examples()[name]
    version = getattr(type(event), "class_version", 1)
    fixture = Fixture.read(FIXTURES / fixture_name(name, version))
    stored = mapper.to_stored_event(event)
    assert (stored.topic, str(stored.originator_id), stored.originator_version) == (
        fixture.topic,
        fixture.originator_id,
        fixture.originator_version,
    )
    assert stored.state == fixture.state.encode("utf-8"), (
        f"the stored shape of {name} changed: bump its class_version, add an upcaster and "
        "a fixture for the new version (tests/fixtures/events/README.md)"
    )


@pytest.mark.parametrize("path", fixtures(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_fixture_decodes_to_its_example(path: Path, mapper: Mapper[UUID]) -> None:
    fixture = Fixture.read(path)
    example = _examples()[fixture.example]
    decoded = mapper.to_domain_event(fixture.stored)
    assert type(decoded) is type(example)
    expected = {**vars(example), **UPCAST_FIELDS.get((fixture.example, fixture.class_version), {})}
    got = dict(vars(decoded))
    if "originator_topic" in expected:
        # An older stored name of the aggregate class still names the same class.
        assert resolve_topic(got.pop("originator_topic")) is resolve_topic(
            expected.pop("originator_topic")
        )
    assert got == expected


def test_a_version_1_alert_run_loads_through_its_upcaster(mapper: Mapper[UUID]) -> None:
    v1 = Fixture.read(BEFORE_RIO_TOPICS / "AlertRun.Started.v1.json")
    assert "policy" not in json.loads(v1.state)  # stored before the field was added
    started = mapper.to_domain_event(v1.stored)
    assert vars(started)["policy"] is None  # set by upcast_v1_v2, not a class default
    completed = mapper.to_domain_event(
        Fixture.read(BEFORE_RIO_TOPICS / "AlertRun.Completed.v1.json").stored
    )
    assert isinstance(started, AlertRun.Started) and isinstance(completed, AlertRun.Completed)
    run = completed.mutate(started.mutate(None))
    assert isinstance(run, AlertRun)
    assert (run.policy, run.as_at.isoformat(), run.counts["raised"]) == (None, "2024-06-01", 1)


def test_a_correction_decodes_with_its_changes_typed(mapper: Mapper[UUID]) -> None:
    fixture = Fixture.read(FIXTURES / "Recommendation.EventCorrected.v1.json")
    decoded = mapper.to_domain_event(fixture.stored)
    assert isinstance(decoded, Recommendation.EventCorrected)
    assert isinstance(decoded.changes["due"], DueWindow)
    assert decoded.changes["due"].text == "April 2024"


def test_topics_follow_one_scheme() -> None:
    for cls in stored_classes():
        assert f"rio:{cls.__qualname__}" == cls.TOPIC
        assert resolve_topic(cls.TOPIC) is cls


def test_recommendation_topics_keep_the_prefix_the_read_model_selects_by() -> None:
    for cls in stored_classes():
        if cls.__qualname__.startswith("Recommendation."):
            assert cls.TOPIC.startswith(Recommendation.TOPIC + ".")


def test_module_path_topics_stored_before_the_scheme_resolve_to_the_same_classes() -> None:
    old = {
        "rio.aggregates.alert:Alert": Alert,
        "rio.aggregates.alert:Alert.Raised": Alert.Raised,
        "rio.aggregates.alert:Alert.SendStarted": Alert.SendStarted,
        "rio.aggregates.alert:Alert.Sent": Alert.Sent,
        "rio.aggregates.alert:Alert.SendFailed": Alert.SendFailed,
        "rio.aggregates.alert:AlertRun": AlertRun,
        "rio.aggregates.alert:AlertRun.Started": AlertRun.Started,
        "rio.aggregates.alert:AlertRun.Completed": AlertRun.Completed,
    }
    for topic, cls in old.items():
        assert resolve_topic(topic) is cls
        assert topic in legacy_topics(cls.__qualname__)
    # The log is searched under both names, so alerts raised before the scheme are found.
    assert set(ALERT_TOPICS) >= {t for t, c in old.items() if c.__qualname__.startswith("Alert.")}
    assert set(RUN_TOPICS) >= {t for t, c in old.items() if c.__qualname__.startswith("AlertRun.")}


def test_the_domain_orders_facts_by_the_phase_each_fact_declares() -> None:
    assert facts.Registered.phase < facts.CommitmentMade.phase == facts.ActionAdded.phase
    assert facts.CommitmentMade.phase < facts.CommitmentRevised.phase
    assert facts.CommitmentRevised.phase < facts.MilestoneDelivered.phase
    assert facts.MilestoneDelivered.phase == facts.CommitmentWithdrawn.phase


def test_a_version_1_commitment_loads_as_a_stated_promise_of_its_own(
    mapper: Mapper[UUID],
) -> None:
    v1 = Fixture.read(FIXTURES / "Recommendation.CommitmentMade.v1.json")
    assert "inferred" not in json.loads(v1.state)  # stored before issue 14's fields
    made = mapper.to_domain_event(v1.stored)
    assert isinstance(made, Recommendation.CommitmentMade)
    # set by upcast_v1_v2: not inferred, its own recommendation's, no earlier stage
    assert (made.inferred, made.serves, made.supersedes) == (False, None, None)
    wide = FIXTURES / "Recommendation.CommitmentMade.review_wide.v2.json"
    v2 = json.loads(Fixture.read(wide).state)
    assert v2["serves"] == [1, 3]
