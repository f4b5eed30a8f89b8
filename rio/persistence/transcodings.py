"""How RIO's value objects are written into stored events: lossless, plain JSON."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

import orjson
from eventsourcing.persistence import JSONTranscoder, Transcoding

from rio.domain.due_window import DueWindow
from rio.domain.values import Source

T = TypeVar("T")


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class SourceAsDict(Transcoding):
    type = Source
    name = "rio_source"

    def encode(self, obj: Source) -> dict[str, Any]:
        return obj.to_dict()

    def decode(self, data: dict[str, Any]) -> Source:
        return _cached(Source.from_dict, data)


class DueWindowAsDict(Transcoding):
    """Keeps the words and the resolved bounds, so a parser change never rewrites history."""

    type = DueWindow
    name = "rio_due_window"

    def encode(self, obj: DueWindow) -> dict[str, str]:
        return obj.to_dict()

    def decode(self, data: dict[str, str]) -> DueWindow:
        return _cached(DueWindow.from_dict, data)


def _cached(make: Callable[[dict[str, Any]], T], data: dict[str, Any]) -> T:
    """`make(data)`, shared between equal stored values: a store repeats its few sources and
    windows in thousands of events, and both are immutable."""
    try:
        key = (make, tuple(data.items()))
        hash(key)
    except (TypeError, AttributeError):  # not a shape from_dict takes: let it say so
        return make(data)
    return _shared(key)  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=4096)
def _shared(key: tuple[Callable[[dict[str, Any]], Any], tuple[tuple[str, Any], ...]]) -> Any:
    make, items = key
    return make(dict(items))


def register_rio_transcodings(transcoder: JSONTranscoder) -> None:
    for transcoding in (DateAsISO(), SourceAsDict(), DueWindowAsDict()):
        transcoder.register(transcoding)


class FastJSONTranscoder(JSONTranscoder):
    """Encodes exactly as `JSONTranscoder` (stored bytes, and so the hash chain, unchanged);
    decodes with orjson, then applies the registered transcodings as the standard decoder's
    object hook would, innermost first: about 1.7 times as fast (bench/RESULTS.md).

    orjson refuses a few documents the standard decoder takes (NaN, infinities) and reads an
    integer beyond 64 bits as a float; a document it refuses or that holds any float (RIO
    stores none) is decoded by the standard decoder, so anything stored reads as it did.
    """

    def decode(self, data: bytes) -> Any:
        try:
            return self._revive(orjson.loads(data))
        except (orjson.JSONDecodeError, _Ambiguous):
            return super().decode(data)

    def _revive(self, obj: Any) -> Any:
        """What the standard decoder's object hook makes of `obj`, parsed without it: each
        object's members first, then the object itself (a transcoded value, or as it is)."""
        kind = type(obj)
        if kind is list:
            for index, value in enumerate(obj):
                if type(value) in _REVISIT:
                    obj[index] = self._revive(value)
            return obj
        if kind is not dict:
            if kind is float:
                raise _Ambiguous
            return obj
        names = self.names
        for key, value in obj.items():
            kind = type(value)
            if kind is dict and len(value) == 2 and "_type_" in value and "_data_" in value:
                transcoding = names.get(value["_type_"])  # a stored value: one call, not two
                if transcoding is not None:
                    data = value["_data_"]
                    if type(data) in _REVISIT:
                        data = self._revive(data)
                    obj[key] = transcoding.decode(data)
                    continue
            if kind in _REVISIT:
                obj[key] = self._revive(value)
        return self._decode_obj(obj) if len(obj) == 2 else obj


class _Ambiguous(Exception):
    """orjson's float may not be what the standard decoder reads (a long integer)."""


_REVISIT = (dict, list, float)  # what may hold a transcoded value, or be ambiguous
