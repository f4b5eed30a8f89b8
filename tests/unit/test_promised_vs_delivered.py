"""The promised-vs-delivered report refuses outcomes judged before the promises were taken."""

from __future__ import annotations

from datetime import date

import pytest

from rio.domain.errors import DatesOutOfOrder, DomainError
from rio.domain.state import Programme
from rio.reports.answers import promised_vs_delivered


def test_outcomes_before_the_promises_are_refused_naming_both_dates() -> None:
    then = Programme(as_at=date(2024, 10, 1), known_at=None)
    later = Programme(as_at=date(2023, 11, 30), known_at=None)

    with pytest.raises(DatesOutOfOrder) as refused:
        promised_vs_delivered(then, later)

    assert isinstance(refused.value, DomainError), "a refusal: 4xx and exit 2, never a fault"
    assert str(refused.value).startswith(
        "delivered_as_at 2023-11-30 is before promised_as_at 2024-10-01"
    )
    same_day = promised_vs_delivered(then, then)
    assert same_day.rows == () and same_day.delivered_as_at == same_day.promised_as_at
