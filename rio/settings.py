"""Settings from the environment (RIO_*), read once per process through a cached function."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RIO_", extra="ignore")

    database_url: str = "sqlite:///./rio.db"
    log_format: str = "auto"  # auto: JSON when not on a terminal; "json" or "console" to force
    log_level: str = "INFO"
    stale_after_days: int = 180
    projection_page: int = 500  # events per read-model transaction


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
