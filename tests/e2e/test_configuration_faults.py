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
