"""Settings from the environment (RIO_*), read once per process through a cached function.

`get_settings` is the one reader of the environment; `rio.runtime` calls it and hands the
result down, so nothing below the composition root reads a setting for itself.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from rio.domain.rag import Policy
from rio.errors import ConfigurationError
from rio.projections.read_model import PAGE

PREFIX = "RIO_"

# What `log_level` means when it is not set, per kind of process. One-shot commands stay
# quiet but for their answer (a person reads the terminal); services (`rio serve`,
# `rio scheduler`) log their work at INFO, because those lines are their record.
Door = Literal["command", "service"]
DEFAULT_LOG_LEVELS: dict[Door, str] = {"command": "WARNING", "service": "INFO"}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class Settings(BaseSettings):
    """Every setting, one field each; `RIO_<FIELD>` in the environment sets it."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore")

    database_url: str = "sqlite:///./rio.db"
    log_format: str = "auto"  # auto: JSON when not on a terminal; "json" or "console" to force
    # None: the default of the kind of process (DEFAULT_LOG_LEVELS); set, it wins for all.
    log_level: str | None = None
    stale_after_days: int = 180
    projection_page: int = PAGE  # events per read-model transaction
    # processes a large rebuild is split across; 0: a core each (up to 4) on PostgreSQL, 1 on SQLite
    rebuild_workers: int = 0
    # HTTP API (rio serve)
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_max_body_bytes: int = 1_048_576  # larger request bodies are refused with 413
    api_max_page_size: int = 200  # list endpoints refuse a larger page_size with 422
    api_rate_per_minute: float = 600.0  # per key, refilled continuously; 0 turns limiting off
    api_rate_burst: int = 60  # requests a key may make at once before the rate applies
    # Failed authentications (API keys, board sign-ins) per client address and per key id:
    # a burst, then a few a minute (rio.api.ratelimit). 0 turns it off: for a fuzzer that
    # probes wrong keys from one address on purpose, never for a server people can reach.
    api_failed_auth_per_minute: float = 6.0
    api_failed_auth_burst: int = 10
    api_idempotency_pending_seconds: float = 60.0  # a retry may take over an unfinished first try
    api_public_docs: bool = False  # serve /docs and /openapi.json without a key
    # Fault injection for tests only; does nothing unless set. A path: each command touches
    # it after its commit and never answers, so a test can SIGKILL between commit and answer.
    test_pause_after_commit: Path | None = None
    ready_max_lag: int = 1000  # GET /ready answers 503 while the read model trails the log more
    # Alerts and their scheduler (rio alerts, rio scheduler; README "Alerts")
    due_soon_days: int = 30  # "due soon": the window ends within this many days
    escalate_after_days: int = 30  # overdue this long: also alert the senior owner
    smtp_url: str | None = None  # smtp://user:password@host:587?starttls=1 (or smtps://)
    alert_from: str = "Review Implementation Office <rio@localhost>"
    base_url: str = "http://localhost:8000"  # alert links: {base_url}/board/{review}/{number}
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
    # Signed checkpoints (README "Proofs, checkpoints and witnesses")
    audit_signing_key_file: Path | None = None  # made by `rio audit keygen --output FILE`
    audit_public_keys_file: Path | None = None  # earlier keys' vkeys, one a line (rotation)
    audit_witness_keys_file: Path | None = None  # vkeys of witnesses whose cosignatures RIO keeps

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str | None) -> str | None:
        if value is None or value.upper() in LOG_LEVELS:
            return None if value is None else value.upper()
        raise ValueError(f"{value!r} is not a log level: use one of {', '.join(LOG_LEVELS)}")

    @field_validator("stale_after_days")
    @classmethod
    def _whole_days(cls, value: int) -> int:
        if value < 0:
            raise ValueError(f"{value} is not a number of days: use 0 or more")
        return value

    def log_level_for(self, door: Door) -> str:
        """The level a process of this kind logs at: `RIO_LOG_LEVEL`, else its own default."""
        return self.log_level or DEFAULT_LOG_LEVELS[door]

    def rag_policy(self) -> Policy:
        """The one RAG policy these settings ask for: status, board, API and alerts share it."""
        return Policy(stale_after_days=self.stale_after_days)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The environment's settings; a value RIO cannot use is a `ConfigurationError`."""
    try:
        return Settings()
    except ValidationError as error:
        raise ConfigurationError(_describe(error)) from None
    except SettingsError as error:  # a JSON-valued setting that is not JSON
        raise ConfigurationError(_describe_unparsed(error)) from None


def _describe_unparsed(error: SettingsError) -> str:
    field = re.search(r'field "(\w+)"', str(error))
    name = PREFIX + (field.group(1).upper() if field else "…")
    example = JSON_EXAMPLES.get(name)
    shown = f", e.g. {name}='{example}'" if example else ""
    return f"{name} is not JSON: write it as JSON{shown}"


# How each JSON-valued setting is written, for the one line a malformed value gets.
JSON_EXAMPLES = {"RIO_OWNER_EMAILS": '{"NHS England": "owner@example.org"}'}


def _describe(error: ValidationError) -> str:
    """One line naming each bad setting as it is spelt in the environment."""
    problems = []
    for item in error.errors():
        name = PREFIX + "_".join(str(part) for part in item.get("loc", ())).upper()
        message = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        problems.append(f"{name}: {message}")
    return "; ".join(problems) + " (fix the environment and run again)"
