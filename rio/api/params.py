"""Strict forms for values that arrive as text in a URL (query and path parameters).

Pydantic's lax parsing reads `as_at=1717200000` as a Unix timestamp (2024-06-01) and
`history/1.0` as version 1. A value someone typed into a URL means what it says or is refused:
a date is YYYY-MM-DD, as in a request body (one rule: `rio.api.schemas.IsoDate`), and a
whole number is digits.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BeforeValidator

from rio.api.schemas import IsoDate

QueryDate = IsoDate
"""A date in a query: YYYY-MM-DD only, the same rule as a date in a body."""

_DIGITS = re.compile(r"[0-9]{1,18}")


def _digits(value: Any) -> Any:
    """A number in a URL is written in digits: not `1.0`, `1e3`, `+1` or ` 1`."""
    if isinstance(value, str) and not _DIGITS.fullmatch(value):
        raise ValueError(f"{value[:40]!r} is not a whole number: write it in digits, like 3")
    return value


DIGITS_ONLY = BeforeValidator(_digits)
"""Metadata for an int path or query parameter: `Annotated[int, Path(ge=1), DIGITS_ONLY]`.

It goes after `Path(...)`/`Query(...)` in the same `Annotated`, not inside a type alias:
FastAPI then still writes the bounds into the OpenAPI schema as minimum and maximum.
"""
