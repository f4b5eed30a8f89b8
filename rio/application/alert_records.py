"""Alerts and alert runs in the RIO store: load -> call the aggregate -> save, through RIO.

Alerts live in the same event store as the recommendations (and so in its audit chain);
they are found by their event topics in the notification log, so no separate index is
needed and nothing here can disagree with the log.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from uuid import UUID

import structlog

from rio.aggregates.alert import ALERT_TOPICS, RUN_TOPICS, Alert, AlertNotSendable, AlertRun
from rio.application.service import RIO
from rio.domain import clock
from rio.domain.alert_policy import POLICY_VERSION, AlertDue
from rio.domain.errors import VersionConflict

log = structlog.get_logger("rio.alerts")


class AlertRecords:
    def __init__(self, app: RIO) -> None:
        self.app = app

    # --- alerts ---------------------------------------------------------------------------

    def get(self, alert_id: UUID) -> Alert | None:
        return self.app.load(Alert, alert_id)

    def raise_alert(self, finding: AlertDue, raised_by: str) -> bool:
        """Record the alert; False when it was already raised (here, or by a racing process)."""
        if self.get(finding.id) is not None:
            return False
        alert = Alert.raise_alert(
            id=finding.id,
            kind=finding.kind.value,
            owner=finding.owner,
            role=finding.role,
            review=finding.review,
            number=finding.number,
            title=finding.title,
            commitment=finding.commitment,
            deliverable=finding.deliverable,
            due=finding.due,
            previous_due=finding.previous_due,
            source=finding.source,
            why=finding.why,
            days=finding.days,
            as_at=finding.as_at,
            policy=POLICY_VERSION,
            raised_by=raised_by,
            now=clock.now(),
        )
        # False when another process raised the same (deterministic) alert since the get.
        return self.app.commit(alert)

    def alerts(self) -> list[Alert]:
        """Every alert ever raised, each folded from its events, in the order first raised."""
        return self.app.fold(Alert, ALERT_TOPICS)

    def claim(
        self,
        alerts: Sequence[Alert],
        *,
        recipient: str,
        message_id: str,
        by: str,
        lease: timedelta,
    ) -> bool:
        """Claim every alert for one send, in one transaction, or none of them.

        False when another process claimed (or sent) any of them first: the store's
        optimistic concurrency lets exactly one claimant record the next version.
        """
        now = clock.now()
        try:
            for alert in alerts:
                alert.start_send(
                    recipient=recipient, message_id=message_id, by=by, now=now, lease=lease
                )
        except AlertNotSendable:
            return False
        return self.app.commit(*alerts)

    def record_sent(self, alerts: Sequence[Alert]) -> None:
        now = clock.now()
        for alert in alerts:
            alert.record_sent(now=now)
        self._save_outcome(alerts)

    def record_failure(self, alerts: Sequence[Alert], error: str, retry_after: datetime) -> None:
        now = clock.now()
        for alert in alerts:
            alert.record_failure(error=error, retry_after=retry_after, now=now)
        self._save_outcome(alerts)

    def withdraw(self, alert: Alert, *, reason: str, as_at: date, by: str) -> bool:
        """Record that a pending alert's matter resolved; False when another process sent,
        claimed or withdrew it first (it is then theirs)."""
        try:
            alert.withdraw(reason=reason, as_at=as_at, by=by, now=clock.now())
        except AlertNotSendable:
            return False
        return self.app.commit(alert)

    def _save_outcome(self, alerts: Sequence[Alert]) -> None:
        if not self.app.commit(*alerts):
            # Only a process that took over after the lease expired can get here; the
            # alerts stay claimed by it and its outcome is the one recorded.
            log.error("alert_outcome_not_recorded", alerts=[str(a.id) for a in alerts])

    # --- runs -----------------------------------------------------------------------------

    def runs(self) -> list[AlertRun]:
        return self.app.fold(AlertRun, RUN_TOPICS)

    def previous_run(self, as_at: date) -> date | None:
        """The as-at date of the latest completed run before `as_at`."""
        earlier = [r.as_at for r in self.runs() if r.completed_at is not None and r.as_at < as_at]
        return max(earlier, default=None)

    def start_run(
        self,
        *,
        run_id: UUID,
        as_at: date,
        trigger: str,
        scheduled_for: datetime | None,
        previous_as_at: date | None,
        by: str,
    ) -> AlertRun | None:
        """Record the run's start; None when this run (a scheduled slot) was already started."""
        run = AlertRun.start(
            id=run_id,
            as_at=as_at,
            trigger=trigger,
            scheduled_for=scheduled_for,
            previous_as_at=previous_as_at,
            policy=POLICY_VERSION,
            by=by,
            now=clock.now(),
        )
        return run if self.app.commit(run) else None

    def complete_run(self, run: AlertRun, **counts: int) -> None:
        run.complete(now=clock.now(), **counts)
        if not self.app.commit(run):
            # Only the process that started a run completes it, so this is never expected.
            raise VersionConflict(f"alert run {run.id} was changed by another process")
