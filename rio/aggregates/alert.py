"""Alerts and alert runs: what RIO told whom, recorded before it was sent and after.

An `Alert`'s id is deterministic (see `rio.domain.alert_policy.alert_id`), so a re-run or a second
process that would raise the same alert collides with the first on the store's optimistic
concurrency and finds it already raised. A send is claimed by an event (`SendStarted`)
before the mail server is spoken to, so two processes cannot both send it; its outcome
(`Sent`, `SendFailed`) is recorded after. An `AlertRun` records each run of the policy,
so "slipped since the last run" and "did the missed run happen once?" have answers.

Topics follow `rio.aggregates.topics` (`rio:Alert.Raised`); events recorded before that
scheme carry `rio.aggregates.alert:Alert.Raised`, which stays an alias of the same class.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from rio.aggregates.topics import Stored, stored_topics
from rio.domain import clock
from rio.domain.due_window import DueWindow
from rio.domain.errors import DomainError
from rio.domain.values import Source


class AlertNotSendable(DomainError):
    """A send was asked of an alert that is already sent, or being sent by someone else."""


class AlertStatus(StrEnum):
    PENDING = "pending"  # raised, not sent: never tried, or the last try failed
    SENDING = "sending"  # a process has claimed it and not yet recorded the outcome
    SENT = "sent"
    WITHDRAWN = "withdrawn"  # judged again before a send and found resolved: never sent


class Alert(Stored, Aggregate):
    class Event(Stored, Aggregate.Event):
        @staticmethod
        def create_timestamp() -> datetime:
            return clock.now()

    class Raised(Event, Aggregate.Created):
        """The policy found this alert due; recorded before any attempt to send it."""

        class_version: ClassVar[int] = 1
        kind: str
        owner: str  # the addressee: the commitment's owner, or the senior owner
        role: str  # "accountable" or "senior"
        review: str
        number: int
        title: str
        commitment: str
        deliverable: str
        due: DueWindow | None
        previous_due: DueWindow | None
        source: Source
        why: str
        days: int | None
        as_at: date
        policy: str
        raised_by: str

        def apply(self, aggregate: Alert) -> None:
            aggregate.kind = self.kind
            aggregate.owner = self.owner
            aggregate.role = self.role
            aggregate.review = self.review
            aggregate.number = self.number
            aggregate.title = self.title
            aggregate.commitment = self.commitment
            aggregate.deliverable = self.deliverable
            aggregate.due = self.due
            aggregate.previous_due = self.previous_due
            aggregate.source = self.source
            aggregate.why = self.why
            aggregate.days = self.days
            aggregate.as_at = self.as_at
            aggregate.policy = self.policy
            aggregate.raised_at = self.timestamp

    class SendStarted(Event):
        """A process claimed the alert and is about to hand it to the mail server."""

        class_version: ClassVar[int] = 1
        attempt: int
        recipient: str
        message_id: str
        by: str

        def apply(self, aggregate: Alert) -> None:
            aggregate.attempts = self.attempt
            aggregate.claimed_at = self.timestamp
            aggregate.claimed_by = self.by
            aggregate.recipient = self.recipient
            aggregate.message_id = self.message_id

    class Sent(Event):
        """The mail server accepted the digest carrying this alert."""

        class_version: ClassVar[int] = 1
        attempt: int
        recipient: str
        message_id: str

        def apply(self, aggregate: Alert) -> None:
            aggregate.sent_at = self.timestamp
            aggregate.claimed_at = None
            aggregate.recipient = self.recipient
            aggregate.message_id = self.message_id

    class SendFailed(Event):
        """The mail server refused or could not be reached; the alert stays pending."""

        class_version: ClassVar[int] = 1
        attempt: int
        error: str
        retry_after: datetime

        def apply(self, aggregate: Alert) -> None:
            aggregate.claimed_at = None
            aggregate.last_error = self.error
            aggregate.retry_after = self.retry_after

    class Withdrawn(Event):
        """Judged again before a send (after a mail outage, say), the matter had resolved:
        the alert is kept on record and never sent as news."""

        class_version: ClassVar[int] = 1
        reason: str
        as_at: date  # the day it was judged as at
        by: str

        def apply(self, aggregate: Alert) -> None:
            aggregate.claimed_at = None
            aggregate.withdrawn_at = self.timestamp
            aggregate.withdrawn_reason = self.reason

    def __init__(self) -> None:
        # Raised.apply fills in what the alert says; these say what became of it.
        self.kind = ""
        self.owner = ""
        self.role = ""
        self.review = ""
        self.number = 0
        self.title = ""
        self.commitment = ""
        self.deliverable = ""
        self.due: DueWindow | None = None
        self.previous_due: DueWindow | None = None
        self.source: Source | None = None
        self.why = ""
        self.days: int | None = None
        self.as_at = date.min
        self.raised_at = datetime.min.replace(tzinfo=UTC)
        self.policy = ""
        self.attempts = 0
        self.claimed_at: datetime | None = None
        self.claimed_by: str | None = None
        self.recipient: str | None = None
        self.message_id: str | None = None
        self.sent_at: datetime | None = None
        self.last_error: str | None = None
        self.retry_after: datetime | None = None
        self.withdrawn_at: datetime | None = None
        self.withdrawn_reason: str | None = None

    @classmethod
    def raise_alert(
        cls,
        *,
        id: UUID,  # the deterministic alert id is the aggregate's identity
        kind: str,
        owner: str,
        role: str,
        review: str,
        number: int,
        title: str,
        commitment: str,
        deliverable: str,
        due: DueWindow | None,
        previous_due: DueWindow | None,
        source: Source,
        why: str,
        days: int | None,
        as_at: date,
        policy: str,
        raised_by: str,
        now: datetime,
    ) -> Alert:
        if not owner.strip():
            raise DomainError("an alert needs an owner to address it to")
        return cls._create(
            cls.Raised,
            id=id,
            timestamp=now,
            kind=kind,
            owner=owner,
            role=role,
            review=review,
            number=number,
            title=title,
            commitment=commitment,
            deliverable=deliverable,
            due=due,
            previous_due=previous_due,
            source=source,
            why=why,
            days=days,
            as_at=as_at,
            policy=policy,
            raised_by=raised_by,
        )

    # --- what became of it ----------------------------------------------------------------

    def status(self, now: datetime, lease: timedelta) -> AlertStatus:
        if self.sent_at is not None:
            return AlertStatus.SENT
        if self.withdrawn_at is not None:
            return AlertStatus.WITHDRAWN
        if self.claimed_at is not None and now - self.claimed_at < lease:
            return AlertStatus.SENDING
        return AlertStatus.PENDING

    def ready(self, now: datetime, lease: timedelta) -> bool:
        """Pending, and not waiting out the back-off after a failed attempt."""
        if self.status(now, lease) is not AlertStatus.PENDING:
            return False
        return self.retry_after is None or now >= self.retry_after

    # --- commands -------------------------------------------------------------------------

    def start_send(
        self, *, recipient: str, message_id: str, by: str, now: datetime, lease: timedelta
    ) -> None:
        """Claim the alert for one attempt. A claim whose process never reported back is
        taken over once `lease` has passed (the mail may then go twice; the Message-ID lets
        the recipient's system see it is the same digest)."""
        status = self.status(now, lease)
        if status is AlertStatus.SENT:
            raise AlertNotSendable(f"alert {self.id} was already sent ({self.message_id})")
        if status is AlertStatus.SENDING:
            raise AlertNotSendable(f"alert {self.id} is being sent by {self.claimed_by}")
        if status is AlertStatus.WITHDRAWN:
            raise AlertNotSendable(f"alert {self.id} was withdrawn: {self.withdrawn_reason}")
        self.trigger_event(
            self.SendStarted,
            timestamp=now,
            attempt=self.attempts + 1,
            recipient=recipient,
            message_id=message_id,
            by=by,
        )

    def record_sent(self, *, now: datetime) -> None:
        recipient, message_id = self._claimed("record a send")
        self.trigger_event(
            self.Sent,
            timestamp=now,
            attempt=self.attempts,
            recipient=recipient,
            message_id=message_id,
        )

    def record_failure(self, *, error: str, retry_after: datetime, now: datetime) -> None:
        self._claimed("record a failure")
        self.trigger_event(
            self.SendFailed,
            timestamp=now,
            attempt=self.attempts,
            error=error,
            retry_after=retry_after,
        )

    def withdraw(self, *, reason: str, as_at: date, by: str, now: datetime) -> None:
        """Record that the matter resolved before the alert could go; only a pending one."""
        if self.sent_at is not None:
            raise AlertNotSendable(f"alert {self.id} was already sent ({self.message_id})")
        if self.withdrawn_at is not None:
            raise AlertNotSendable(f"alert {self.id} was already withdrawn")
        self.trigger_event(self.Withdrawn, timestamp=now, reason=reason, as_at=as_at, by=by)

    def _claimed(self, doing: str) -> tuple[str, str]:
        """The claim's recipient and Message-ID; refused when no send is in progress."""
        if (
            self.sent_at is not None
            or self.claimed_at is None
            or self.recipient is None
            or self.message_id is None
        ):
            raise AlertNotSendable(f"cannot {doing} for alert {self.id}: no send was started")
        return self.recipient, self.message_id


class AlertRun(Stored, Aggregate):
    """One run of the alert policy: when, as at which date, and what it did."""

    class Event(Stored, Aggregate.Event):
        @staticmethod
        def create_timestamp() -> datetime:
            return clock.now()

    class Started(Event, Aggregate.Created):
        # v2 records the policy version the run judged by (a run that raised nothing said
        # nothing about it before); a v1 run's policy is unknown: None.
        class_version: ClassVar[int] = 2
        as_at: date
        trigger: str  # "cli", "scheduler", ...
        scheduled_for: datetime | None
        previous_as_at: date | None
        by: str
        policy: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["policy"] = None

        def apply(self, aggregate: AlertRun) -> None:
            aggregate.policy = self.policy
            aggregate.as_at = self.as_at
            aggregate.trigger = self.trigger
            aggregate.scheduled_for = self.scheduled_for
            aggregate.previous_as_at = self.previous_as_at
            aggregate.started_at = self.timestamp

    class Completed(Event):
        class_version: ClassVar[int] = 1
        raised: int
        sent: int
        failed: int
        held: int
        waiting: int

        def apply(self, aggregate: AlertRun) -> None:
            aggregate.completed_at = self.timestamp
            aggregate.counts = {
                "raised": self.raised,
                "sent": self.sent,
                "failed": self.failed,
                "held": self.held,
                "waiting": self.waiting,
            }

    def __init__(self) -> None:
        # Started.apply fills these in; declared here so their types are known.
        self.as_at = date.min
        self.trigger = ""
        self.scheduled_for: datetime | None = None
        self.previous_as_at: date | None = None
        self.policy: str | None = None  # the alert policy version; None for runs before v2
        self.started_at = datetime.min.replace(tzinfo=UTC)
        self.completed_at: datetime | None = None
        self.counts: dict[str, int] = {}

    @classmethod
    def start(
        cls,
        *,
        id: UUID,  # a scheduled run's id comes from its slot: a slot runs once
        as_at: date,
        trigger: str,
        scheduled_for: datetime | None,
        previous_as_at: date | None,
        policy: str,
        by: str,
        now: datetime,
    ) -> AlertRun:
        return cls._create(
            cls.Started,
            id=id,
            timestamp=now,
            as_at=as_at,
            trigger=trigger,
            scheduled_for=scheduled_for,
            previous_as_at=previous_as_at,
            policy=policy,
            by=by,
        )

    def complete(
        self, *, raised: int, sent: int, failed: int, held: int, waiting: int, now: datetime
    ) -> None:
        if self.completed_at is not None:
            raise DomainError(f"alert run {self.id} was already completed")
        self.trigger_event(
            self.Completed,
            timestamp=now,
            raised=raised,
            sent=sent,
            failed=failed,
            held=held,
            waiting=waiting,
        )


# Every topic these events may be stored under (today's and the module-path ones before it),
# for finding them in the notification log.
ALERT_TOPICS = stored_topics(
    Alert.Raised, Alert.SendStarted, Alert.Sent, Alert.SendFailed, Alert.Withdrawn
)
RUN_TOPICS = stored_topics(AlertRun.Started, AlertRun.Completed)
