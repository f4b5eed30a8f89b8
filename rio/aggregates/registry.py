"""Every aggregate RIO stores, so a process that reads a store can resolve all its topics.

A store holds the events of every aggregate, and a reader (the read model, the audit, an
alert run) meets them in the log whether or not it ever uses their classes. The application
calls `register_topics` where it is constructed, instead of importing modules for their
side effects.
"""

from __future__ import annotations

from rio.aggregates.alert import Alert, AlertRun
from rio.aggregates.api_key import ApiKey
from rio.aggregates.recommendation import Recommendation
from rio.aggregates.review import Review
from rio.aggregates.topics import Stored, register

AGGREGATES: tuple[type[Stored], ...] = (Recommendation, Alert, AlertRun, ApiKey, Review)


def stored_classes() -> list[type[Stored]]:
    """Each aggregate and every event class defined on it (eventsourcing's implicit
    `Created` included), in definition order."""
    classes: list[type[Stored]] = []
    for aggregate in AGGREGATES:
        classes.append(aggregate)
        classes.extend(
            value
            for value in vars(aggregate).values()
            if isinstance(value, type) and issubclass(value, Stored)
        )
    return classes


def register_topics() -> None:
    """Register every stored class under its topic and its older names (idempotent)."""
    for cls in stored_classes():
        register(cls)
