"""An alert run: find what is due, record it, then send each owner one digest.

Order matters for "exactly once, nothing lost": an alert is recorded (raised) before any
attempt to send it, each send is claimed by an event before the mail server is spoken to,
and its outcome is recorded after. A run that fails half-way leaves alerts pending, and
the next run (or the scheduler's retry job) sends them.
"""

from __future__ import annotations

import os
import socket
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

import structlog

from rio.aggregates.alert import Alert, AlertStatus
from rio.alerts.digest import AlertLike, Digest, compose
from rio.alerts.mailer import DeliveryFailed, Mailer, SMTPMailer
from rio.alerts.owners import OwnerDirectory
from rio.application.alert_records import AlertRecords
from rio.application.service import RIO
from rio.domain import clock
from rio.domain.access import owner_key
from rio.domain.alert_policy import Findings, Thresholds, Unaddressed, alerts_due, resolution
from rio.domain.rag import Policy
from rio.domain.state import Programme
from rio.errors import ConfigurationError
from rio.projections.read_model import ReadModel
from rio.settings import Settings

log = structlog.get_logger("rio.alerts")

CLAIM_TRIES = 5
A = TypeVar("A", bound=AlertLike)


class AlertsNotConfigured(ConfigurationError):
    """Alerts cannot be sent because a setting they need is missing."""


@dataclass(frozen=True)
class DigestOutcome:
    owner: str
    recipients: tuple[str, ...]
    alert_ids: tuple[UUID, ...]
    message_id: str
    sent: bool
    error: str | None = None


@dataclass(frozen=True)
class Withdrawal:
    """A pending alert judged again before its send and found resolved: never sent."""

    alert: AlertLike
    reason: str


@dataclass
class RunReport:
    """What a run found and did, for the CLI, the logs and the run record."""

    as_at: date
    previous_as_at: date | None = None
    trigger: str = "cli"
    dry_run: bool = False
    run_id: UUID | None = None
    skipped: str | None = None
    found: int = 0
    raised: int = 0
    digests: list[DigestOutcome] = field(default_factory=list)
    previews: list[Digest] = field(default_factory=list)
    held: dict[str, int] = field(default_factory=dict)  # owner -> alerts waiting for an address
    held_previews: list[Digest] = field(default_factory=list)  # dry run: what they would say
    withdrawn: list[Withdrawal] = field(default_factory=list)  # resolved before they could go
    waiting: int = 0  # pending, but backing off after a failed send
    elsewhere: int = 0  # being sent by another process
    unaddressed: tuple[Unaddressed, ...] = ()

    @property
    def sent(self) -> int:
        return sum(len(d.alert_ids) for d in self.digests if d.sent)

    @property
    def failed(self) -> int:
        return sum(len(d.alert_ids) for d in self.digests if not d.sent)


def scheduled_run_id(slot: datetime) -> UUID:
    """A scheduled slot's run id: two schedulers firing the same slot record one run."""
    return uuid5(NAMESPACE_URL, f"rio:alert-run:{slot.astimezone(UTC).isoformat()}")


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class AlertService:
    """Runs the alert policy against one store and delivers what it finds."""

    def __init__(
        self,
        app: RIO,
        settings: Settings,
        mailer: Mailer | None = None,
        principal: str = "rio:alerts",
        policy: Policy | None = None,
        read_model: ReadModel | None = None,
    ) -> None:
        self.app = app
        self.settings = settings
        self.mailer = mailer
        self.principal = principal
        self.records = AlertRecords(app)
        self.lease = timedelta(minutes=settings.alert_send_lease_minutes)
        self.thresholds = Thresholds(
            due_soon_days=settings.due_soon_days,
            escalate_after_days=settings.escalate_after_days,
            # The runtime passes the one Policy that status and the board use too.
            policy=policy or settings.rag_policy(),
        )
        self.read_model = read_model  # the runtime's; None: one of its own for each run

    # --- runs -----------------------------------------------------------------------------

    def run(
        self,
        as_at: date | None = None,
        *,
        trigger: str = "cli",
        scheduled_for: datetime | None = None,
        dry_run: bool = False,
        retry_now: bool = False,
    ) -> RunReport:
        """One run as at `as_at` (default today): raise what is due, send what is pending."""
        day = as_at or clock.today()
        owners = self._owners()
        if not dry_run:
            self._mailer()
        previous = self.records.previous_run(day)
        report = RunReport(as_at=day, previous_as_at=previous, trigger=trigger, dry_run=dry_run)
        run = None
        if not dry_run:
            run_id = scheduled_run_id(scheduled_for) if scheduled_for else uuid4()
            run = self.records.start_run(
                run_id=run_id,
                as_at=day,
                trigger=trigger,
                scheduled_for=scheduled_for,
                previous_as_at=previous,
                by=self._by(),
            )
            if run is None:
                report.skipped = f"the run scheduled for {scheduled_for} was already started"
                log.info("alert_run_already_started", run_id=str(run_id), slot=str(scheduled_for))
                return report
            report.run_id = run.id
        findings = self._findings(day, previous)
        report.found = len(findings.alerts)
        report.unaddressed = findings.unaddressed
        for item in findings.unaddressed:
            log.warning(
                "alert_unaddressed",
                review=item.review,
                recommendation=item.number,
                commitment=item.commitment,
                kind=item.kind.value,
                reason=item.reason,
            )
        if dry_run:
            self._preview(report, findings, owners, retry_now)
            return report
        for finding in findings.alerts:
            if self.records.raise_alert(finding, raised_by=self.principal):
                report.raised += 1
                log.info(
                    "alert_raised",
                    alert_id=str(finding.id),
                    kind=finding.kind.value,
                    owner=finding.owner,
                    recommendation=finding.number,
                    commitment=finding.commitment,
                )
        self._deliver(report, owners, retry_now, self._mailer())
        if run is not None:
            self.records.complete_run(
                run,
                raised=report.raised,
                sent=report.sent,
                failed=report.failed,
                held=sum(report.held.values()),
                waiting=report.waiting,
            )
        log.info(
            "alert_run_completed",
            as_at=day.isoformat(),
            trigger=trigger,
            found=report.found,
            raised=report.raised,
            sent=report.sent,
            failed=report.failed,
            held=sum(report.held.values()),
            waiting=report.waiting,
        )
        return report

    def deliver_pending(self, *, retry_now: bool = False) -> RunReport:
        """Send what is pending without looking for anything new (the scheduler's retry job)."""
        report = RunReport(as_at=clock.today(), trigger="retry")
        self._deliver(report, self._owners(), retry_now, self._mailer())
        return report

    def alerts(self, owner: str | None = None, status: str | None = None) -> list[Alert]:
        now = clock.now()
        found = self.records.alerts()
        if owner is not None:
            wanted = owner_key(owner)
            found = [a for a in found if owner_key(a.owner) == wanted]
        if status is not None:
            found = [a for a in found if a.status(now, self.lease).value == status]
        return found

    def status_of(self, alert: Alert) -> AlertStatus:
        return alert.status(clock.now(), self.lease)

    def owners(self) -> OwnerDirectory:
        return self._owners()

    # --- steps ----------------------------------------------------------------------------

    def _programme(self, day: date) -> Programme:
        if self.read_model is not None:
            return self.read_model.programme(day)
        model = ReadModel(self.app)
        try:
            return model.programme(day)
        finally:
            model.close()

    def _findings(self, day: date, previous: date | None) -> Findings:
        return alerts_due(self._programme(day), previous, self.thresholds)

    def _judged(self, report: RunReport, alerts: Sequence[Alert], *, record: bool) -> list[Alert]:
        """The pending alerts that still stand as at the run's date. One whose matter has
        resolved since it was raised (it waited out a mail outage, say) is withdrawn, and
        recorded as such unless this is a dry run."""
        if not alerts:
            return []
        programme = self._programme(report.as_at)
        standing: list[Alert] = []
        for alert in alerts:
            reason = (
                None
                if alert.as_at > report.as_at  # raised as at a later date: not ours to judge
                else resolution(
                    programme,
                    review=alert.review,
                    number=alert.number,
                    commitment=alert.commitment,
                    kind=alert.kind,
                    due=alert.due,
                    as_at=alert.as_at,
                    days=alert.days,
                )
            )
            if reason is None:
                standing.append(alert)
                continue
            if record and not self.records.withdraw(
                alert, reason=reason, as_at=report.as_at, by=self._by()
            ):
                report.elsewhere += 1
                continue
            report.withdrawn.append(Withdrawal(alert, reason))
            if record:
                log.info(
                    "alert_withdrawn",
                    alert_id=str(alert.id),
                    kind=alert.kind,
                    owner=alert.owner,
                    recommendation=alert.number,
                    commitment=alert.commitment,
                    reason=reason,
                )
        return standing

    def _preview(
        self, report: RunReport, findings: Findings, owners: OwnerDirectory, retry_now: bool
    ) -> None:
        """What a real run would send now: the new alerts, and the pending ones that are due."""
        now = clock.now()
        recorded = {a.id: a for a in self.records.alerts()}
        going: list[AlertLike] = [f for f in findings.alerts if f.id not in recorded]
        ready = [a for a in recorded.values() if self._ready(a, now, retry_now)]
        going.extend(self._judged(report, ready, record=False))
        for owner, items in _by_owner(going).items():
            recipients = owners.address_of(owner)
            digest = compose(owner, recipients, items, report.as_at, self.settings.base_url)
            if not recipients:
                report.held[owner] = len(items)
                report.held_previews.append(digest)
                continue
            report.previews.append(digest)

    def _deliver(
        self, report: RunReport, owners: OwnerDirectory, retry_now: bool, mailer: Mailer
    ) -> None:
        now = clock.now()
        pending = [
            a for a in self.records.alerts() if a.status(now, self.lease) is AlertStatus.PENDING
        ]
        ready = [a for a in pending if self._ready(a, now, retry_now)]
        report.waiting += len(pending) - len(ready)
        ready = self._judged(report, ready, record=True)
        for owner, items in _by_owner(ready).items():
            recipients = owners.address_of(owner)
            if not recipients:
                report.held[owner] = len(items)
                log.warning(
                    "alert_owner_has_no_address",
                    owner=owner,
                    alerts=len(items),
                    hint="add the owner to RIO_OWNERS_FILE; the alerts stay pending until then",
                )
                continue
            self._send_digest(report, owner, recipients, items, mailer)

    def _send_digest(
        self,
        report: RunReport,
        owner: str,
        recipients: tuple[str, ...],
        items: list[Alert],
        mailer: Mailer,
    ) -> None:
        digest = None
        for _ in range(CLAIM_TRIES):
            digest = compose(owner, recipients, items, report.as_at, self.settings.base_url)
            if self.records.claim(
                items,
                recipient=", ".join(recipients),
                message_id=digest.message_id,
                by=self._by(),
                lease=self.lease,
            ):
                break
            # Someone else claimed some of them first: take what is still ours to send.
            now = clock.now()
            fresh = [self.records.get(a.id) for a in items]
            items = [a for a in fresh if a is not None and a.ready(now, self.lease)]
            report.elsewhere += len(fresh) - len(items)
            if not items:
                return
        else:
            log.warning("alert_claim_contended", owner=owner, alerts=len(items))
            report.elsewhere += len(items)
            return
        try:
            mailer.send(digest.email(self.settings.alert_from, clock.now()), list(recipients))
        except DeliveryFailed as error:
            attempt = max(a.attempts for a in items)
            retry_after = clock.now() + self._backoff(attempt)
            self.records.record_failure(items, str(error), retry_after)
            report.digests.append(
                DigestOutcome(
                    owner, recipients, digest.alert_ids, digest.message_id, False, str(error)
                )
            )
            log.warning(
                "alert_digest_failed",
                owner=owner,
                message_id=digest.message_id,
                alerts=len(items),
                attempt=attempt,
                error=str(error),
                retry_after=retry_after.isoformat(),
            )
            return
        self.records.record_sent(items)
        report.digests.append(
            DigestOutcome(owner, recipients, digest.alert_ids, digest.message_id, True)
        )
        log.info(
            "alert_digest_sent",
            owner=owner,
            message_id=digest.message_id,
            alerts=[str(i) for i in digest.alert_ids],
        )

    # --- helpers --------------------------------------------------------------------------

    def _ready(self, alert: Alert, now: datetime, retry_now: bool) -> bool:
        if retry_now:
            return alert.status(now, self.lease) is AlertStatus.PENDING
        return alert.ready(now, self.lease)

    def _backoff(self, attempt: int) -> timedelta:
        minutes = self.settings.alert_backoff_minutes * 2 ** max(0, attempt - 1)
        return timedelta(minutes=min(minutes, self.settings.alert_backoff_max_minutes))

    def _mailer(self) -> Mailer:
        """The mail server, made from RIO_SMTP_URL when first needed (listing needs none)."""
        if self.mailer is None and self.settings.smtp_url:
            self.mailer = SMTPMailer.from_url(self.settings.smtp_url)
        if self.mailer is None:
            raise AlertsNotConfigured(
                "RIO_SMTP_URL is not set, so alerts cannot be sent: set it "
                "(smtp://host:25) or use --dry-run to see what would go"
            )
        return self.mailer

    def _owners(self) -> OwnerDirectory:
        return OwnerDirectory.load(self.settings.owners_file, self.settings.owner_emails)

    def _by(self) -> str:
        return f"{self.principal} ({process_name()})"


def _by_owner(alerts: Sequence[A]) -> dict[str, list[A]]:
    grouped: dict[str, list[A]] = defaultdict(list)
    for alert in alerts:
        grouped[alert.owner].append(alert)
    return dict(sorted(grouped.items()))
