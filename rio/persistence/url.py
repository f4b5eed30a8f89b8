"""Turns one database URL into the environment eventsourcing's own recorders expect."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from rio.errors import ConfigurationError


class BadDatabaseURL(ConfigurationError):
    """RIO_DATABASE_URL names no store RIO can use."""


def event_store_env(url: str) -> dict[str, str]:
    """`sqlite:///path` (default `./rio.db`) or `postgresql://user:pass@host:port/db?schema=s`."""
    parts = urlsplit(url)
    shown = _without_password(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme == "sqlite":
        path = url.split("://", 1)[1]
        path = path[1:] if path.startswith("/") else path
        if not path:
            raise BadDatabaseURL(f"RIO_DATABASE_URL {shown!r} names no file: use sqlite:///rio.db")
        return {
            "PERSISTENCE_MODULE": "rio.persistence.sqlite:ChainedSQLiteFactory",
            "SQLITE_DBNAME": path,
        }
    if scheme in ("postgres", "postgresql"):
        dbname = parts.path.lstrip("/")
        if not dbname or not parts.hostname:
            raise BadDatabaseURL(
                f"RIO_DATABASE_URL {shown!r} must name a host and a database: "
                "postgresql://user@host:5432/dbname"
            )
        env = {
            "PERSISTENCE_MODULE": "rio.persistence.postgres:ChainedPostgresFactory",
            "POSTGRES_DBNAME": dbname,
            "POSTGRES_HOST": parts.hostname,
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_CONNECT_TIMEOUT": "5",
        }
        for option in filter(None, parts.query.split("&")):
            key, _, value = option.partition("=")
            if key == "schema":
                env["POSTGRES_SCHEMA"] = value
            else:
                raise BadDatabaseURL(
                    f"RIO_DATABASE_URL {shown!r}: unknown option {key!r} (known: schema)"
                )
        return env
    raise BadDatabaseURL(
        f"RIO_DATABASE_URL {shown!r}: RIO stores events in SQLite (sqlite:///rio.db) or PostgreSQL "
        "(postgresql://user@host/db)"
    )


def _without_password(url: str) -> str:
    """The URL as an error may show it: a terminal or a log line never shows a password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()
