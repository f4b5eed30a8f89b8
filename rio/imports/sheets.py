"""Reading a tracker's cells: CSV with the csv module, XLSX with openpyxl.

openpyxl rather than python-calamine: it is already RIO's dependency (the tracker export is
written with it, so the round trip reads what the same library wrote), it is pure Python with
type stubs for `mypy --strict`, and its read-only mode streams rows, so a large sheet stays
small in memory. Calamine is faster, but a tracker has hundreds of rows, not millions.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from rio.imports.errors import TrackerRefused

MAX_FILE_BYTES = 64 * 1024 * 1024  # as a scenario file: a tracker is far smaller
SUFFIXES = (".csv", ".xlsx", ".xlsm")


@dataclass(frozen=True)
class Table:
    """A sheet's rows as text, each with its row number in the file (1-based)."""

    file: str  # the file's name, as a citation names it
    sheet: str | None  # None for a CSV
    rows: tuple[tuple[int, tuple[str, ...]], ...]

    @property
    def where(self) -> str:
        return self.file if self.sheet is None else f"{self.file}, sheet {self.sheet!r}"


def read_table(path: Path, sheet: str | None = None) -> Table:
    """The rows of a CSV file, or of one sheet of an XLSX workbook (the first by default)."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        kind = path.suffix or "a file without an extension"
        raise TrackerRefused(
            f"{path}: RIO reads trackers saved as .csv or .xlsx, not {kind}: save it as one"
        )
    try:
        size = path.stat().st_size
    except OSError as error:
        raise TrackerRefused(f"{path}: cannot read the file: {error.strerror}") from None
    if size > MAX_FILE_BYTES:
        raise TrackerRefused(
            f"{path}: the file is over the {MAX_FILE_BYTES // 1024 // 1024} MiB a tracker may be"
        )
    if suffix == ".csv":
        if sheet is not None:
            raise TrackerRefused(f"{path}: --sheet is for .xlsx workbooks; a CSV file has one")
        return _csv(path)
    return _xlsx(path, sheet)


def _csv(path: Path) -> Table:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")  # spreadsheet programs start UTF-8 CSV with a BOM
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise TrackerRefused(
            f"{path}:{line}: not UTF-8 text (byte {raw[error.start]:#04x}): save it as "
            "CSV UTF-8 (comma delimited)"
        ) from None
    rows = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        for cells in reader:
            rows.append((reader.line_num, tuple(c.strip() for c in cells)))
    except csv.Error as error:
        raise TrackerRefused(f"{path}:{reader.line_num}: not readable as CSV: {error}") from None
    # csv counts physical lines; a cell with line breaks makes a row start earlier than
    # line_num says, so number the rows as a spreadsheet program shows them.
    return Table(path.name, None, tuple((n, cells) for n, (_, cells) in enumerate(rows, 1)))


def _delimiter(text: str) -> str:
    """Comma, tab or semicolon (as some locales save CSV): whichever a line of the first
    twenty uses most, the header row having the most cells."""
    lines = text.splitlines()[:20]
    return max(",\t;", key=lambda d: max((line.count(d) for line in lines), default=0))


def _xlsx(path: Path, sheet: str | None) -> Table:
    # openpyxl (a third of a second to import) loads only when an XLSX is read
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as error:
        reason = getattr(error, "strerror", None) or "it is not an .xlsx workbook"
        raise TrackerRefused(f"{path}: cannot read the workbook: {reason}") from None
    try:
        names = book.sheetnames
        if sheet is not None and sheet not in names:
            raise TrackerRefused(
                f"{path}: no sheet {sheet!r}; its sheets are {', '.join(map(repr, names))}"
            )
        worksheet = book[sheet or names[0]]
        rows = []
        for number, values in enumerate(worksheet.iter_rows(values_only=True), 1):
            rows.append((number, tuple(_text(v) for v in values)))
        return Table(path.name, worksheet.title, tuple(rows))
    finally:
        book.close()


def _text(value: object) -> str:
    """A cell as its words: whole numbers without '.0', dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()
