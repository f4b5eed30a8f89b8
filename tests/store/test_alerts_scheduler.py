"""The alert scheduler against a real store: one holder per store, and a missed run runs once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from structlog.testing import capture_logs

from rio.aggregates.alert import AlertRun
from rio.alerts.scheduler import (
    JOBS_TABLE,
    RUN_JOB,
    cron_trigger,
    latest_fire_time,
    serve_forever,
    start_scheduler,
)
from rio.application.alert_records import AlertRecords
from rio.application.service import RIO
from rio.domain import clock
from rio.projections.read_model import sqlalchemy_url
from rio.runtime import Runtime
from rio.settings import Settings
from tests.alert_support import (
    ADDRESSES,
    DHSC,
    NHSE,
    SMTPServer,
    load_messenger,
    owners_file,
    smtp_server,
    wait_for,
)


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def settings(database_url: str, smtp: SMTPServer, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        smtp_url=smtp.url,
        owners_file=owners_file(tmp_path),
        alert_cron="0 7 * * *",
        alert_retry_minutes=600,
    )


def scheduled_runs(app: RIO) -> list[AlertRun]:
    return [r for r in AlertRecords(app).runs() if r.trigger == "scheduler"]


def move_next_run(settings: Settings, when: datetime) -> None:
    """What downtime does to the job store: the stored next run time passes unseen."""
    url, schema = sqlalchemy_url(settings.database_url)
    store = SQLAlchemyJobStore(url=url, tablename=JOBS_TABLE, tableschema=schema)
    store.start(BackgroundScheduler(), "default")  # only to read and write the job
    try:
        job = store.lookup_job(RUN_JOB)
        job._modify(next_run_time=when)
        store.update_job(job)
    finally:
        store.shutdown()


def test_only_one_process_holds_the_scheduler_of_a_store(settings: Settings) -> None:
    first = start_scheduler(Runtime(settings))
    try:
        assert first is not None
        assert start_scheduler(Runtime(settings)) is None
    finally:
        if first is not None:
            first.shutdown()

    after = start_scheduler(Runtime(settings))

    assert after is not None
    after.shutdown()


def test_the_scheduler_schedules_the_run_daily_at_seven_in_london(
    rio: RIO, settings: Settings
) -> None:
    scheduler = start_scheduler(Runtime(settings))
    assert scheduler is not None
    try:
        job = scheduler.get_job(RUN_JOB)
        assert job.coalesce is True
        assert job.misfire_grace_time == 48 * 3600
        next_run = job.next_run_time.astimezone(clock.LONDON)
        assert (next_run.hour, next_run.minute) == (7, 0)
        assert next_run > clock.now()
    finally:
        scheduler.shutdown()
    assert scheduled_runs(rio) == []


def test_a_run_missed_while_down_runs_once_on_restart(
    rio: RIO, settings: Settings, smtp: SMTPServer
) -> None:
    load_messenger(rio)
    first = start_scheduler(Runtime(settings))
    assert first is not None
    first.shutdown()
    # Down for three days: three 07:00 runs came and went with no scheduler up.
    move_next_run(settings, clock.now() - timedelta(days=3))

    with capture_logs() as logs:
        restarted = start_scheduler(Runtime(settings))
        assert restarted is not None
        try:
            assert wait_for(lambda: any(r.completed_at for r in scheduled_runs(rio)))
            time.sleep(1.0)  # room for a second (wrong) run to show itself
            job = restarted.get_job(RUN_JOB)
            assert job.next_run_time > clock.now()
        finally:
            restarted.shutdown()

    # Coalesced: the job itself ran once, not once per missed day (the slot's run record
    # would hide extra executions, so count them).
    executions = [e for e in logs if e["event"].startswith("alert_run_")]
    assert [e["event"] for e in executions] == ["alert_run_completed"]

    (run,) = scheduled_runs(rio)
    assert run.completed_at is not None and run.counts["sent"] > 0
    slot = latest_fire_time(cron_trigger("0 7 * * *", "Europe/London"), clock.now())
    assert run.scheduled_for == slot
    assert len(smtp.inbox.to(ADDRESSES[NHSE])) == 1
    assert len(smtp.inbox.to(ADDRESSES[DHSC])) == 1
    assert set(smtp.inbox.alert_deliveries().values()) == {1}

    # Started again with nothing missed: nothing runs.
    again = start_scheduler(Runtime(settings))
    assert again is not None
    time.sleep(0.5)
    again.shutdown()
    assert len(scheduled_runs(rio)) == 1


def test_a_scheduled_slot_records_one_run_however_many_schedulers_fire_it(
    rio: RIO, settings: Settings, smtp: SMTPServer
) -> None:
    from rio.alerts.service import AlertService

    load_messenger(rio)
    slot = latest_fire_time(cron_trigger("0 7 * * *", "Europe/London"), clock.now())

    reports = [
        AlertService(rio, settings).run(trigger="scheduler", scheduled_for=slot) for _ in (1, 2)
    ]

    assert reports[0].skipped is None and reports[0].sent > 0
    assert reports[1].skipped is not None and reports[1].digests == []
    assert len(scheduled_runs(rio)) == 1


def test_a_standby_scheduler_takes_over_when_the_holder_stops(settings: Settings) -> None:
    stops = [threading.Event(), threading.Event()]
    with capture_logs() as logs:
        holder = threading.Thread(target=serve_forever, args=(Runtime(settings), stops[0], 0.1))
        holder.start()
        assert wait_for(lambda: events(logs).count("scheduler_started") == 1)
        standby = threading.Thread(target=serve_forever, args=(Runtime(settings), stops[1], 0.1))
        standby.start()
        try:
            assert wait_for(lambda: "scheduler_standby" in events(logs))
            assert events(logs).count("scheduler_started") == 1

            stops[0].set()
            holder.join(timeout=10)

            assert wait_for(lambda: events(logs).count("scheduler_started") == 2)
            assert start_scheduler(Runtime(settings)) is None
        finally:
            for stop in stops:
                stop.set()
            holder.join(timeout=10)
            standby.join(timeout=10)


def events(logs: list[dict[str, Any]]) -> list[str]:
    return [str(e["event"]) for e in logs]
