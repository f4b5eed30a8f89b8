"""`rio alerts` and `rio scheduler` as an operator runs them: subprocesses, a real mail server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rio.application.alert_records import AlertRecords
from rio.application.service import RIO
from rio.projections.read_model import ReadModel
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
from tests.conftest import REPO

RIO_COMMAND = str(Path(sys.executable).parent / "rio")
AS_AT = "2024-05-01"
# Processes started at the same instant against one PostgreSQL store must not all create
# its tables: eventsourcing's start-up DDL (CREATE OR REPLACE FUNCTION) fails with "tuple
# concurrently updated" when two run it at once. The tables are made once, by `loaded`.
SHARED_TABLES = {"CREATE_TABLE": "no"}


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    with smtp_server() as server:
        yield server


def environment(url: str, smtp: SMTPServer | None, owners: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "RIO_DATABASE_URL": url,
        "RIO_OWNERS_FILE": str(owners),
        "RIO_BASE_URL": "https://rio.example.gov.uk",
        "RIO_LOG_LEVEL": "INFO",
        "RIO_LOG_FORMAT": "json",
        "COLUMNS": "200",
        **extra,
    }
    env.pop("RIO_SMTP_URL", None)
    if smtp is not None:
        env["RIO_SMTP_URL"] = smtp.url
    return env


def rio_command(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RIO_COMMAND, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def loaded(url: str) -> None:
    """The scenario, and every table a process might otherwise race to create."""
    app = RIO(url)
    try:
        load_messenger(app)
        ReadModel(app).catch_up()
    finally:
        app.close()


def test_a_dry_run_prints_the_digests_and_records_nothing(
    sqlite_url: str, smtp: SMTPServer, tmp_path: Path
) -> None:
    loaded(sqlite_url)
    env = environment(sqlite_url, smtp, owners_file(tmp_path, {NHSE: ADDRESSES[NHSE]}))

    done = rio_command(env, "alerts", "run", "--as-at", AS_AT, "--dry-run")

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("DRY RUN: alerts as at 2024-05-01; nothing recorded")
    assert f"To: {ADDRESSES[NHSE]}" in done.stdout
    assert "National induction scheme for staff of all grades" in done.stdout
    # 4, not 9 (issue 14): the delivery plan is one promise of the review as a whole, stale
    # once rather than once under each of seven recommendations (-6); the re-modelled
    # scenario's 2022/23 appraisal focus, long overdue, escalates to DHSC as senior owner (+1).
    assert f"held: {DHSC} has no address (4 alerts would wait)" in done.stdout
    assert smtp.inbox.received == []
    app = RIO(sqlite_url)
    try:
        assert AlertRecords(app).alerts() == [] and AlertRecords(app).runs() == []
    finally:
        app.close()


def test_a_dry_run_without_addresses_shows_every_alert_and_writes_the_html(
    sqlite_url: str, tmp_path: Path
) -> None:
    loaded(sqlite_url)
    empty = tmp_path / "nobody.yaml"
    empty.write_text("{}\n", encoding="utf-8")
    env = environment(sqlite_url, None, empty)
    target = tmp_path / "digest.html"

    done = rio_command(env, "alerts", "run", "--dry-run", "--as-at", AS_AT, "--html", str(target))

    assert done.returncode == 0, done.stderr
    out = done.stdout
    # Every alert a run would raise, though nobody has an address to send it to:
    for owner in (NHSE, DHSC):
        assert f"To: (no address for {owner}" in out
    assert "Overdue: messenger-2022, recommendation 1" in out
    assert "Escalated to you as senior owner: messenger-2022, recommendation 3" in out
    # the plan is a promise of the review as a whole: one matter, not one per recommendation
    assert "No update for a long time: messenger-2022: Health and social care review" in out
    assert "In short: 6 matters, 5 overdue, 1 due soon." in out
    written = sorted(tmp_path.glob("digest-*.html"))
    assert [p.name for p in written] == [
        "digest-department-of-health-and-social-care.html",
        "digest-nhs-england.html",
    ]
    html = written[1].read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert 'href="https://rio.example.gov.uk/board/messenger-2022/1"' in html
    app = RIO(sqlite_url)
    try:
        assert AlertRecords(app).alerts() == []  # still nothing recorded
    finally:
        app.close()


def test_html_without_a_dry_run_is_refused(sqlite_url: str, tmp_path: Path) -> None:
    env = environment(sqlite_url, None, owners_file(tmp_path))

    done = rio_command(env, "alerts", "run", "--html", str(tmp_path / "d.html"))

    assert done.returncode == 2
    assert done.stderr.strip() == "rio: error: --html writes a dry run's digests: add --dry-run"


def test_run_sends_then_list_shows_what_was_sent_to_whom(
    sqlite_url: str, smtp: SMTPServer, tmp_path: Path
) -> None:
    loaded(sqlite_url)
    env = environment(sqlite_url, smtp, owners_file(tmp_path))

    done = rio_command(env, "alerts", "run", "--as-at", AS_AT)
    listed = rio_command(
        env, "alerts", "list", "--owner", "nhs england", "--status", "sent", "--json"
    )

    assert done.returncode == 0, done.stderr
    # 10, not 14 (issue 14): the plan alerts once, not seven times (-6); the 2022/23
    # appraisal focus adds its overdue alert to NHS England and its escalation (+2).
    assert "10 alerts due, 10 newly recorded" in done.stdout
    assert f"sent to {NHSE} <{ADDRESSES[NHSE]}>: 6 alerts" in done.stdout
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    induction = next(r for r in rows if r["commitment"] == "national-induction")
    assert induction["kind"] == "overdue" and induction["status"] == "sent"
    assert induction["due"]["text"] == "April 2024" and induction["as_at"] == AS_AT
    (mail,) = smtp.inbox.to(ADDRESSES[NHSE])
    assert {r["message_id"] for r in rows} == {mail.message["Message-ID"]}
    assert sorted(r["id"] for r in rows) == sorted(mail.alert_ids)


def test_a_run_that_cannot_send_exits_1_and_one_without_a_mail_server_is_refused(
    sqlite_url: str, smtp: SMTPServer, tmp_path: Path
) -> None:
    loaded(sqlite_url)
    owners = owners_file(tmp_path)
    smtp.inbox.refuse_with = "451 4.3.0 Try again later"

    failed = rio_command(environment(sqlite_url, smtp, owners), "alerts", "run", "--as-at", AS_AT)
    unset = rio_command(environment(sqlite_url, None, owners), "alerts", "run")

    assert failed.returncode == 1
    assert "NOT SENT to NHS England" in failed.stdout and "451" in failed.stdout
    assert unset.returncode == 2
    assert unset.stderr.startswith("rio: error: RIO_SMTP_URL is not set")


@pytest.mark.postgres
def test_two_alert_runs_started_together_send_each_alert_once(
    postgres_url: str, smtp: SMTPServer, tmp_path: Path
) -> None:
    loaded(postgres_url)
    env = environment(postgres_url, smtp, owners_file(tmp_path), **SHARED_TABLES)
    command = [RIO_COMMAND, "alerts", "run", "--as-at", AS_AT]

    processes = [
        subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    results = [p.communicate(timeout=60) for p in processes]

    assert [p.returncode for p in processes] == [0, 0], [r[1] for r in results]
    deliveries = smtp.inbox.alert_deliveries()
    assert set(deliveries.values()) == {1}
    app = RIO(postgres_url)
    try:
        alerts = AlertRecords(app).alerts()
    finally:
        app.close()
    assert len(alerts) == 10  # the review-wide plan's alerts counted once, not per recommendation
    assert {(a.recipient, str(a.id)) for a in alerts} == set(deliveries)
    assert {a.owner for a in alerts} == {NHSE, DHSC}


@pytest.mark.postgres
def test_two_schedulers_started_together_send_each_alert_once(
    postgres_url: str, smtp: SMTPServer, tmp_path: Path
) -> None:
    loaded(postgres_url)
    env = environment(
        postgres_url, smtp, owners_file(tmp_path), RIO_ALERT_CRON="*/2 * * * * *", **SHARED_TABLES
    )
    command = [RIO_COMMAND, "scheduler", "--poll", "0.5"]
    app = RIO(postgres_url)
    processes = [
        subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    try:
        assert wait_for(
            lambda: bool(smtp.inbox.to(ADDRESSES[NHSE]) and smtp.inbox.to(ADDRESSES[DHSC])),
            timeout=30,
        )
        # Keep going until the holder has run again and found nothing new to send.
        assert wait_for(lambda: len(completed_scheduler_runs(app)) >= 2, timeout=20)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        logs = [process.communicate(timeout=30)[1] for process in processes]
        app.close()

    assert [p.returncode for p in processes] == [0, 0], logs
    assert len(smtp.inbox.to(ADDRESSES[NHSE])) == 1
    assert len(smtp.inbox.to(ADDRESSES[DHSC])) == 1
    assert set(smtp.inbox.alert_deliveries().values()) == {1}
    events = [
        [json.loads(line)["event"] for line in log.splitlines() if line.startswith("{")]
        for log in logs
    ]
    holders = [e for e in events if "scheduler_started" in e]
    standby = [e for e in events if "scheduler_standby" in e]
    assert len(holders) == 1 and len(standby) == 1


def completed_scheduler_runs(app: RIO) -> list[object]:
    return [r for r in AlertRecords(app).runs() if r.trigger == "scheduler" and r.completed_at]


def test_the_scheduler_command_stops_cleanly_on_sigterm(sqlite_url: str, tmp_path: Path) -> None:
    loaded(sqlite_url)
    env = environment(sqlite_url, None, owners_file(tmp_path))
    process = subprocess.Popen(
        [RIO_COMMAND, "scheduler", "--poll", "0.2"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    said = []
    for line in process.stderr:  # it logs so once it holds the lock and runs
        said.append(line)
        if '"scheduler_started"' in line:
            break
    process.send_signal(signal.SIGTERM)
    _, rest = process.communicate(timeout=30)
    log = "".join(said) + rest

    assert process.returncode == 0, log
    assert '"scheduler_started"' in log and '"scheduler_stopped"' in log
