"""Reading a scenario file's YAML safely: bounded in size, depth and expansion, every refusal
naming its line.

A scenario is plain data, so YAML's anchors and aliases are refused rather than expanded:
a few hundred bytes of nested aliases ("billion laughs") would otherwise expand to gigabytes,
and a file nested a thousand deep would end in a RecursionError. The checks run over the
parser's event stream, which is flat, before any tree is composed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MAX_FILE_BYTES = 64 * 1024 * 1024
"""The largest scenario file RIO reads (64 MiB): a review is far smaller; split a larger one."""

MAX_DEPTH = 64
"""The deepest nesting of mappings and lists accepted; a scenario needs five or six levels."""

# libyaml when it is installed (much faster); PyYAML's own parser otherwise. Both give the
# same events, nodes and marks.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlRefused(Exception):
    """Why a file's text was not read as a scenario, and the line (1-based) to name, if any."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def load(path: Path) -> tuple[yaml.Node | None, Any]:
    """The file's single document as a node (for line numbers) and as plain data.

    Raises OSError when the file cannot be read, YamlRefused when its text is refused.
    """
    with path.open("rb") as stream:
        raw = stream.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise YamlRefused(None, _too_large(path))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise YamlRefused(
            line, f"not UTF-8 text: byte {error.start + 1} is {raw[error.start]:#04x}"
        ) from None
    return parse(text)


def parse(text: str) -> tuple[yaml.Node | None, Any]:
    """`text`'s single document as a node and as plain data; raises YamlRefused."""
    try:
        _check_events(text)
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = _construct(loader, node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        # An unclosed bracket is found at the end of the file; name the line that opened it.
        unclosed = error.context is not None and "flow" in error.context
        mark = error.context_mark if unclosed else error.problem_mark
        line = mark.line + 1 if mark else 1
        raise YamlRefused(line, f"not valid YAML: {error.problem}") from None
    return node, data


def _check_events(text: str) -> None:
    """Refuse anchors, aliases and deep nesting, reading events only (no tree, no recursion)."""
    loader = _Loader(text)
    depth = 0
    try:
        while True:
            event: yaml.Event | None = loader.get_event()  # type: ignore[no-untyped-call]
            if event is None or isinstance(event, yaml.StreamEndEvent):
                return
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
                depth += 1
                if depth > MAX_DEPTH:
                    raise YamlRefused(
                        line,
                        f"nested more than {MAX_DEPTH} levels deep: a scenario needs only a few",
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    finally:
        loader.dispose()


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


def _too_large(path: Path) -> str:
    try:
        size = f"{path.stat().st_size / 1024 / 1024:,.1f} MiB"
    except OSError:
        size = "larger"
    return (
        f"the file is {size}, over the {MAX_FILE_BYTES // 1024 // 1024} MiB a scenario file "
        "may be: split the review into several files"
    )
