"""The tracker export: the programme in the shape public implementation trackers use.

The columns are the public tracker's (the DHSC / NHS England "Table of Recommendations":
type of recommendation, number, details, implementation, source, extent of implementation,
updated notes), with the recommendation's number and the government's response each in a
column of its own, and the review first, so rows of many reviews can share one file. The
CSV starts with a byte-order mark, so spreadsheet programs read it as UTF-8; the XLSX has
an autofilter and repeats its header row on every printed page.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import astuple, dataclass
from datetime import date
from typing import TYPE_CHECKING

from rio.domain.rag import DEFAULT_POLICY, Policy, rate_recommendation
from rio.domain.state import Programme
from rio.projections.reviews import ReviewInfo
from rio.reports.answers import reported_words

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell

# The public tracker's headings, in its order, with RIO's two additions (review, response).
COLUMNS = (
    "Review",
    "Type of recommendation",
    "No.",
    "Details of recommendation",
    "Government response",
    "Implementation",
    "Source",
    "Extent of implementation",
    "Updated notes on implementation",
)
WIDTHS = (18, 24, 6, 60, 40, 60, 40, 50, 60)
BOM = "\ufeff"


@dataclass(frozen=True)
class TrackerRow:
    review: str
    theme: str
    number: int | str  # "All" for the review as a whole
    details: str
    response: str
    implementation: str
    source: str
    extent: str
    notes: str

    def cells(self) -> tuple[str | int, ...]:
        return astuple(self)


def rows(
    programme: Programme,
    policy: Policy = DEFAULT_POLICY,
    reviews: Mapping[str, ReviewInfo] | None = None,
) -> list[TrackerRow]:
    """A row per recommendation; `reviews` (the register) gives each its theme."""
    result = []
    for rec in programme.recommendations:
        shared = programme.shared_with(rec)
        rating, ratings = rate_recommendation(rec, programme.as_at, policy, shared)
        info = (reviews or {}).get(rec.review)
        details = [f"{rec.title}: {rec.text}" if rec.text else rec.title]
        details += [f"Action {a.action}: {a.text}" for a in rec.actions]
        implementation = []
        for c in rec.commitments:
            due = f", due {c.due.text} (by {c.due.latest})" if c.due else ", no date"
            owner = rec.owner_of(c)
            implementation.append(
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
        response = [
            f"{d.occurred}: {d.decision}" + (f" ({d.decided_by})" if d.decided_by else "")
            for d in rec.decisions
        ]
        notes = [f"{n.occurred}: {n.text}" for n in rec.notes]
        notes += [f"{s.occurred}: {reported_words(s)}" for s in rec.statuses]
        notes += [
            f"{c.commitment}: {sum(1 for r in c.revisions if r.unexplained)} unexplained slip(s)"
            for c in rec.commitments
            if any(r.unexplained for r in c.revisions)
        ]
        result.append(
            TrackerRow(
                review=rec.review,
                theme=(info.details.theme_of(rec.number) if info else None) or "",
                number="All" if rec.review_wide else rec.number,
                details="\n".join(details),
                response="\n".join(response),
                implementation="\n".join(implementation),
                source="\n".join(sources),
                extent=extent,
                notes="\n".join(notes),
            )
        )
    return result


def file_name(
    programme: Programme,
    as_at: date,
    suffix: str,
    review: str | None = None,
    public_at: date | None = None,
) -> str:
    """`rio-tracker-<review>-<as at>[-public-<public at>].<suffix>`: the review named, or
    `portfolio` when the file holds several."""
    keys = {r.review for r in programme.recommendations}
    name = review or (next(iter(keys)) if len(keys) == 1 else "portfolio")
    public = f"-public-{public_at}" if public_at else ""
    return f"rio-tracker-{re.sub(r'[^A-Za-z0-9._-]+', '-', name)}-{as_at}{public}.{suffix}"


def sheet_title(as_at: date, public_at: date | None = None) -> str:
    """The XLSX sheet's name (31 characters at most): the as-at date, and the public
    record's date when asked."""
    return f"{as_at}, public {public_at}" if public_at else f"Tracker {as_at}"


def trailer(checkpoint: Sequence[list[str]], public_at: date | None = None) -> list[list[str]]:
    """The rows that end an export: what it leaves out when asked "as the public record
    stood" (`rio.domain.public_record`), then its checkpoint, last."""
    said = (
        [
            [
                "public record",
                f"as it stood on {public_at}: only facts whose source was published by then "
                "(a source with no publication date counts as unpublished)",
            ]
        ]
        if public_at
        else []
    )
    return [*said, *checkpoint]


def to_csv(tracker: list[TrackerRow], checkpoint: Sequence[list[str]] = ()) -> str:
    """`checkpoint`: rows ending the file after a blank one (rio.audit.stamp)."""
    out = io.StringIO()
    out.write(BOM)
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
    # openpyxl (a third of a second to import) loads here, once per workbook, not with RIO.
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font

    def cell(value: str | int, font: Font | None, alignment: Alignment | None = None) -> Cell:
        made = WriteOnlyCell(sheet, value=value)
        if font is not None:
            made.font = font
        if alignment is not None:
            made.alignment = alignment
        return made

    def text(value: str) -> str:
        # XLSX cannot hold control characters; they carry no meaning in a tracker.
        return ILLEGAL_CHARACTERS_RE.sub("", _safe_text(value))

    # Write-only mode streams rows to the file: a whole portfolio's tracker stays small in
    # memory and quick to write.
    book = Workbook(write_only=True)
    sheet = book.create_sheet(re.sub(r"[\[\]:*?/\\]", "-", title)[:31])
    for letter, width in zip("ABCDEFGHI", WIDTHS, strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    sheet.print_title_rows = "1:1"  # the header on every printed page
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.auto_filter.ref = f"A1:I{len(tracker) + 1}"
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    sheet.append([cell(name, bold) for name in COLUMNS])
    for row in tracker:
        sheet.append(
            [
                cell(value if isinstance(value, int) else text(value), None, wrap)
                for value in row.cells()
            ]
        )
    if checkpoint:
        stamped = book.create_sheet("Checkpoint")
        for entry in checkpoint:
            stamped.append([text(words) for words in entry])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _safe_cell(value: str | int) -> str | int:
    return value if isinstance(value, int) else _safe_text(value)


def _safe_text(text: str) -> str:
    """Spreadsheets run a cell starting with = + - @ as a formula: quote it (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
