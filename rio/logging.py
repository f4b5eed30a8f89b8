"""Structured logs: JSON lines in production, readable key=value lines on a terminal.

RIO's own lines go through structlog's own loggers, rendered by orjson straight to bytes:
the stdlib's handler and formatter chain cost a request about as much as its
authentication did (issue 16). The stdlib's records (uvicorn,
SQLAlchemy, APScheduler) still reach the same stream in the same shape, through
`ProcessorFormatter`.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from typing import Any, BinaryIO, TextIO

import orjson
import structlog


class _Named(structlog.BytesLogger):
    """structlog's bytes logger with the name it was asked for, for `add_logger_name`."""

    def __init__(self, file: BinaryIO, name: str | None) -> None:
        super().__init__(file)
        self.name = name


class _TextNamed(structlog.WriteLogger):
    def __init__(self, file: TextIO, name: str | None) -> None:
        super().__init__(file)
        self.name = name


class _CurrentStderr:
    """The process's stderr as it is when a line is written, not when logging was set up:
    a test harness or a CLI runner replaces sys.stderr, and closes what it replaced."""

    def __init__(self, binary: bool) -> None:
        self.binary = binary

    def write(self, data: Any) -> None:
        stream = sys.stderr
        try:
            if not self.binary:
                stream.write(data)
            elif hasattr(stream, "buffer"):
                stream.buffer.write(data)
            else:
                stream.write(data.decode("utf-8", "replace"))
        except ValueError:  # closed: as the stdlib's handler does, never fail the caller
            pass

    def flush(self) -> None:
        with contextlib.suppress(ValueError):
            sys.stderr.flush()


def _orjson(event: Any, **_: Any) -> bytes:
    return orjson.dumps(event, default=str)


def configure(level: str = "INFO", fmt: str = "auto") -> None:
    """Route structlog and the stdlib (uvicorn, SQLAlchemy, APScheduler) through one renderer."""
    as_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    numeric = logging.getLevelNamesMapping()[level.upper()]
    factory: Any
    own: list[structlog.typing.Processor]
    if as_json:
        out: Any = _CurrentStderr(binary=True)

        def factory(name: str | None = None, *_: Any) -> _Named:
            return _Named(out, name)

        own = [
            *shared,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(_orjson),
        ]
    else:
        err: Any = _CurrentStderr(binary=False)

        def factory(name: str | None = None, *_: Any) -> _TextNamed:
            return _TextNamed(err, name)

        own = [*shared, structlog.dev.ConsoleRenderer()]
    structlog.configure(
        # The level is a processor, not the wrapper class: a logger cached on first use
        # keeps its wrapper class, while processors are replaced in place for every logger
        # (so `capture_logs` in tests sees every line, whatever a CLI run set before).
        processors=[_at_least(numeric), *own],
        logger_factory=factory,
        wrapper_class=structlog.make_filtering_bound_logger(logging.NOTSET),
        cache_logger_on_first_use=True,
    )
    stdlib_renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(_text_json)
        if as_json
        else structlog.dev.ConsoleRenderer()
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info if as_json else _identity,
            stdlib_renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def _at_least(level: int) -> structlog.typing.Processor:
    def drop_below(
        logger: object, name: str, event_dict: structlog.typing.EventDict
    ) -> structlog.typing.EventDict:
        if _LEVELS.get(name, logging.INFO) < level:
            raise structlog.DropEvent
        return event_dict

    return drop_below


_LEVELS = {
    **logging.getLevelNamesMapping(),
    **{k.lower(): v for k, v in logging.getLevelNamesMapping().items()},
    "exception": logging.ERROR,
    "warn": logging.WARNING,
    "msg": logging.INFO,
}


def _text_json(event: Any, **_: Any) -> str:
    return orjson.dumps(event, default=str).decode()


def _identity(
    logger: object, name: str, event_dict: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    return event_dict
