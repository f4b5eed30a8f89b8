"""Any edit to any stored column, made with plain SQL, is detected and located.

Generated over every column of the events and chain tables and five kinds of edit (a changed
byte, a changed letter case, added or removed whitespace, a Unicode look-alike, another
encoding or storage form of the same value), on both stores: `verify` names the edited
row, and the independent verifier says the same of an export. A store that cannot hold an
edit (PostgreSQL's uuid column keeps 16 bytes, so an upper-case or braced id is the same
value) is shown to be unchanged by it, never silently skipped.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st

from rio.application.service import RIO
from rio.audit.verification import Kind, export, verify
from tests.conftest import postgres_schema
from tests.store.tamper import Tamperer
from tests.support.audit import record_history, tool

EVENTS = 9  # record_history's default: 3 recommendations, 2 notes each
MOVED = 1000  # a moved row's notification id is n + MOVED, past every real one


class NotApplicable(Exception):
    """This edit cannot be made to this value (an upper-case edit of a string of digits)."""


@dataclass(frozen=True)
class Store:
    rio: RIO
    tamperer: Tamperer
    postgres: bool
    folder: Path


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """One small store per backend for the whole module; every example restores its edit."""
    folder = tmp_path_factory.mktemp("tamper")
    if request.param == "postgres":
        with postgres_schema("rio_tamper") as url:
            yield from _open(url, folder, postgres=True)
    else:
        yield from _open(f"sqlite:///{folder / 'rio.db'}", folder, postgres=False)


def _open(url: str, folder: Path, *, postgres: bool) -> Iterator[Store]:
    rio = RIO(url)
    try:
        record_history(rio)
        assert rio.position() == EVENTS and verify(rio).ok
        yield Store(rio, Tamperer(url), postgres, folder)
    finally:
        rio.close()


# --- edits of one value ----------------------------------------------------------------------

Expression = tuple[str, Any]  # SQL around one placeholder `{p}`, and the value bound to it


def _index(text: str, at: int, wanted: Callable[[str], bool]) -> int:
    """The first position at or after `at` (cyclically) whose character is `wanted`."""
    for k in range(len(text)):
        i = (at + k) % len(text)
        if wanted(text[i]):
            return i
    raise NotApplicable(text)


def _hexlike(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF-" for c in text)


def flip_text(text: str, at: int) -> str:
    i = _index(text, at, lambda c: c != "-")
    c = text[i]
    # A hex digit becomes another hex digit, so a changed id or hash still parses.
    new = format(int(c, 16) ^ 1, "x") if _hexlike(text) else chr(ord(c) ^ 1)
    return text[:i] + new + text[i + 1 :]


def case_text(text: str, at: int) -> str:
    i = _index(text, at, lambda c: c.lower() != c.upper())
    return text[:i] + text[i].swapcase() + text[i + 1 :]


def space_text(text: str, at: int) -> str:
    i = at % len(text)
    variants = [" " + text, text + " ", text[:i] + "\t" + text[i:], text + "\n"]
    spaces = [k for k, c in enumerate(text) if c.isspace()]
    if spaces:
        k = spaces[at % len(spaces)]
        variants.append(text[:k] + text[k + 1 :])  # a removed space
    return variants[at % len(variants)]


def unicode_text(text: str, at: int) -> str:
    i = _index(text, at, lambda c: c.isascii() and c.isalnum())
    c = text[i]
    variants = [
        text[:i] + chr(ord(c) + 0xFEE0) + text[i + 1 :],  # its full-width form (NFKC folds it)
        text[:i] + "\u200b" + text[i:],  # a zero-width space
        text[: i + 1] + "\u0301" + text[i + 1 :],  # a combining accent
    ]
    return variants[at % len(variants)]


TEXT_EDITS: dict[str, Callable[[str, int], str]] = {
    "flip": flip_text,
    "case": case_text,
    "whitespace": space_text,
    "unicode": unicode_text,
}


def edit_value(kind: str, column: str, old: Any, at: int, postgres: bool) -> Expression:
    """How someone would write `old`, edited by `kind`, into `column`."""
    if column == "key":
        return "{p}", old + MOVED
    if column == "originator_id":
        if postgres:
            text = str(old)
            if kind == "encoding":
                spellings = [
                    "{" + text + "}",
                    text.replace("-", ""),
                    text.upper(),
                    "{" + text.upper() + "}",
                ]
                return "{p}::uuid", spellings[at % len(spellings)]
            return "{p}::uuid", TEXT_EDITS[kind](text, at)
        if kind == "encoding":
            hyphenated = str(uuid.UUID(old))
            forms: list[Expression] = [
                ("{p}", hyphenated),
                ("{p}", "{" + hyphenated + "}"),
                ("{p}", "urn:uuid:" + hyphenated),
                ("CAST({p} AS BLOB)", old),  # the same text, stored as a blob
                ("{p}", uuid.UUID(old).bytes),  # the UUID's 16 bytes
            ]
            return forms[at % len(forms)]
        return "{p}", TEXT_EDITS[kind](old, at)
    if column == "originator_version":
        if kind == "encoding":
            return "CAST({p} AS BLOB)", str(old)
        return "{p}", old + MOVED
    if column == "state":
        state = bytes(old)
        if kind == "flip":
            i = at % len(state)
            return "{p}", state[:i] + bytes([state[i] ^ 0x01]) + state[i + 1 :]
        if kind == "encoding":
            if not postgres and at % 2:
                return "CAST({p} AS TEXT)", state  # the same bytes, stored as text
            return "{p}", state.decode("utf-8").encode("utf-16-le")
        return "{p}", TEXT_EDITS[kind](state.decode("utf-8"), at).encode("utf-8")
    # topic, prev_hash, hash: text
    if kind == "encoding":
        if postgres:
            return "{p}", "\\x" + old  # a hash as bytea's text form
        stored_as: list[Expression] = [
            ("CAST({p} AS BLOB)", old),  # the same text, stored as a blob
            ("{p}", bytes.fromhex(old)) if column != "topic" else ("{p}", old.encode("utf-16-le")),
        ]
        return stored_as[at % len(stored_as)]
    return "{p}", TEXT_EDITS[kind](old, at)


# --- what is generated -------------------------------------------------------------------------

ALL = ("flip", "case", "whitespace", "unicode", "encoding")
# (table, column, the kind of failure expected at the edited row, edits per backend). Edits a
# store refuses outright are left out: SQLite's integer affinity turns " 5" back into 5, and
# PostgreSQL's uuid and bigint types reject whitespace, look-alikes and other encodings.
COLUMNS: list[tuple[str, str, Kind, dict[str, tuple[str, ...]]]] = [
    (
        "events",
        "originator_id",
        Kind.CHANGED,
        {"sqlite": ALL, "postgres": ("flip", "case", "encoding")},
    ),
    (
        "events",
        "originator_version",
        Kind.CHANGED,
        {"sqlite": ("flip", "encoding"), "postgres": ("flip",)},
    ),
    ("events", "topic", Kind.CHANGED, {"sqlite": ALL, "postgres": ALL[:4]}),
    ("events", "state", Kind.CHANGED, {"sqlite": ALL, "postgres": ALL}),
    ("events", "key", Kind.MISSING, {"sqlite": ("flip",), "postgres": ("flip",)}),
    ("chain", "key", Kind.INSERTED, {"sqlite": ("flip",), "postgres": ("flip",)}),
    ("chain", "prev_hash", Kind.CHANGED, {"sqlite": ALL, "postgres": ALL}),
    ("chain", "hash", Kind.CHANGED, {"sqlite": ALL, "postgres": ALL}),
]
CASES = [
    pytest.param(
        backend,
        table,
        column,
        expected,
        kind,
        id=f"{backend}-{table}.{column}-{kind}",
        marks=[pytest.mark.postgres] if backend == "postgres" else [],
    )
    for table, column, expected, edits in COLUMNS
    for backend, kinds in edits.items()
    for kind in kinds
]
# Forms PostgreSQL's uuid type stores as the very same 16 bytes: nothing was edited.
SAME_VALUE_ON_POSTGRES = {("originator_id", "case"), ("originator_id", "encoding")}


@pytest.mark.parametrize(
    ("store", "table", "column", "expected", "kind"), CASES, indirect=["store"]
)
@settings(max_examples=6, deadline=None)
@given(n=st.integers(min_value=1, max_value=EVENTS), at=st.integers(min_value=0, max_value=10**4))
def test_an_edit_of_any_stored_column_is_detected_at_its_row(
    store: Store, table: str, column: str, expected: Kind, kind: str, n: int, at: int
) -> None:
    t = store.tamperer
    sql_column = t.key(table) if column == "key" else column
    old = t.value(table, sql_column, n)
    before = t.stored(table, sql_column, n)
    try:
        expression, value = edit_value(kind, column, old, at, store.postgres)
    except NotApplicable:
        reject()
    t.write(table, sql_column, n, expression, value)
    try:
        unchanged = t.stored(table, sql_column, n) == before
        result = verify(store.rio)
        independent = _independent(store)
    finally:
        _restore(t, table, sql_column, column, n, old)

    if store.postgres and (column, kind) in SAME_VALUE_ON_POSTGRES:
        assert unchanged, "PostgreSQL's uuid column stores one form of a UUID"
        assert result.ok, result.line()
        assert independent.startswith("OK"), independent
    else:
        assert not unchanged, f"the edit {expression} {value!r} changed nothing"
        assert result.failure is not None, f"{kind} of {table}.{column} at {n} went unseen"
        assert (result.failure.kind, result.failure.notification_id) == (expected, n), result.line()
        assert independent.startswith(f"FAILED: {expected} at notification {n}:"), independent
    assert verify(store.rio).ok, "the edit was not undone"


def _independent(store: Store) -> str:
    out = io.StringIO()
    export(store.rio, out)
    path = store.folder / "export.jsonl"
    path.write_text(out.getvalue(), encoding="utf-8")
    return str(tool.verify(str(path), [])[1])


def _restore(t: Tamperer, table: str, sql_column: str, column: str, n: int, old: Any) -> None:
    if column == "key":
        t.write(table, sql_column, n + MOVED, "{p}", n)
    else:
        t.write(table, sql_column, n, "{p}", old)
