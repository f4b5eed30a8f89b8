"""The import's refusal: input that cannot be read as a tracker (one line, exit status 2)."""

from __future__ import annotations

from rio.domain.errors import DomainError


class TrackerRefused(DomainError):
    """A tracker file that cannot be imported; the message names the file and what is wrong."""
