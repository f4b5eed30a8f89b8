"""Alerts recorded in the store and sent to a real SMTP server, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from eventsourcing.persistence import IntegrityError

from rio.aggregates.alert import Alert, AlertStatus
from rio.alerts.service import AlertService, AlertsNotConfigured
from rio.application.alert_records import AlertRecords
from rio.application.service import RIO
from rio.domain import clock
from rio.domain.alert_policy import AlertKind
from rio.settings import Settings
from tests.alert_support import (
    ADDRESSES,
    DHSC,
    NHSE,
    SMTPServer,
    load_messenger,
    owners_file,
    smtp_server,
)

AS_AT = date(2024, 5, 1)
NHSE_ADDRESS = ADDRESSES[NHSE]


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
        base_url="https://rio.example.gov.uk",
        alert_from="Review Implementation Office <rio@rio.example.gov.uk>",
    )


@pytest.fixture
def messenger(rio: RIO) -> RIO:
    load_messenger(rio)
    return rio


def service(app: RIO, settings: Settings) -> AlertService:
    return AlertService(app, settings, principal="test")


def test_messenger_as_at_1_may_2024_sends_nhs_england_the_overdue_april_2024_induction(
    messenger: RIO, settings: Settings, smtp: SMTPServer
) -> None:
    report = service(messenger, settings).run(AS_AT)

    (mail,) = smtp.inbox.to(NHSE_ADDRESS)
    text = mail.text()
    assert "National induction scheme" in text
    assert "Overdue" in text
    assert "April 2024 (by 30 April 2024)" in text
    assert "Health and Social Care Leadership in England Review: written" in text
    assert "will be launched in April 2024." in text
    assert "https://rio.example.gov.uk/board/messenger-2022/1" in text
    assert "1 day overdue" in text
    assert "National induction scheme" in mail.html()
    assert "<a href=" in mail.html()
    assert mail.message["Subject"].startswith("RIO: ")
    assert mail.message["Message-ID"] == next(
        d.message_id for d in report.digests if d.owner == NHSE
    )
    induction = [
        a
        for a in AlertRecords(messenger).alerts()
        if a.commitment == "national-induction" and a.owner == NHSE
    ]
    assert [(a.kind, str(a.id) in mail.alert_ids) for a in induction] == [("overdue", True)]
    assert induction[0].status(clock.now(), timedelta(minutes=15)) is AlertStatus.SENT
    assert induction[0].message_id == mail.message["Message-ID"]


def test_running_again_sends_nothing_new(
    messenger: RIO, settings: Settings, smtp: SMTPServer
) -> None:
    first = service(messenger, settings).run(AS_AT)
    delivered = len(smtp.inbox.received)

    again = service(messenger, settings).run(AS_AT)

    assert first.raised > 0 and first.sent == first.raised
    assert again.raised == 0 and again.digests == []
    assert len(smtp.inbox.received) == delivered
    assert set(smtp.inbox.alert_deliveries().values()) == {1}


def test_a_digest_refused_with_451_stays_pending_then_arrives_exactly_once(
    messenger: RIO, settings: Settings, smtp: SMTPServer
) -> None:
    smtp.inbox.refuse_with = "451 4.3.0 Mailbox temporarily unavailable"

    down = service(messenger, settings).run(AS_AT)

    assert down.failed > 0 and down.sent == 0
    assert smtp.inbox.received == []
    pending = service(messenger, settings).alerts(status="pending")
    assert {a.owner for a in pending} == {NHSE, DHSC}
    assert all(a.attempts == 1 and "451" in (a.last_error or "") for a in pending)
    # Straight away, the back-off holds the retry back.
    assert service(messenger, settings).run(AS_AT).digests == []

    smtp.inbox.refuse_with = None
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    with clock.use(lambda: tomorrow):
        up = service(messenger, settings).run(AS_AT)
        again = service(messenger, settings).run(AS_AT)

    assert up.sent == down.failed and up.failed == 0
    assert again.digests == []
    (mail,) = smtp.inbox.to(NHSE_ADDRESS)
    assert "National induction scheme" in mail.text()
    assert set(smtp.inbox.alert_deliveries().values()) == {1}
    assert service(messenger, settings).alerts(status="pending") == []


def test_alerts_wait_while_the_mail_server_is_down_and_go_when_it_is_back(
    messenger: RIO, settings: Settings, smtp: SMTPServer
) -> None:
    smtp.stop()

    down = service(messenger, settings).run(AS_AT, retry_now=True)
    assert down.failed > 0
    smtp.start()
    up = service(messenger, settings).run(AS_AT, retry_now=True)

    assert up.sent == down.failed
    assert len(smtp.inbox.to(NHSE_ADDRESS)) == 1
    assert set(smtp.inbox.alert_deliveries().values()) == {1}


def test_an_owner_without_an_address_is_reported_and_their_alerts_wait_for_one(
    messenger: RIO, settings: Settings, smtp: SMTPServer, tmp_path: Path
) -> None:
    only_nhse = settings.model_copy(
        update={"owners_file": owners_file(tmp_path, {NHSE: NHSE_ADDRESS}, "nhse-only.yaml")}
    )

    report = service(messenger, only_nhse).run(AS_AT)

    # 4, not 9 (issue 14): the delivery plan is one promise of the review as a whole, stale
    # once rather than under each of seven recommendations (-6); the re-modelled 2022/23
    # appraisal focus, long overdue, escalates to DHSC as senior owner (+1).
    assert report.held == {DHSC: 4}
    assert smtp.inbox.to(ADDRESSES[DHSC]) == []
    held = service(messenger, settings).alerts(owner=DHSC, status="pending")
    assert len(held) == 4 and all(a.attempts == 0 for a in held)

    later = service(messenger, settings).run(AS_AT)

    assert later.raised == 0
    (mail,) = smtp.inbox.to(ADDRESSES[DHSC])
    assert sorted(mail.alert_ids) == sorted(str(a.id) for a in held)


def test_the_same_alert_raised_by_two_processes_is_recorded_once(
    messenger: RIO, settings: Settings
) -> None:
    other = RIO(settings.database_url)
    try:
        found = service(messenger, settings)._findings(AS_AT, None).alerts
        overdue = next(f for f in found if f.commitment == "national-induction")
        first, second = AlertRecords(messenger), AlertRecords(other)

        # Both looked before either saved: the store's optimistic concurrency decides.
        alerts = [
            Alert.raise_alert(
                id=overdue.id,
                kind=overdue.kind.value,
                owner=overdue.owner,
                role=overdue.role,
                review=overdue.review,
                number=overdue.number,
                title=overdue.title,
                commitment=overdue.commitment,
                deliverable=overdue.deliverable,
                due=overdue.due,
                previous_due=None,
                source=overdue.source,
                why=overdue.why,
                days=overdue.days,
                as_at=AS_AT,
                policy="test",
                raised_by=f"process {n}",
                now=clock.now(),
            )
            for n in (1, 2)
        ]
        messenger.save(alerts[0])
        with pytest.raises(IntegrityError):
            other.save(alerts[1])
        assert second.raise_alert(overdue, raised_by="process 2") is False
        assert [a.id for a in first.alerts()] == [overdue.id]
    finally:
        other.close()


def test_only_one_of_two_processes_can_claim_an_alert_for_sending(
    messenger: RIO, settings: Settings
) -> None:
    other = RIO(settings.database_url)
    try:
        found = service(messenger, settings)._findings(AS_AT, None).alerts
        overdue = next(f for f in found if f.kind is AlertKind.OVERDUE)
        AlertRecords(messenger).raise_alert(overdue, raised_by="test")
        mine = AlertRecords(messenger).get(overdue.id)
        theirs = AlertRecords(other).get(overdue.id)
        assert mine is not None and theirs is not None
        lease = timedelta(minutes=15)

        claimed = [
            AlertRecords(app).claim(
                [alert], recipient="x@y", message_id="<m@rio>", by=by, lease=lease
            )
            for app, alert, by in ((messenger, mine, "one"), (other, theirs, "two"))
        ]

        assert claimed == [True, False]
        fresh = AlertRecords(other).get(overdue.id)
        assert fresh is not None and fresh.claimed_by == "one"
        assert fresh.status(clock.now(), lease) is AlertStatus.SENDING
    finally:
        other.close()


def test_a_run_without_a_mail_server_configured_is_refused_before_recording_anything(
    messenger: RIO, settings: Settings
) -> None:
    unconfigured = settings.model_copy(update={"smtp_url": None})

    with pytest.raises(AlertsNotConfigured, match="RIO_SMTP_URL"):
        service(messenger, unconfigured).run(AS_AT)

    assert AlertRecords(messenger).alerts() == []
    assert AlertRecords(messenger).runs() == []


def test_a_dry_run_records_and_sends_nothing(
    messenger: RIO, settings: Settings, smtp: SMTPServer
) -> None:
    position = messenger.position()

    report = service(messenger, settings).run(AS_AT, dry_run=True)

    assert {p.owner for p in report.previews} == {NHSE, DHSC}
    assert messenger.position() == position
    assert smtp.inbox.received == []


def test_each_run_is_recorded_and_gives_the_next_its_previous_date(
    messenger: RIO, settings: Settings
) -> None:
    service(messenger, settings).run(AS_AT)
    report = service(messenger, settings).run(date(2024, 10, 2))

    assert report.previous_as_at == AS_AT
    runs = AlertRecords(messenger).runs()
    assert [(r.as_at, r.trigger, r.completed_at is not None) for r in runs] == [
        (AS_AT, "cli", True),
        (date(2024, 10, 2), "cli", True),
    ]


def test_a_fresh_process_reads_a_log_holding_alerts_without_importing_them(
    sqlite_url: str, smtp: SMTPServer, tmp_path: Path
) -> None:
    # The topic resolution this checks is the same on both backends: SQLite is enough.
    settings = Settings(
        database_url=sqlite_url, smtp_url=smtp.url, owners_file=owners_file(tmp_path)
    )
    messenger = RIO(sqlite_url)
    try:
        load_messenger(messenger)
        service(messenger, settings).run(AS_AT)
    finally:
        messenger.close()
    script = (
        "import sys\n"
        "from rio.application.service import RIO\n"
        "from rio.projections.read_model import ReadModel\n"
        "app = RIO(sys.argv[1])\n"
        "model = ReadModel(app)\n"
        "model.rebuild()\n"
        "assert 'rio.alerts' not in sys.modules\n"
        "print(len(model.programme(__import__('datetime').date(2024, 5, 1)).recommendations))\n"
    )

    done = subprocess.run(
        [sys.executable, "-c", script, settings.database_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    # after any log lines; seven recommendations and the review's own stream (issue 14)
    assert done.stdout.strip().splitlines()[-1] == "8"
