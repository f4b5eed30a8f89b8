"""The one scheme that names stored classes, and the old names stored data may still carry.

Every stored event names its class by a topic. RIO's topics are `rio:<Aggregate>` and
`rio:<Aggregate>.<Event>` (a class's qualified name), never a module path, so classes can
move between modules without stored events going stale. Aggregates and their event classes
get their topic by inheriting `Stored`; it is given when the class is defined, so no event
can be written under any other name, and eventsourcing refuses to trigger an event whose
topic is not registered.

Events written before this scheme named Alert and AlertRun classes by module path
(`rio.aggregates.alert:Alert.Raised`). Those strings are in stores and hash chains and can
never change, so they stay registered as aliases of the same classes, here and only here.
`rio.aggregates.registry.register_topics` makes every topic resolvable in a process that
reads a store.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

# eventsourcing keeps its topic registry in `eventsourcing.utils` (a stdlib-only module);
# registering an old name for a class is what it is for.
from eventsourcing.utils import register_topic

PREFIX = "rio:"

# Aggregate -> the module path its topics embedded before the `rio:` scheme. Frozen: these
# are strings already stored, not where the classes live now.
LEGACY_MODULES: Mapping[str, str] = {
    "Alert": "rio.aggregates.alert",
    "AlertRun": "rio.aggregates.alert",
}


def topic(qualname: str) -> str:
    """`Recommendation.Registered` -> `rio:Recommendation.Registered`."""
    return PREFIX + qualname


def legacy_topics(qualname: str) -> tuple[str, ...]:
    """The other names events of this class may be stored under (oldest schemes)."""
    module = LEGACY_MODULES.get(qualname.split(".", 1)[0])
    return (f"{module}:{qualname}",) if module else ()


def stored_topics(*classes: type[Stored]) -> tuple[str, ...]:
    """Every topic events of these classes may be stored under: to filter a log by topic."""
    return tuple(name for cls in classes for name in (cls.TOPIC, *legacy_topics(cls.__qualname__)))


def register(cls: type[Stored]) -> None:
    """Make `cls` resolvable by its topic and by every older name it was stored under.

    Idempotent; refuses (eventsourcing's TopicError) a name already given to another class."""
    for name in (cls.TOPIC, *legacy_topics(cls.__qualname__)):
        register_topic(name, cls)


class Stored:
    """Mixed into every aggregate and event class RIO stores: names it by the scheme."""

    TOPIC: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Before eventsourcing's own hook, which checks that an aggregate and each of its
        # event classes has an explicit, registered TOPIC.
        cls.TOPIC = topic(cls.__qualname__)
        register(cls)
        super().__init_subclass__(**kwargs)
