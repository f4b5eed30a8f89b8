"""A scenario file's YAML is read bounded: no alias expansion, no deep nesting, no huge file,
no silently dropped key; every refusal names its line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rio import scenario_yaml
from rio.scenario import ScenarioError, read
from rio.scenario_yaml import MAX_DEPTH, MAX_FILE_BYTES, YamlRefused, load, parse
from tests.conftest import MESSENGER
from tests.yaml_bombs import billion_laughs, nested


def refused(text: str) -> YamlRefused:
    with pytest.raises(YamlRefused) as caught:
        parse(text)
    return caught.value


def test_billion_laughs_is_refused_at_its_first_anchor_without_expanding() -> None:
    text = billion_laughs()
    assert len(text.encode()) < 1000

    error = refused(text)

    assert error.line == 2
    assert "anchor &a" in error.message


def test_an_alias_alone_is_refused_at_its_line() -> None:
    error = refused("format: rio-scenario/1\nreview:\n  key: *k\n")

    assert error.line == 3
    assert "alias *k" in error.message


def test_a_file_nested_a_thousand_deep_is_refused_at_the_level_past_the_limit() -> None:
    error = refused(nested(1000))

    assert error.line == 1 + MAX_DEPTH + 1  # the mapping that opens level 65
    assert f"more than {MAX_DEPTH} levels" in error.message


def test_a_thousand_nested_brackets_are_refused_without_a_recursion_error() -> None:
    error = refused("format: rio-scenario/1\nx: " + "[" * 1000 + "]" * 1000 + "\n")

    assert error.line == 2


def test_nesting_up_to_the_limit_is_read() -> None:
    node, data = parse(nested(MAX_DEPTH))

    assert node is not None
    assert data["format"] == "rio-scenario/1"


def test_a_key_given_twice_is_refused_at_its_second_line() -> None:
    error = refused("format: rio-scenario/1\nreview:\n  key: a\n  title: t\n  key: b\n")

    assert error.line == 5
    assert "'key' is given twice" in error.message


@pytest.mark.parametrize(
    ("value", "says"),
    [("2023-02-30", "day is out of range"), ("1" * 5000, "5000 digits")],
    ids=["impossible-date", "huge-integer"],
)
def test_a_value_python_cannot_hold_is_refused_at_its_line(value: str, says: str) -> None:
    error = refused(f"format: rio-scenario/1\nsources:\n  a:\n    date: {value}\n")

    assert error.line == 4
    assert says in error.message
    assert "sys.set_int_max_str_digits" not in error.message  # advice for programmers only


def test_a_file_over_the_limit_is_refused_naming_its_size_and_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as sparse:
        sparse.truncate(MAX_FILE_BYTES + 1)

    with pytest.raises(ScenarioError) as caught:
        read(path)

    message = str(caught.value)
    limit = MAX_FILE_BYTES // 2**20
    assert message.startswith(f"{path}: the file is {limit:,}.0 MiB, over the {limit:,} MiB")


def test_the_size_limit_is_read_from_the_module_constant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scenario_yaml, "MAX_FILE_BYTES", 100)
    path = tmp_path / "small.yaml"
    path.write_text("format: rio-scenario/1\n" + "# padding\n" * 20, encoding="utf-8")

    with pytest.raises(YamlRefused) as caught:
        load(path)

    assert caught.value.line is None
    assert "split the review into several files" in caught.value.message


def test_text_that_is_not_utf8_is_refused_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"format: rio-scenario/1\nreview:\n  title: caf\xe9\n")

    with pytest.raises(YamlRefused) as caught:
        load(path)

    assert caught.value.line == 3
    assert "not UTF-8" in caught.value.message


def test_the_messenger_scenario_reads_the_same_as_plain_safe_load() -> None:
    node, data = load(MESSENGER)

    assert node is not None
    assert data == yaml.safe_load(MESSENGER.read_text(encoding="utf-8"))
