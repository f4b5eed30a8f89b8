"""A small chained history to tamper with, and the standalone verifier (tools/verify_rio_log.py)
loaded as a module, shared by the audit-chain and tamper-location tests."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from datetime import date
from types import ModuleType

from rio.application.commands import NoteProgress, RegisterRecommendation
from rio.application.service import RIO
from rio.domain.values import Source
from tests.conftest import REPO

SRC = Source("Written answer", date(2023, 11, 20), "launched in April 2024", file="001.txt")
TOOL = REPO / "tools" / "verify_rio_log.py"


def load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("verify_rio_log", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


tool = load_tool()


def register(rio: RIO, number: int) -> uuid.UUID:
    return rio.register_recommendation(
        RegisterRecommendation(
            review="messenger-2022",
            number=number,
            title=f"Recommendation {number}",
            text="t",
            occurred=date(2022, 6, 8),
            source=SRC,
            recorded_by="secretariat",
        )
    ).id


def note(rio: RIO, rec: uuid.UUID, text: str) -> None:
    rio.handle(
        rec,
        NoteProgress(note=text, occurred=date(2023, 1, 1), source=SRC, recorded_by="secretariat"),
    )


def record_history(rio: RIO, recommendations: int = 3, notes: int = 2) -> None:
    """recommendations * (1 + notes) events, one transaction each, interleaved."""
    ids = [register(rio, n) for n in range(1, recommendations + 1)]
    for k in range(notes):
        for rec in ids:
            note(rio, rec, f"note {k}")
