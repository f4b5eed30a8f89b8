"""Naming a recorded event by what it says, not by a version number a person must look up.

A correction in a scenario file (`corrects: {type: commitment_made, commitment: plan}`) and
on the command line (`rio correct 1 --event commitment_made:plan`) names its target this way;
the reference must match exactly one event of the recommendation, or the refusal lists the
candidates. One rule for both doors, and for the hint an edited scenario file is given.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rio.domain import facts as R
from rio.domain.due_window import DueWindow
from rio.domain.errors import InvalidCommand
from rio.domain.values import Source

# Fields a reference may not name: they say who recorded a fact and when, not what it says.
_BOOKKEEPING = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})
# What a bare `type:VALUE` names, by the first of these fields the type has.
_KEYS = ("commitment", "action")
_SHOWN = 8  # candidates named in a refusal


def kind(event: R.Fact) -> str:
    """An event's type as scenario files spell it: CommitmentMade -> commitment_made."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(event).__name__).lower()


def as_text(value: Any) -> str:
    """A field's value as a reference compares it: dates ISO, windows by their words."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, DueWindow):
        return value.text
    if isinstance(value, Source):
        return value.document
    if value is None:
        return "none"
    return str(value)


def field_text(event: R.Fact, name: str) -> str | None:
    """The event's `name` as text; `quote` is its source's quote. None when it has no such
    field."""
    if name == "quote":
        return event.source.quote or "none"
    if name in _BOOKKEEPING or not hasattr(event, name):
        return None
    return as_text(getattr(event, name))


@dataclass(frozen=True)
class EventReference:
    """`type` (as scenario files spell it) and field values, as text; or a version."""

    type: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    version: int | None = None

    def matches(self, event: R.Fact) -> bool:
        if self.version is not None and event.originator_version != self.version:
            return False
        if self.type is not None and kind(event) != self.type:
            return False
        return all(
            field_text(event, name) == " ".join(want.split()) for name, want in self.fields.items()
        )

    def __str__(self) -> str:
        parts = [f"{name}={value}" for name, value in self.fields.items()]
        if self.version is not None:
            parts.insert(0, f"version={self.version}")
        return f"{self.type or 'any event'}" + (f" {' '.join(parts)}" if parts else "")


def reference(data: Mapping[str, Any]) -> EventReference:
    """A reference from a mapping (`{type: commitment_made, commitment: plan}`)."""
    values = {str(k): as_text(v) for k, v in data.items()}
    version = values.pop("version", None)
    if version is not None and not version.isdigit():
        raise InvalidCommand(f"version {version!r} is not a whole number")
    return EventReference(values.pop("type", None), values, int(version) if version else None)


def parse(text: str) -> EventReference:
    """A reference from the command line: `7` (a version), `commitment_made:plan` (the type's
    commitment or action), or `commitment_made:commitment=plan,occurred=2023-11-20`."""
    text = text.strip()
    if text.isdigit():
        return EventReference(version=int(text))
    type_, _, rest = text.partition(":")
    if not re.fullmatch(r"[a-z_]+", type_):
        raise InvalidCommand(
            f"event reference {text!r} does not start with an event type such as "
            "commitment_made (e.g. commitment_made:plan, or a version number)"
        )
    values: dict[str, str] = {}
    if rest and "=" not in rest:
        values["*"] = rest
    elif rest:
        for part in rest.split(","):
            name, equals, value = part.partition("=")
            if not equals or not name.strip():
                raise InvalidCommand(f"event reference part {part!r} is not FIELD=VALUE")
            values[name.strip()] = value.strip()
    return EventReference(type_, values)


def named(value: Mapping[str, Any] | str) -> EventReference:
    """A reference as any door takes it: a mapping (a scenario file's `corrects:`, an API
    body's `event` object) or text (`rio correct --event`, an API body's `event` string)."""
    return parse(value) if isinstance(value, str) else reference(value)


def find(history: Sequence[R.Fact], wanted: EventReference, number: int) -> R.Fact:
    """The one event of recommendation `number`'s `history` that `wanted` names; a refusal
    that lists the candidates when it names none or several. Corrections are not candidates:
    a correction is corrected by correcting its target again."""
    events = [e for e in history if not isinstance(e, R.EventCorrected)]
    wanted = _expand(wanted, events)
    found = [e for e in events if wanted.matches(e)]
    if len(found) == 1:
        return found[0]
    if found:
        raise InvalidCommand(
            f"{wanted} names {len(found)} events of recommendation {number}: "
            f"{_listed(found, events)}; add a field to tell them apart"
        )
    near = [e for e in events if wanted.type is None or kind(e) == wanted.type] or events
    raise InvalidCommand(
        f"no event of recommendation {number} is {wanted}; candidates: {_listed(near, events)}"
    )


def describe(event: R.Fact, history: Sequence[R.Fact]) -> str:
    """The shortest reference that names `event` alone in `history`, as the CLI takes it."""
    events = [e for e in history if not isinstance(e, R.EventCorrected)]
    names = [name for name in _KEYS if field_text(event, name) not in (None, "none")]
    for extra in ((), ("occurred",), ("occurred", "quote")):
        chosen = {n: field_text(event, n) or "" for n in (*names, *extra)}
        candidate = EventReference(kind(event), chosen)
        if sum(1 for e in events if candidate.matches(e)) == 1:
            return _spell(candidate)
    return str(event.originator_version)


def as_yaml(text: str) -> str:
    """A reference `describe` gave, as a scenario file's `corrects:` mapping."""
    type_, _, rest = text.partition(":")
    if type_.isdigit():
        return f"{{version: {type_}}}"
    pairs = [f"type: {type_}"] + [p.replace("=", ": ", 1) for p in rest.split(",") if p]
    return "{" + ", ".join(pairs) + "}"


def _spell(ref: EventReference) -> str:
    if not ref.fields:
        return ref.type or ""
    return f"{ref.type}:" + ",".join(f"{k}={v}" for k, v in ref.fields.items())


def _expand(wanted: EventReference, events: Sequence[R.Fact]) -> EventReference:
    """`type:VALUE` names the type's commitment (or action)."""
    if "*" not in wanted.fields:
        return wanted
    value = wanted.fields["*"]
    sample = next((e for e in events if kind(e) == wanted.type), None)
    key = next((k for k in _KEYS if sample is not None and hasattr(sample, k)), None)
    if key is None:
        raise InvalidCommand(
            f"{wanted.type}:{value} does not say which field {value!r} is; "
            f"write {wanted.type}:FIELD={value}"
        )
    rest = {k: v for k, v in wanted.fields.items() if k != "*"}
    return EventReference(wanted.type, {key: value, **rest}, wanted.version)


def _listed(candidates: Sequence[R.Fact], history: Sequence[R.Fact]) -> str:
    shown = [
        f"event {e.originator_version} ({describe(e, history)}, occurred {e.occurred})"
        for e in candidates[:_SHOWN]
    ]
    more = len(candidates) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "") if shown else "none"
