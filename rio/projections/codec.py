"""Lossless JSON for programme state, so a read-model row decodes to exactly what replay gives."""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable
from datetime import date
from functools import cache
from typing import Any, TypeVar, Union, cast, get_args, get_origin, get_type_hints
from uuid import UUID

import orjson

from rio.domain.due_window import DueWindow
from rio.domain.state import Commitment, RecommendationState
from rio.domain.values import Source

T = TypeVar("T")


def dumps(value: Any) -> str:
    """Canonical JSON (sorted keys): equal states give equal text, which the read model diffs on.

    orjson writes dataclasses, dates and UUIDs itself, so a due window is stored as its
    fields (text, earliest, latest); decoding rebuilds the same value.
    """
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def loads_recommendation(text: str) -> RecommendationState:
    return _decode(RecommendationState, orjson.loads(text))  # type: ignore[no-any-return]


def loads_commitment(text: str) -> Commitment:
    return _decode(Commitment, orjson.loads(text))  # type: ignore[no-any-return]


def loads(kind: type[T], text: str) -> T:
    """Any of the state's value types from its text (a note, a revision...)."""
    return _decode(kind, orjson.loads(text))  # type: ignore[no-any-return]


def _decode(kind: Any, data: Any) -> Any:
    return _converter(kind)(data)


@cache
def _converter(kind: Any) -> Callable[[Any], Any]:
    """A decoder for `kind`, built once per type from its hints (decoding is the read path)."""
    origin = get_origin(kind)
    if origin in (Union, types.UnionType):
        inner = _converter(next(a for a in get_args(kind) if a is not type(None)))
        return lambda data: None if data is None else inner(data)
    if origin is tuple:
        item = _converter(get_args(kind)[0])
        return lambda data: tuple(item(x) for x in data)
    simple: dict[Any, Callable[[Any], Any]] = {
        DueWindow: DueWindow.from_dict,
        Source: Source.from_dict,
        date: date.fromisoformat,
        UUID: UUID,
    }
    if kind in simple:
        return simple[kind]
    if dataclasses.is_dataclass(kind):
        make: Callable[..., Any] = cast("Callable[..., Any]", kind)
        fields = {name: _converter(hint) for name, hint in get_type_hints(kind).items()}
        return lambda data: make(**{name: fields[name](value) for name, value in data.items()})
    return lambda data: data
