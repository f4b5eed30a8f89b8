"""`rio scenario load` refuses YAML bombs as a person would see it: one line, FILE:LINE, exit 2."""

from __future__ import annotations

from pathlib import Path

from rio.application.service import RIO
from rio.scenario_yaml import MAX_DEPTH
from tests.support.cli import refused
from tests.yaml_bombs import billion_laughs, nested


def recorded(url: str) -> int:
    store = RIO(url)
    try:
        return store.position()
    finally:
        store.close()


def test_a_billion_laughs_file_is_one_line_refusal_and_records_nothing(tmp_path: Path) -> None:
    bomb = tmp_path / "laughs.yaml"
    bomb.write_text(billion_laughs(), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'rio.db'}"

    line = refused(url, "scenario", "load", str(bomb))

    assert line.startswith(f"rio: error: {bomb}:2: the anchor &a is not accepted")
    assert recorded(url) == 0


def test_a_file_nested_a_thousand_deep_is_one_line_refusal_and_records_nothing(
    tmp_path: Path,
) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text(nested(1000), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'rio.db'}"

    line = refused(url, "scenario", "load", str(deep))

    assert line.startswith(f"rio: error: {deep}:{MAX_DEPTH + 2}: nested more than {MAX_DEPTH}")
    assert recorded(url) == 0
