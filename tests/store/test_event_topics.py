"""Events stored under the topics of before the `rio:` scheme still load, are still found in the
log, and carry on under the new topics, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from rio.aggregates.alert import Alert, AlertStatus
from rio.application.alert_records import AlertRecords
from rio.application.service import RIO
from rio.domain import clock
from rio.domain.alert_policy import POLICY_VERSION
from tests.event_examples import ALERT_ID, BEFORE_RIO_TOPICS, RUN_ID, Fixture

LEASE = timedelta(minutes=10)


def _store_as_before(app: RIO, *names: str) -> None:
    """Write events exactly as an older RIO stored them (their bytes and old topics)."""
    app.recorder.insert_events([Fixture.read(BEFORE_RIO_TOPICS / n).stored for n in names])


def test_an_alert_stored_under_module_path_topics_loads_and_carries_on(database_url: str) -> None:
    app = RIO(database_url)
    _store_as_before(app, "Alert.Raised.v1.json", "Alert.SendStarted.v1.json")
    _store_as_before(app, "Alert.SendFailed.v1.json")
    records = AlertRecords(app)

    found = records.alerts()
    assert [a.id for a in found] == [ALERT_ID]
    alert = records.get(ALERT_ID)
    assert alert is not None
    assert (alert.kind, alert.commitment, alert.attempts) == ("slipped", "3.1-a", 1)
    assert alert.last_error == "connection refused"

    assert records.claim(
        [alert], recipient="owner@example.org", message_id="<m3@rio>", by="test", lease=LEASE
    )
    records.record_sent([alert])

    again = records.alerts()
    assert [a.id for a in again] == [ALERT_ID]
    assert again[0].status(clock.now(), LEASE) is AlertStatus.SENT
    assert again[0].attempts == 2
    topics = [e.topic for e in app.recorder.select_events(ALERT_ID)]
    assert topics == [
        "rio.aggregates.alert:Alert.Raised",
        "rio.aggregates.alert:Alert.SendStarted",
        "rio.aggregates.alert:Alert.SendFailed",
        Alert.SendStarted.TOPIC,
        Alert.Sent.TOPIC,
    ]
    app.close()


def test_a_run_stored_at_version_1_is_found_and_upcast(database_url: str) -> None:
    app = RIO(database_url)
    _store_as_before(app, "AlertRun.Started.v1.json", "AlertRun.Completed.v1.json")
    records = AlertRecords(app)

    runs = records.runs()
    assert [(r.id, r.policy, r.completed_at is not None) for r in runs] == [(RUN_ID, None, True)]
    assert records.previous_run(date(2024, 6, 2)) == date(2024, 6, 1)

    later = records.start_run(
        run_id=UUID(int=RUN_ID.int + 1),
        as_at=date(2024, 6, 2),
        trigger="cli",
        scheduled_for=None,
        previous_as_at=date(2024, 6, 1),
        by="test",
    )
    assert later is not None
    policies = sorted((r.as_at, r.policy) for r in records.runs())
    assert policies == [(date(2024, 6, 1), None), (date(2024, 6, 2), POLICY_VERSION)]
    app.close()
