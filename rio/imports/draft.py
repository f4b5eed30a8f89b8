"""The draft scenario as YAML: what was read and what a person should check, as comments,
above a scenario file `rio scenario load` reads."""

from __future__ import annotations

from datetime import date
from typing import Any

import yaml

from rio.imports.tracker import Draft


class _Dumper(yaml.SafeDumper):
    """No anchors or aliases (a scenario file refuses them); multi-line cells as blocks."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def to_yaml(result: Draft, source_path: str, today: date) -> str:
    """The draft's text: a commented header, then the scenario."""
    table = result.table
    read = ", ".join(f"{c.letter} {c.header!r} = {c.field.name}" for c in result.columns)
    lines = [
        f"# A DRAFT scenario, made by `rio import tracker {source_path}` on {today}.",
        f"# From {table.where}, header row {result.header_row}. Nothing has been recorded.",
        "# Check every entry against the spreadsheet (each cites its cell), then load it:",
        "#   rio scenario load THIS-FILE",
        f"# Columns read: {read}.",
    ]
    if result.checks:
        lines.append("# To check:")
        lines += [f"#   - {check}" for check in result.checks]
    if result.unread:
        lines.append("# Rows not read:")
        lines += [f"#   - {row}" for row in result.unread]
    body = yaml.dump(
        result.scenario, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100
    )
    return "\n".join(lines) + "\n" + body
