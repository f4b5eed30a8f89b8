"""Faults of configuration or environment: the operator's to fix, never the caller's.

RIO's errors come in two families. A refusal (`rio.domain.errors.DomainError` and its
subclasses) answers a person's input: 4xx from the API, exit status 2 from the CLI. A
`ConfigurationError` says a setting or the environment RIO runs in is wrong (an unusable
`RIO_DATABASE_URL`, an unreadable owners file): the CLI still prints one line and exits 2,
but the API answers 500 or 503 and logs it, because no change to the request can fix it.
"""

from __future__ import annotations


class ConfigurationError(Exception):
    """A setting or the environment RIO cannot use; the message names it and says what to do."""
