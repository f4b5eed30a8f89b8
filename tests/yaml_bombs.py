"""YAML that an unbounded reader would choke on: alias bombs and deep nesting, for the tests."""

from __future__ import annotations


def billion_laughs() -> str:
    """Nine levels of nine aliases each: 9**9 strings once expanded, from under 1 KB."""
    lines = ["format: rio-scenario/1", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 9):
        before, name = chr(ord("a") + level - 1), chr(ord("a") + level)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{before}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def nested(depth: int) -> str:
    """`depth` block mappings, one inside the next, the first on line 2."""
    body = "".join("  " * level + f"k{level}:\n" for level in range(depth - 1))
    return "format: rio-scenario/1\n" + body + "  " * (depth - 1) + "k: v\n"
