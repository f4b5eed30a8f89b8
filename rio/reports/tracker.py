"""The tracker export: the programme in the shape public implementation trackers use.

One row per recommendation with the columns those trackers have: recommendation,
actions, source, extent of implementation, notes. Written as CSV or XLSX.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font

from rio.domain.rag import DEFAULT_POLICY, Policy, rate_recommendation
from rio.domain.state import Programme
from rio.reports.answers import reported_words

COLUMNS = ("recommendation", "actions", "source", "extent of implementation", "notes")


@dataclass(frozen=True)
class TrackerRow:
    recommendation: str
    actions: str
    source: str
    extent: str
    notes: str

    def cells(self) -> tuple[str, str, str, str, str]:
        return (self.recommendation, self.actions, self.source, self.extent, self.notes)


def rows(programme: Programme, policy: Policy = DEFAULT_POLICY) -> list[TrackerRow]:
    result = []
    for rec in programme.recommendations:
        shared = programme.shared_with(rec)
        rating, ratings = rate_recommendation(rec, programme.as_at, policy, shared)
        actions = [f"{a.action}: {a.text}" for a in rec.actions]
        for c in rec.commitments:
            due = f", due {c.due.text} (by {c.due.latest})" if c.due else ", no date"
            owner = rec.owner_of(c)
            actions.append(
                f"{c.deliverable}{due}"
                + (f" [{owner}]" if owner else "")
                + f": {ratings[c.commitment].rating}"
            )
        sources = [rec.source.cite()]
        for c in rec.commitments:
            for cited in (c.source, *(r.source for r in c.revisions)):
                if cited.cite() not in sources:
                    sources.append(cited.cite())
        extent = f"{rating.rating}: {rating.reason}"
        if rec.assessments:
            latest = rec.assessments[-1]
            extent += (
                f"\nAssessed {latest.rating} ({latest.scale}) on {latest.occurred} "
                f"by {latest.assessor}: {latest.rationale}"
            )
        notes = [f"{d.occurred}: {d.decision}" for d in rec.decisions]
        notes += [f"{n.occurred}: {n.text}" for n in rec.notes]
        notes += [f"{s.occurred}: {reported_words(s)}" for s in rec.statuses]
        slipped = [
            f"{c.commitment}: {sum(1 for r in c.revisions if r.unexplained)} unexplained slip(s)"
            for c in rec.commitments
            if any(r.unexplained for r in c.revisions)
        ]
        result.append(
            TrackerRow(
                recommendation=rec.title if rec.review_wide else f"{rec.number}. {rec.title}",
                actions="\n".join(actions),
                source="\n".join(sources),
                extent=extent,
                notes="\n".join(notes + slipped),
            )
        )
    return result


def to_csv(tracker: list[TrackerRow], checkpoint: Sequence[list[str]] = ()) -> str:
    """`checkpoint`: rows ending the file after a blank one (rio.audit.stamp)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in tracker:
        writer.writerow([_safe_cell(cell) for cell in row.cells()])
    if checkpoint:
        writer.writerows([[], *([_safe_cell(cell) for cell in row] for row in checkpoint)])
    return out.getvalue()


def to_xlsx(
    tracker: list[TrackerRow], title: str = "Tracker", checkpoint: Sequence[list[str]] = ()
) -> bytes:
    """`checkpoint`: rows for a second sheet, "Checkpoint" (rio.audit.stamp)."""
    book = Workbook()
    sheet = book.worksheets[0]
    sheet.title = title[:31]
    sheet.append([c.capitalize() for c in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in tracker:
        # XLSX cannot hold control characters; they carry no meaning in a tracker.
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", _safe_cell(cell)) for cell in row.cells()])
    for letter, width in zip("ABCDE", (40, 60, 40, 50, 60), strict=True):
        sheet.column_dimensions[letter].width = width
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    if checkpoint:
        stamped = book.create_sheet("Checkpoint")
        for entry in checkpoint:
            stamped.append([_safe_cell(text) for text in entry])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _safe_cell(text: str) -> str:
    """Spreadsheets run a cell starting with = + - @ as a formula: quote it (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
