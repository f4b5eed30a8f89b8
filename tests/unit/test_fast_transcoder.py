"""The orjson-based decoder reads every stored event exactly as eventsourcing's own
transcoder does, and writes the same bytes: a store written before it is unchanged."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoder,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)

from rio.domain.due_window import parse_due
from rio.domain.values import Source
from rio.persistence.transcodings import FastJSONTranscoder, register_rio_transcodings
from tests.event_examples import FIXTURES, Fixture, examples, fixtures


def _with_rio_transcodings(transcoder: JSONTranscoder) -> JSONTranscoder:
    """As `Application.construct_transcoder` registers them, then RIO's own."""
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    register_rio_transcodings(transcoder)
    return transcoder


STANDARD = _with_rio_transcodings(JSONTranscoder())
FAST = _with_rio_transcodings(FastJSONTranscoder())


@pytest.mark.parametrize("path", fixtures(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_stored_fixture_decodes_alike_and_encodes_back_to_its_bytes(path: Path) -> None:
    stored = Fixture.read(path).stored.state
    decoded = FAST.decode(stored)
    assert decoded == STANDARD.decode(stored)
    assert FAST.encode(decoded) == STANDARD.encode(decoded) == stored


@pytest.mark.parametrize("name", sorted(examples()))
def test_every_event_type_encodes_to_the_same_bytes_under_both(name: str) -> None:
    state = dict(vars(examples()[name]))
    state.pop("originator_id")
    state.pop("originator_version")
    encoded = STANDARD.encode(state)
    assert FAST.encode(state) == encoded
    assert FAST.decode(encoded) == STANDARD.decode(encoded)


@pytest.mark.parametrize("transcoder", [STANDARD, FAST], ids=["standard", "fast"])
def test_values_nested_in_lists_and_in_transcoded_data_come_back_typed(
    transcoder: Transcoder,
) -> None:
    window = parse_due("Spring 2025", date(2024, 1, 10))
    value = {
        "when": [date(2024, 1, 1), {"at": datetime(2024, 1, 1, 9, tzinfo=UTC)}],
        "windows": [[window], []],
        "source": Source("Response", date(2023, 11, 20), None),
        "id": UUID(int=7),
        "amount": Decimal("1.50"),
        "_type_": "looks like a value, but has three members",
        "x": 1,
        "plain": {"_type_": "one member only"},
        "deep": [[[{"n": [1, 2.5, None, True, "é"]}]]],
    }
    assert transcoder.decode(STANDARD.encode(value)) == value


def test_an_unknown_stored_type_is_refused_by_both_alike() -> None:
    stored = b'{"a":{"_type_":"no_such_type","_data_":1}}'
    for transcoder in (STANDARD, FAST):
        with pytest.raises(TranscodingNotRegisteredError, match="no_such_type"):
            transcoder.decode(stored)


def test_documents_orjson_refuses_are_still_read_as_before() -> None:
    for stored in (b'{"n":NaN}', b'{"n":-9223372036854775809,"m":[1e400]}'):
        assert repr(FAST.decode(stored)) == repr(STANDARD.decode(stored))
