"""Lossless JSON for programme state, so a read-model row decodes to exactly what replay gives."""

from __future__ import annotations

import dataclasses
import json
import types
from datetime import date
from functools import cache
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints
from uuid import UUID

from rio.aggregates.values import Source
from rio.due_window import DueWindow
from rio.projections.replay import Commitment, RecommendationState

T = TypeVar("T")


def dumps(value: Any) -> str:
    return json.dumps(
        value, default=_default, separators=(",", ":"), ensure_ascii=False, sort_keys=True
    )


def loads_recommendation(text: str) -> RecommendationState:
    return _decode(RecommendationState, json.loads(text))  # type: ignore[no-any-return]


def loads_commitment(text: str) -> Commitment:
    return _decode(Commitment, json.loads(text))  # type: ignore[no-any-return]


def _default(value: Any) -> Any:
    """Called by json for what it cannot write itself; containers and text it does natively."""
    if isinstance(value, DueWindow | Source):
        return value.to_dict()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    kind: type = type(value)
    names = _FIELD_NAMES.get(kind)
    if names is None:
        if not dataclasses.is_dataclass(kind):
            raise TypeError(f"cannot encode {kind.__name__}")
        names = _FIELD_NAMES[kind] = tuple(f.name for f in dataclasses.fields(kind))
    return {name: getattr(value, name) for name in names}


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


@cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def _decode(kind: Any, data: Any) -> Any:
    origin = get_origin(kind)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(kind) if a is not type(None)]
        return None if data is None else _decode(options[0], data)
    if origin is tuple:
        item = get_args(kind)[0]
        return tuple(_decode(item, x) for x in data)
    if kind is DueWindow:
        return DueWindow.from_dict(data)
    if kind is Source:
        return Source.from_dict(data)
    if kind is date:
        return date.fromisoformat(data)
    if kind is UUID:
        return UUID(data)
    if dataclasses.is_dataclass(kind):
        hints = _hints(kind)  # type: ignore[arg-type]
        fields = {name: _decode(hints[name], value) for name, value in data.items()}
        return kind(**fields)  # type: ignore[operator]
    return data
