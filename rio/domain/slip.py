"""Slip: how far a promised date has moved against the first promise, defined once.

The state types, the board (from read-model columns) and the timelines all measure slip;
they call these rather than subtract dates themselves.
"""

from __future__ import annotations

from datetime import date


def shift_days(due_latest: date | None, baseline_latest: date | None) -> int | None:
    """Days the date now due lies after the first promise (negative: earlier); None if
    either is undated."""
    if due_latest is None or baseline_latest is None:
        return None
    return (due_latest - baseline_latest).days


def slip_days(due_latest: date | None, baseline_latest: date | None) -> int:
    """How far the date now due has moved past the first promise (0 if not later)."""
    return max(0, shift_days(due_latest, baseline_latest) or 0)
