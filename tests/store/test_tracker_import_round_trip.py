"""RIO's own tracker export, as CSV and as XLSX, imports back to the same recommendations
(numbers, titles, words, actions, themes) and the same reported statuses, and the draft
loads into a fresh store."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from rio.application.reviews import Reviews
from rio.application.service import RIO
from rio.domain.replay import replay
from rio.domain.state import Programme
from rio.imports.draft import to_yaml
from rio.imports.sheets import read_table
from rio.imports.tracker import Options, draft
from rio.projections.read_model import ReadModel
from rio.projections.reviews import ReviewRegister
from rio.reports.tracker import file_name, rows, to_csv, to_xlsx
from rio.scenario import batches, read
from tests.conftest import MESSENGER

CORONER = Path(__file__).resolve().parents[1] / "fixtures" / "scenarios" / "coroner-report.yaml"
AS_AT = date(2025, 1, 15)


def _recommendations(programme: Programme, review: str) -> set[tuple[object, ...]]:
    return {
        (
            r.number,
            r.title,
            " ".join(r.text.split()),
            tuple((a.action, " ".join(a.text.split())) for a in r.actions),
        )
        for r in programme.recommendations
        if r.review == review and not r.review_wide
    }


def _statuses(programme: Programme, review: str) -> Counter[tuple[object, ...]]:
    return Counter(
        (r.number, s.status, s.occurred)
        for r in programme.recommendations
        if r.review == review
        for s in r.statuses
    )


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
@pytest.mark.parametrize("review", ["messenger-2022", "pfd-2024-0117"])
def test_the_export_imports_back_to_the_same_recommendations_and_statuses(
    database_url: str, tmp_path: Path, suffix: str, review: str
) -> None:
    rio = RIO(database_url)
    try:
        for path in (MESSENGER, CORONER):
            scenario, lines = read(path)
            rio.record_batch(batches(scenario, lines, str(path), "test"))
            Reviews(rio).register(scenario.review.command("test"))
        model = ReadModel(rio)
        register = ReviewRegister(rio, model.engine).registered()
        programme = model.programme(AS_AT)
        tracker = rows(programme, reviews=register)
        export = tmp_path / file_name(programme, AS_AT, suffix)  # the portfolio: both reviews
        if suffix == "csv":
            export.write_text(to_csv(tracker, [["Checkpoint", "after a blank row"]]), "utf-8")
        else:
            export.write_bytes(to_xlsx(tracker))
        original = replay(rio.all_events(), AS_AT)
    finally:
        rio.close()

    result = draft(read_table(export), Options(review=review, title="Imported"))
    assert result.unread == []
    draft_file = tmp_path / "draft.yaml"
    draft_file.write_text(to_yaml(result, str(export), date.today()), "utf-8")
    scenario, lines = read(draft_file)  # loadable as it stands
    fresh = RIO(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        fresh.record_batch(batches(scenario, lines, str(draft_file), "test"))
        imported = replay(fresh.all_events(), AS_AT)
    finally:
        fresh.close()

    assert _recommendations(imported, review) == _recommendations(original, review)
    assert _statuses(imported, review) == _statuses(original, review)
    # the round trip is not vacuous: Messenger's statuses include the review-wide one
    wide = (0, "reported_not_delivered", date(2024, 10, 1))
    assert sum(_statuses(original, "messenger-2022").values()) == 4
    assert _statuses(original, "messenger-2022")[wide] == 1
    quotes = {s.source.quote for r in imported.recommendations for s in r.statuses}
    for rec in original.recommendations:
        for status in rec.statuses if rec.review == review else ():
            assert any(f'"{status.source.quote}"' in (q or "") for q in quotes)
    assert scenario.review.themes == {int(n): t for n, t in register[review].details.themes.items()}
