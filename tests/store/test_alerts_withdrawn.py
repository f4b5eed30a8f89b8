"""An alert left pending by a mail outage is judged again before it is sent: a matter that
resolved meanwhile is recorded as withdrawn and never arrives as news (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from rio.aggregates.alert import AlertNotSendable, AlertStatus
from rio.alerts.service import AlertService
from rio.application.commands import RecordDelivery
from rio.application.service import RIO
from rio.domain.values import Source
from rio.settings import Settings
from tests.alert_support import (
    ADDRESSES,
    NHSE,
    SMTPServer,
    load_messenger,
    owners_file,
    smtp_server,
)

AS_AT = date(2024, 5, 1)
CEO_COHORT = "aspiring-ceo-cohort"  # recommendation 5, due Spring 2024: due soon on 1 May


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def settings(database_url: str, smtp: SMTPServer, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, smtp_url=smtp.url, owners_file=owners_file(tmp_path))


def deliver_cohort(rio: RIO, on: date) -> None:
    rio.handle(
        rio.find("messenger-2022", 5).id,
        RecordDelivery(
            commitment=CEO_COHORT,
            evidence="Cohort recruited",
            occurred=on,
            source=Source("NHS England announcement", on),
            recorded_by="secretariat",
        ),
    )


def test_a_due_soon_alert_delivered_during_a_mail_outage_is_withdrawn_not_sent(
    rio: RIO, settings: Settings, smtp: SMTPServer
) -> None:
    load_messenger(rio)
    alerts = AlertService(rio, settings, principal="test")
    smtp.stop()
    down = alerts.run(AS_AT, retry_now=True)
    (cohort,) = [a for a in alerts.alerts() if a.commitment == CEO_COHORT]
    assert cohort.kind == "due_soon" and down.failed > 0
    assert alerts.status_of(cohort) is AlertStatus.PENDING

    deliver_cohort(rio, date(2024, 5, 2))
    smtp.start()
    up = alerts.run(date(2024, 5, 3), retry_now=True)

    (withdrawn,) = up.withdrawn
    assert withdrawn.alert.id == cohort.id
    assert withdrawn.reason == (
        "“Aspiring CEO Programme recruits its next cohort” was delivered on 2 May 2024"
    )
    sent_ids = {i for mail in smtp.inbox.received for i in mail.alert_ids}
    assert str(cohort.id) not in sent_ids
    assert sent_ids  # the matters that still stand did go
    assert "Aspiring CEO" not in "".join(m.text() for m in smtp.inbox.to(ADDRESSES[NHSE]))
    stored = alerts.records.get(cohort.id)
    assert stored is not None
    assert alerts.status_of(stored) is AlertStatus.WITHDRAWN
    assert stored.withdrawn_reason == withdrawn.reason
    assert [a.id for a in alerts.alerts(status="withdrawn")] == [cohort.id]
    with pytest.raises(AlertNotSendable, match="withdrawn"):
        stored.start_send(
            recipient="x@example.org",
            message_id="<x@rio>",
            by="test",
            now=stored.raised_at,
            lease=alerts.lease,
        )

    again = alerts.run(date(2024, 5, 4), retry_now=True)  # withdrawn stays withdrawn, unsent
    assert again.withdrawn == [] and str(cohort.id) not in {
        i for mail in smtp.inbox.received for i in mail.alert_ids
    }


def test_a_dry_run_shows_what_would_be_withdrawn_and_records_nothing(
    rio: RIO, settings: Settings, smtp: SMTPServer
) -> None:
    load_messenger(rio)
    alerts = AlertService(rio, settings, principal="test")
    smtp.stop()
    alerts.run(AS_AT, retry_now=True)
    deliver_cohort(rio, date(2024, 5, 2))

    preview = alerts.run(date(2024, 5, 3), dry_run=True, retry_now=True)

    assert [w.alert.commitment for w in preview.withdrawn] == [CEO_COHORT]
    assert all("Aspiring CEO" not in d.text for d in [*preview.previews, *preview.held_previews])
    (cohort,) = [a for a in alerts.alerts() if a.commitment == CEO_COHORT]
    assert alerts.status_of(cohort) is AlertStatus.PENDING  # a dry run records nothing


def test_a_pending_alert_whose_matter_still_stands_is_sent_after_the_outage(
    rio: RIO, settings: Settings, smtp: SMTPServer
) -> None:
    load_messenger(rio)
    alerts = AlertService(rio, settings, principal="test")
    smtp.stop()
    down = alerts.run(AS_AT, retry_now=True)
    smtp.start()

    up = alerts.run(date(2024, 5, 3), retry_now=True)

    assert up.withdrawn == []
    assert up.sent == down.failed
