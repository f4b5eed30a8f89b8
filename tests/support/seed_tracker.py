"""The public tracker (seed 000) as a person would put it in a spreadsheet: its table's rows,
as CSV and as XLSX, made from the seed's text.

The seed is text extracted from a PDF: tab-separated cells, the header repeated at each page
break, footnote lines between pages, and a row cut by a page break continued on the next
page with its number cell empty. A person copying it into a spreadsheet joins the continued
row to the one it continues; the footnotes are not part of the table.
"""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import Workbook

from tests.conftest import SEEDS

SEED = SEEDS / "000_935e6c7aecd1c52e.txt"


def seed_rows() -> list[list[str]]:
    """The table's title line, its header and its rows (continuations joined)."""
    lines = SEED.read_text(encoding="utf-8").splitlines()
    title = lines[0].strip()
    header: list[str] | None = None
    rows: list[list[str]] = []
    for line in lines[1:]:
        if "\t" not in line:
            continue  # blank lines and footnotes
        cells = [c.strip() for c in line.split("\t")]
        if header is None:
            header = cells
            continue
        if cells == header:
            continue  # the header again, at a page break
        cells += [""] * (len(header) - len(cells))
        if not cells[1] and rows:
            rows[-1] = [" ".join(filter(None, pair)) for pair in zip(rows[-1], cells, strict=True)]
            continue
        rows.append(cells)
    assert header is not None
    return [[title], header, *rows]


def write_csv(path: Path) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        csv.writer(out).writerows(seed_rows())
    return path


def write_xlsx(path: Path) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Table of Recommendations"
    for row in seed_rows():
        sheet.append(row)
    book.save(path)
    return path
