"""Reading a scenario file's YAML safely: bounded in size, depth and expansion, every refusal
naming its line.

A scenario is plain data, so YAML's anchors and aliases are refused rather than expanded:
a few hundred bytes of nested aliases ("billion laughs") would otherwise expand to gigabytes,
and a file nested a thousand deep would end in a RecursionError. The checks run over the
parser's event stream, which is flat, as it passes; nodes are composed one top-level value,
or one item of a long list, at a time, so a large file is never held whole (`parts`).
"""

from __future__ import annotations

import codecs
import io
import os
from collections.abc import Callable, Collection, Hashable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import yaml

C = TypeVar("C", yaml.SequenceNode, yaml.MappingNode)

MAX_FILE_BYTES = 256 * 1024 * 1024
"""The largest scenario file RIO reads (256 MiB, some 300,000 recommendations). The file is
read as a stream, so memory does not bound it any more; time does: a load is one transaction,
during which other writers wait, and 60 MB took 11 minutes here. Split a larger review."""

MAX_DEPTH = 64
"""The deepest nesting of mappings and lists accepted; a scenario needs five or six levels."""

_CHUNK = 64 * 1024  # characters handed to the parser at a time
_TAGS_KEPT = 1024  # scalars whose resolved tag is remembered: the common ones, not every one

# libyaml when it is installed (much faster); PyYAML's own parser otherwise. Both give the
# same events, nodes and marks.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlRefused(Exception):
    """Why a file's text was not read as a scenario, and the line (1-based) to name, if any."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class NotAMapping(YamlRefused):
    """The file's one document is not a mapping of keys (or there is no document)."""


@dataclass(frozen=True)
class Part:
    """One top-level value of the file, or one item of a top-level list read item by item."""

    key: Any  # the top-level key (a string in any file worth reading)
    line: int  # the key's line
    index: int | None  # the item's position in its list; None for the whole value
    node: yaml.Node  # for line numbers
    data: Any  # as plain data


def parts(
    path: Path,
    itemised: Collection[str] = (),
    progress: Callable[[int], None] | None = None,
) -> Iterator[Part]:
    """The file's top-level values in file order; a list under a key in `itemised` comes as
    an empty list (index None) and then one part per item, so no more than one item is ever
    held in memory. `progress` is told the bytes read so far. Raises OSError when the file
    cannot be read, YamlRefused when its text is refused (perhaps after some parts)."""
    with path.open("rb") as raw:
        yield from _parts(raw, os.fstat(raw.fileno()).st_size, itemised, progress)


def load(path: Path) -> tuple[yaml.Node, dict[Any, Any]]:
    """The file's single document, a mapping, as a node (for line numbers) and as plain data.

    Raises OSError when the file cannot be read, YamlRefused when its text is refused.
    """
    return _whole(parts(path))


def parse(text: str) -> tuple[yaml.Node, dict[Any, Any]]:
    """`text`'s single document as a node and as plain data; raises YamlRefused."""
    raw = text.encode("utf-8")
    return _whole(_parts(io.BytesIO(raw), len(raw)))


def _parts(
    raw: BinaryIO,
    size: int,
    itemised: Collection[str] = (),
    progress: Callable[[int], None] | None = None,
) -> Iterator[Part]:
    if size > MAX_FILE_BYTES:
        raise YamlRefused(None, _too_large(size))
    text = _Text(raw, progress)
    try:
        yield from _Reader(text).parts(frozenset(itemised))
    except yaml.MarkedYAMLError as error:
        # An unclosed bracket is found at the end of the file; name the line that opened it.
        unclosed = error.context is not None and "flow" in error.context
        mark = error.context_mark if unclosed else error.problem_mark
        line = mark.line + 1 if mark else 1
        raise YamlRefused(line, f"not valid YAML: {error.problem}") from None
    except yaml.reader.ReaderError as error:
        raise YamlRefused(text.line_at(error.position), f"not valid YAML: {error.reason}") from None


def _whole(read: Iterable[Part]) -> tuple[yaml.Node, dict[Any, Any]]:
    """The parts put back together as one mapping."""
    pairs: list[tuple[yaml.Node, yaml.Node]] = []
    data: dict[Any, Any] = {}
    for part in read:
        mark = yaml.Mark("<file>", 0, part.line - 1, 0, None, None)  # type: ignore[arg-type]
        pairs.append((yaml.ScalarNode("tag:yaml.org,2002:str", str(part.key), mark), part.node))
        data[part.key] = part.data
    start = pairs[0][0].start_mark if pairs else None
    return yaml.MappingNode("tag:yaml.org,2002:map", pairs, start), data


class _Text:
    """The file's bytes as UTF-8 text for the parser, a chunk at a time: refuses bytes that
    are not UTF-8 (naming their line) and a file that grows past the limit while read."""

    def __init__(self, raw: BinaryIO, progress: Callable[[int], None] | None):
        self.raw = raw
        self.progress = progress
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.bytes = 0
        self.lines = 0  # newlines before the chunk last read
        self.chars = 0  # characters before the chunk last read
        self.chunk = ""

    def read(self, size: int = _CHUNK) -> str:
        block = self.raw.read(max(size, 1))
        try:
            text = self.decoder.decode(block, final=not block)
        except UnicodeDecodeError as error:
            line = self.lines + self.chunk.count("\n") + block.count(b"\n", 0, error.start) + 1
            raise YamlRefused(
                line,
                f"not UTF-8 text: byte {self.bytes + error.start + 1} is {block[error.start]:#04x}",
            ) from None
        self.bytes += len(block)
        if self.bytes > MAX_FILE_BYTES:
            raise YamlRefused(None, _too_large(self.bytes))
        self.lines += self.chunk.count("\n")
        self.chars += len(self.chunk)
        self.chunk = text
        if self.progress is not None:
            self.progress(self.bytes)
        return text

    def line_at(self, position: int) -> int | None:
        """The line of character `position`, if it is in the chunk last read."""
        if not self.chars <= position <= self.chars + len(self.chunk):
            return None
        return self.lines + self.chunk.count("\n", 0, position - self.chars) + 1


class _Reader:
    """The parser's events, refused as they pass (anchors, aliases, depth), composed into
    nodes one top-level value or list item at a time: no tree of the whole file, no
    recursion deeper than MAX_DEPTH."""

    def __init__(self, stream: Any) -> None:
        self.loader = _Loader(stream)
        self.depth = 0
        self.tags: dict[tuple[str, Any], str] = {}

    def dispose(self) -> None:
        self.loader.dispose()

    def parts(self, itemised: frozenset[str]) -> Iterator[Part]:
        try:
            yield from self._parts(itemised)
        finally:
            self.dispose()

    def _parts(self, itemised: frozenset[str]) -> Iterator[Part]:
        self._next()  # StreamStart
        event = self._next()
        if not isinstance(event, yaml.DocumentStartEvent):
            raise NotAMapping(1, _NOT_A_MAPPING)
        event = self._next()
        if not isinstance(event, yaml.MappingStartEvent):
            raise NotAMapping(1, _NOT_A_MAPPING)
        seen: set[Any] = set()
        while not isinstance(event := self._next(), yaml.MappingEndEvent):
            key_node = self._node(event)
            key = _construct(self.loader, key_node)
            line = key_node.start_mark.line + 1
            if not isinstance(key, Hashable):
                raise YamlRefused(line, "not valid YAML: a key is a list or a mapping")
            if key in seen:
                raise YamlRefused(
                    line, f"the key {key_node.value!r} is given twice in one mapping: keep one"
                )
            seen.add(key)
            event = self._next()
            if key in itemised and isinstance(event, yaml.SequenceStartEvent):
                shell = self._collection(yaml.SequenceNode, event)
                yield Part(key, line, None, shell, [])
                index = 0
                while not isinstance(item := self._next(), yaml.SequenceEndEvent):
                    node = self._node(item)
                    yield Part(key, line, index, node, _construct(self.loader, node))
                    index += 1
                self.depth -= 1
            else:
                node = self._node(event)
                yield Part(key, line, None, node, _construct(self.loader, node))
        self.depth -= 1
        self._end()

    def _end(self) -> None:
        self._next()  # DocumentEnd
        event = self._next()
        if not isinstance(event, yaml.StreamEndEvent):
            line = event.start_mark.line + 1 if event.start_mark else None
            raise YamlRefused(line, "not valid YAML: expected a single document in the stream")

    def _next(self) -> yaml.Event:
        event: yaml.Event = self.loader.get_event()  # type: ignore[no-untyped-call]
        line = event.start_mark.line + 1 if event.start_mark else None
        if isinstance(event, yaml.AliasEvent):
            raise YamlRefused(
                line,
                f"the alias *{event.anchor} is not accepted in a scenario file: "
                "write the value out in full",
            )
        if isinstance(event, yaml.NodeEvent) and event.anchor is not None:
            raise YamlRefused(
                line,
                f"the anchor &{event.anchor} is not accepted in a scenario file: "
                "anchors and aliases are refused, write each value out in full",
            )
        if isinstance(event, yaml.CollectionStartEvent):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise YamlRefused(
                    line, f"nested more than {MAX_DEPTH} levels deep: a scenario needs only a few"
                )
        return event

    def _node(self, event: yaml.Event) -> yaml.Node:
        """The node that starts with `event` (a scalar, or a collection read to its end)."""
        # libyaml's marks are its own class, with the same fields as PyYAML's.
        start: Any = event.start_mark
        if isinstance(event, yaml.ScalarEvent):
            end: Any = event.end_mark
            return yaml.ScalarNode(self._scalar_tag(event), event.value, start, end, event.style)
        if isinstance(event, yaml.SequenceStartEvent):
            sequence = self._collection(yaml.SequenceNode, event)
            while not isinstance(item := self._next(), yaml.SequenceEndEvent):
                sequence.value.append(self._node(item))
            return self._closed(sequence, item)
        if isinstance(event, yaml.MappingStartEvent):
            mapping = self._collection(yaml.MappingNode, event)
            while not isinstance(key := self._next(), yaml.MappingEndEvent):
                mapping.value.append((self._node(key), self._node(self._next())))
            return self._closed(mapping, key)
        line = start.line + 1 if start else None
        raise YamlRefused(line, f"not valid YAML: unexpected {type(event).__name__}")

    def _collection(self, kind: type[C], event: yaml.CollectionStartEvent) -> C:
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(kind, None, event.implicit)  # type: ignore[no-untyped-call]
        start: Any = event.start_mark
        return kind(tag, [], start, None, flow_style=event.flow_style)

    def _closed(self, node: C, end: yaml.Event) -> C:
        node.end_mark = end.end_mark
        self.depth -= 1
        return node

    def _scalar_tag(self, event: yaml.ScalarEvent) -> str:
        if event.tag is not None and event.tag != "!":
            return str(event.tag)
        # The resolver tries a list of patterns per value; the same few values (keys, dates,
        # source names) come back thousands of times in a large file.
        key = (event.value, event.implicit)
        tag = self.tags.get(key)
        if tag is None:
            if len(self.tags) >= _TAGS_KEPT:
                self.tags.clear()
            resolve = self.loader.resolve
            tag = self.tags[key] = resolve(yaml.ScalarNode, event.value, event.implicit)  # type: ignore[no-untyped-call]
        return str(tag)


def _construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    """Plain data from the node; a value YAML's resolver accepts but Python refuses (the 30th of
    February, an integer of 5,000 digits) is named at its line, as is a key given twice."""
    try:
        data = loader.construct_document(node)
    except (ValueError, OverflowError) as error:
        # The constructor keeps the nodes it was inside when it failed; the last is the culprit.
        inside = list(loader.recursive_objects)
        bad = inside[-1] if inside else node
        value = f" {bad.value[:40]!r}" if isinstance(bad, yaml.ScalarNode) else ""
        reason = str(error).split(";")[0]  # drop advice meant for Python programmers
        raise YamlRefused(bad.start_mark.line + 1, f"not a valid value{value}: {reason}") from None
    _refuse_repeated_keys(loader, node)
    return data


def _refuse_repeated_keys(loader: yaml.SafeLoader, node: yaml.Node) -> None:
    """YAML keeps the last of two equal keys and drops the first without a word; refuse it."""
    pending = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, yaml.SequenceNode):
            pending.extend(current.value)
        elif isinstance(current, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, value_node in current.value:
                if isinstance(key_node, yaml.ScalarNode):
                    key = loader.construct_object(key_node)
                    if key in seen:
                        raise YamlRefused(
                            key_node.start_mark.line + 1,
                            f"the key {key_node.value!r} is given twice in one mapping: keep one",
                        )
                    seen.add(key)
                pending.extend((key_node, value_node))


_NOT_A_MAPPING = "a scenario file is one mapping of keys (format:, review:, ...)"


def _too_large(size: int) -> str:
    return (
        f"the file is {size / 1024 / 1024:,.1f} MiB, over the {MAX_FILE_BYTES // 1024 // 1024:,} "
        "MiB a scenario file may be: split the review into several files"
    )
