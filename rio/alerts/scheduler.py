"""The alert scheduler: APScheduler 3 runs the alert policy on a cron trigger.

Its job store is a table in the store's own database (`rio_scheduler_jobs`), so the next
run time survives restarts: a run missed while no scheduler was up is found overdue on
start-up and, coalesced, runs once (within `alert_misfire_grace_hours`), not once per
missed day. Only the process holding the scheduler lock (rio.persistence.locks) runs it; the
recorded alerts still prevent a duplicate email if that ever failed, and a scheduled slot
records one run however many schedulers fire it.

`start_scheduler` is for a host process (`rio serve`); `serve_forever` is `rio scheduler`.
Both take the composition root (`rio.runtime.Runtime`, seen here as a `SchedulerHost`): the
jobs ask it for an alert service, so they rate by the same policy as every other door.
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import structlog
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from rio.alerts.service import AlertService
from rio.domain import clock
from rio.errors import ConfigurationError
from rio.persistence.locks import StoreLock, scheduler_lock
from rio.projections.read_model import sqlalchemy_url
from rio.settings import Settings

log = structlog.get_logger("rio.scheduler")

JOBS_TABLE = "rio_scheduler_jobs"
RUN_JOB = "rio-alerts-run"
RETRY_JOB = "rio-alerts-retry"


class SchedulerHost(Protocol):
    """What the scheduler needs of the composition root: the settings, and an alert service
    on store connections of its own for each job (closed when the job ends)."""

    @property
    def settings(self) -> Settings: ...

    def alert_session(self, principal: str) -> AbstractContextManager[AlertService]: ...


# The host of the scheduler running in this process. APScheduler's persistent job store
# keeps a job as a reference to a module-level function, and the settings (which hold the
# SMTP password) must not be pickled into the database with it.
_job_host: SchedulerHost | None = None


class SchedulerConfigError(ConfigurationError):
    """A scheduler setting (cron expression, time zone) RIO cannot use."""


class RIOScheduler(BackgroundScheduler):  # type: ignore[misc]  # APScheduler 3 is untyped
    """A BackgroundScheduler that holds the scheduler lock until it is shut down."""

    def __init__(self, lock: StoreLock, **options: Any) -> None:
        super().__init__(**options)
        self.lock = lock

    def lock_held(self) -> bool:
        return self.lock.held()

    def _process_jobs(self) -> float | None:
        # APScheduler 3 wakes its thread once more after shutdown() has stopped the
        # executors; a job due at that instant would be marked done without running.
        if self.state == STATE_STOPPED:
            return None
        result: float | None = super()._process_jobs()
        return result

    def shutdown(self, wait: bool = True) -> None:
        try:
            if self.running:
                super().shutdown(wait=wait)
        finally:
            self.lock.release()


def cron_trigger(expression: str, timezone: str) -> CronTrigger:
    """A crontab line (minute hour day month weekday); six fields put seconds first."""
    try:
        zone = ZoneInfo(timezone)
    except (KeyError, ValueError):
        raise SchedulerConfigError(
            f"RIO_ALERT_TIMEZONE {timezone!r} is not a time zone: use an IANA name such as "
            "Europe/London"
        ) from None
    fields = expression.split()
    try:
        if len(fields) == 5:
            return CronTrigger.from_crontab(expression, timezone=zone)
        if len(fields) == 6:
            second, minute, hour, day, month, day_of_week = fields
            return CronTrigger(
                second=second,
                minute=minute,
                hour=hour,
                day=day,
                month=month,
                day_of_week=day_of_week,
                timezone=zone,
            )
    except ValueError as error:
        raise SchedulerConfigError(f"RIO_ALERT_CRON {expression!r}: {error}") from None
    raise SchedulerConfigError(
        f"RIO_ALERT_CRON {expression!r} must have five fields (minute hour day month weekday), "
        "or six with seconds first"
    )


def latest_fire_time(trigger: CronTrigger, now: datetime) -> datetime:
    """The trigger's latest fire time at or before `now`: the slot a run belongs to."""
    window = timedelta(minutes=1)
    while window <= timedelta(days=64):
        probe, latest = now - window, None
        while True:
            fire: datetime | None = trigger.get_next_fire_time(None, probe)
            if fire is None or fire > now:
                break
            latest, probe = fire, fire + timedelta(seconds=1)
        if latest is not None:
            return latest
        window *= 4
    return now


def start_scheduler(host: SchedulerHost) -> BackgroundScheduler | None:
    """Start the alert scheduler in the background, or return None if another process has it.

    Call `.shutdown()` on the result when the host process stops; that releases the lock.
    """
    global _job_host
    app_settings = host.settings
    trigger = cron_trigger(app_settings.alert_cron, app_settings.alert_timezone)
    lock = scheduler_lock(app_settings.database_url)
    if not lock.acquire():
        log.info("scheduler_not_started", reason="another process holds the scheduler lock")
        return None
    scheduler = None
    try:
        scheduler = _build(app_settings, lock)
        _job_host = host
        scheduler.start(paused=True)
        _install_jobs(scheduler, trigger, app_settings)
        scheduler.resume()
    except BaseException:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        lock.release()
        raise
    job = scheduler.get_job(RUN_JOB)
    log.info(
        "scheduler_started",
        cron=app_settings.alert_cron,
        timezone=app_settings.alert_timezone,
        next_run=job.next_run_time.isoformat() if job and job.next_run_time else None,
    )
    return scheduler


def serve_forever(
    host: SchedulerHost, stop: threading.Event | None = None, poll_seconds: float = 30.0
) -> None:
    """`rio scheduler`: hold the scheduler until `stop` is set; wait for the lock meanwhile."""
    stop = stop or threading.Event()
    standby_logged = False
    while not stop.is_set():
        scheduler = start_scheduler(host)
        if scheduler is None:
            if not standby_logged:
                log.info("scheduler_standby", retry_every_seconds=poll_seconds)
                standby_logged = True
            stop.wait(poll_seconds)
            continue
        standby_logged = False
        try:
            while not stop.wait(poll_seconds):
                if isinstance(scheduler, RIOScheduler) and not scheduler.lock_held():
                    log.error("scheduler_lock_lost", action="stopping the scheduler")
                    break
        finally:
            scheduler.shutdown(wait=True)
    log.info("scheduler_stopped")


# --- jobs (module-level functions: the job store keeps references to them) -----------------


def run_alerts_job() -> None:
    """The cron job: one alert run as at today, recorded against its scheduled slot."""
    host = _host()
    settings = host.settings
    slot = latest_fire_time(cron_trigger(settings.alert_cron, settings.alert_timezone), clock.now())
    try:
        with host.alert_session("rio:scheduler") as service:
            service.run(trigger="scheduler", scheduled_for=slot)
    except Exception:
        log.exception("alert_run_failed", slot=slot.isoformat())


def retry_alerts_job() -> None:
    """The retry job: send pending alerts whose back-off has passed; looks for nothing new."""
    try:
        with _host().alert_session("rio:scheduler") as service:
            report = service.deliver_pending()
        if report.digests:
            log.info("alert_retry_completed", sent=report.sent, failed=report.failed)
    except Exception:
        log.exception("alert_retry_failed")


def _host() -> SchedulerHost:
    if _job_host is None:
        raise SchedulerConfigError("the alert job ran in a process that started no scheduler")
    return _job_host


def _build(settings: Settings, lock: StoreLock) -> RIOScheduler:
    url, schema = sqlalchemy_url(settings.database_url)
    sqlite = url.startswith("sqlite")
    engine = sa.create_engine(
        url, pool_pre_ping=True, connect_args={"timeout": 30} if sqlite else {}
    )
    store = SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE, tableschema=schema)
    return RIOScheduler(
        lock,
        jobstores={"default": store},
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": int(settings.alert_misfire_grace_hours * 3600),
        },
        timezone=ZoneInfo(settings.alert_timezone),
    )


def _install_jobs(scheduler: RIOScheduler, trigger: CronTrigger, settings: Settings) -> None:
    """Add (or update) the jobs, keeping a stored next run time that has passed: the run
    missed while no scheduler was up, which must still happen (once)."""
    now = clock.now()
    missed: dict[str, Any] = {}
    try:
        stored = scheduler.get_job(RUN_JOB)
    except (LookupError, ValueError):  # a stored job whose function no longer imports
        stored = None
    if stored is not None and stored.next_run_time is not None and stored.next_run_time <= now:
        missed["next_run_time"] = stored.next_run_time
        log.info("scheduler_missed_run", was_due=stored.next_run_time.isoformat())
    scheduler.add_job(
        run_alerts_job,
        trigger=trigger,
        id=RUN_JOB,
        name="alert run",
        replace_existing=True,
        **missed,
    )
    scheduler.add_job(
        retry_alerts_job,
        trigger=IntervalTrigger(minutes=settings.alert_retry_minutes),
        id=RETRY_JOB,
        name="retry pending alerts",
        replace_existing=True,
    )
