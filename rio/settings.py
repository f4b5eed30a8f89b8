"""Settings from the environment (RIO_*), read once per process through a cached function."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RIO_", extra="ignore")

    database_url: str = "sqlite:///./rio.db"
    log_format: str = "auto"  # auto: JSON when not on a terminal; "json" or "console" to force
    log_level: str = "INFO"
    stale_after_days: int = 180
    projection_page: int = 500  # events per read-model transaction
    # processes a large rebuild is split across; 0: a core each (up to 4) on PostgreSQL, 1 on SQLite
    rebuild_workers: int = 0
    # HTTP API (rio serve)
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_max_body_bytes: int = 1_048_576  # larger request bodies are refused with 413
    api_max_page_size: int = 200  # list endpoints refuse a larger page_size with 422
    api_rate_per_minute: float = 600.0  # per key, refilled continuously; 0 turns limiting off
    api_rate_burst: int = 60  # requests a key may make at once before the rate applies
    api_idempotency_pending_seconds: float = 60.0  # a retry may take over an unfinished first try
    api_public_docs: bool = False  # serve /docs and /openapi.json without a key
    # Alerts and their scheduler (rio alerts, rio scheduler; README "Alerts")
    due_soon_days: int = 30  # "due soon": the window ends within this many days
    escalate_after_days: int = 30  # overdue this long: also alert the senior owner
    smtp_url: str | None = None  # smtp://user:password@host:587?starttls=1 (or smtps://)
    alert_from: str = "Review Implementation Office <rio@localhost>"
    base_url: str = "http://localhost:8000"  # alert links: {base_url}/reviews/{review}/...
    owners_file: Path | None = None  # YAML: `owner name: address` (or a list of addresses)
    owner_emails: dict[str, str | list[str]] = {}  # JSON, same shape; wins over the file
    alert_cron: str = "0 7 * * *"  # crontab; a sixth, leading field gives seconds
    alert_timezone: str = "Europe/London"
    alert_misfire_grace_hours: float = 48.0  # a run missed by less than this runs on start-up
    alert_retry_minutes: float = 15.0  # how often the scheduler retries pending alerts
    alert_backoff_minutes: float = 5.0  # wait after a failed send; doubles each time, up to:
    alert_backoff_max_minutes: float = 360.0
    alert_send_lease_minutes: float = 15.0  # an unfinished send is taken over after this
    # The status board (/board; README "Status board")
    board_public: bool = False  # true: anyone may read the board, read-only, without a key
    session_secret: str | None = None  # signs board sessions; unset: random, per process
    board_session_hours: float = 12.0  # a board sign-in lasts this long


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
