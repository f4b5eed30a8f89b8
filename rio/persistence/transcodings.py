"""How RIO's value objects are written into stored events: lossless, plain JSON."""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from rio.domain.due_window import DueWindow
from rio.domain.values import Source


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
        return Source.from_dict(data)


class DueWindowAsDict(Transcoding):
    """Keeps the words and the resolved bounds, so a parser change never rewrites history."""

    type = DueWindow
    name = "rio_due_window"

    def encode(self, obj: DueWindow) -> dict[str, str]:
        return obj.to_dict()

    def decode(self, data: dict[str, str]) -> DueWindow:
        return DueWindow.from_dict(data)


def register_rio_transcodings(transcoder: JSONTranscoder) -> None:
    for transcoding in (DateAsISO(), SourceAsDict(), DueWindowAsDict()):
        transcoder.register(transcoding)
