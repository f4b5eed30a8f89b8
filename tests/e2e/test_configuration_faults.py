"""A setting RIO cannot use is the operator's to fix: one line naming it, exit 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import refused


def test_an_unusable_database_url_is_named_without_its_password() -> None:
    line = refused("mysql://rio:s3cret@db.example/rio", "status")

    assert "RIO_DATABASE_URL" in line and "s3cret" not in line


def test_a_setting_out_of_range_is_named_as_the_environment_spells_it(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIO_STALE_AFTER_DAYS", "-1")

    line = refused(sqlite_url, "status")

    assert "RIO_STALE_AFTER_DAYS" in line


def test_an_unreadable_owners_file_is_named_by_its_setting(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIO_OWNERS_FILE", str(tmp_path / "missing.yaml"))

    line = refused(sqlite_url, "alerts", "run", "--dry-run", "--as-at", "2024-05-01")

    assert "RIO_OWNERS_FILE" in line and "missing.yaml" in line


# Each fault a person meets when first setting RIO up: one line naming the setting and what
# to do, exit 2, and no traceback anywhere in the output (`refused` checks all of that).


def test_a_sqlite_path_that_cannot_be_opened_says_to_check_the_path() -> None:
    line = refused("sqlite:////nonexistent/x.db", "status")

    assert "RIO_DATABASE_URL" in line
    assert "'/nonexistent/x.db': its directory must exist and be writable" in line


def test_a_postgresql_url_to_a_closed_port_says_to_check_the_server() -> None:
    line = refused("postgresql://rio:s3cret@127.0.0.1:1/rio", "status")

    assert "RIO_DATABASE_URL" in line and "s3cret" not in line
    assert "check that PostgreSQL is running and accepts connections at 127.0.0.1:1" in line


def test_owner_emails_that_are_not_json_say_how_to_write_them(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIO_OWNER_EMAILS", "NHS England=a@b.c")

    line = refused(sqlite_url, "status")

    assert line == (
        "rio: error: RIO_OWNER_EMAILS is not JSON: write it as JSON, e.g. "
        """RIO_OWNER_EMAILS='{"NHS England": "owner@example.org"}'"""
    )


def test_owner_emails_of_the_wrong_shape_are_named(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIO_OWNER_EMAILS", '["a@b.c"]')

    line = refused(sqlite_url, "status")

    assert line.startswith("rio: error: RIO_OWNER_EMAILS: ")


def test_an_owner_email_that_is_not_an_address_is_named(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIO_OWNER_EMAILS", '{"NHS England": "not-an-address"}')

    line = refused(sqlite_url, "alerts", "run", "--dry-run", "--as-at", "2024-05-01")

    assert "RIO_OWNER_EMAILS" in line and "not-an-address" in line


def test_a_number_setting_that_is_not_a_number_is_named(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIO_API_PORT", "eighty")

    assert "RIO_API_PORT" in refused(sqlite_url, "status")


def test_an_smtp_url_of_another_scheme_is_named(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RIO_SMTP_URL", "ftp://mail.example")

    line = refused(sqlite_url, "alerts", "run", "--as-at", "2024-05-01")

    assert "RIO_SMTP_URL must look like smtp://" in line


def test_an_unknown_alert_time_zone_is_refused_before_the_scheduler_starts(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIO_ALERT_TIMEZONE", "Mars/Olympus_Mons")

    line = refused(sqlite_url, "scheduler")

    assert line == (
        "rio: error: RIO_ALERT_TIMEZONE 'Mars/Olympus_Mons' is not a time zone: use an IANA "
        "name such as Europe/London"
    )


def test_a_malformed_alert_schedule_is_refused_before_the_scheduler_starts(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIO_ALERT_CRON", "99 * *")

    assert "RIO_ALERT_CRON '99 * *' must have five fields" in refused(sqlite_url, "scheduler")
