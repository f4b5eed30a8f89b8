"""A fault in RIO itself still reaches a person as one line, never a traceback; the
traceback is kept in a file for whoever mends RIO."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

# `rio.cli.main` the module (the package exports its function of the same name).
cli = importlib.import_module("rio.cli.main")


def _boom(**_: object) -> None:
    raise RuntimeError("an invariant broke\nsecond line")


def test_an_unexpected_fault_is_one_line_naming_a_file_with_the_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "app", _boom)

    with pytest.raises(SystemExit) as exited:
        cli.main()

    assert exited.value.code == 70
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "internal error (RuntimeError: an invariant broke)" in err
    found = re.search(r"details are in (\S+\.txt)", err)
    assert found is not None
    report = Path(found.group(1))
    try:
        kept = report.read_text(encoding="utf-8")
        assert "Traceback" in kept and "_boom" in kept and "second line" in kept
    finally:
        report.unlink()


def test_an_interrupt_is_one_line_and_exit_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(**_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "app", interrupted)

    with pytest.raises(SystemExit) as exited:
        cli.main()

    assert exited.value.code == 130
    assert capsys.readouterr().err.strip() == "rio: interrupted"
