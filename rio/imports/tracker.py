"""A tracker's rows as a draft scenario: registrations, reported statuses, notes, decisions and
inferred promises, each citing the spreadsheet cell it comes from (file, sheet, row, column,
and the cell's words as its quote).

The draft is for a person to check and load; nothing here records anything. RIO's own
tracker export (`rio.reports.tracker`) is read by the same rules, and its dated lines
("2024-10-01: reported in progress as of ...") come back as the statuses, notes and decisions
they were written from. Its "Implementation" and "Extent of implementation" columns are
RIO's own judgements (commitments with their computed ratings), not an owner's words, so
they are not read back as reported statuses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rio.domain.values import ReportedStatus
from rio.imports.errors import TrackerRefused
from rio.imports.phrases import header_date, promised_in
from rio.imports.sheets import Table
from rio.imports.vocabulary import BY_NAME, FIELDS, IGNORE, Field, field_of, status_in
from rio.reports.tracker import COLUMNS as EXPORT_COLUMNS
from rio.scenario import FORMAT

HEADER_SEARCH_ROWS = 20  # a header row is found among a sheet's first rows (titles above it)
REVIEW_WIDE_NUMBERS = ("all", "all recommendations")  # RIO's export: the review as a whole

_NUMBER = re.compile(r"(?:rec(?:ommendation)?\.?\s*(?:no\.?\s*)?|r)?([0-9]+)\.?", re.I)
_ACTION = re.compile(r"(?:(?<=\s)|^)Action\s+([0-9]+(?:\.[0-9]+)*[a-z]?)\s*:\s*")
_CITED_ON = re.compile(r"\(([0-9]{4}-[0-9]{2}-[0-9]{2})\)\s*$")
_DATED_LINE = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2}): (.+)", re.S)
_REPORTED = re.compile(
    r"reported (?P<words>.+?) as of (?P<on>[0-9]{4}-[0-9]{2}-[0-9]{2}) \(.*?\)"
    r"(?:: \"(?P<quote>.*)\")?",
    re.S,
)
_DECIDED_BY = re.compile(r"(?P<decision>.+?) \((?P<by>[^()]+)\)", re.S)
_SLIPS = re.compile(r"\S+: [0-9]+ unexplained slip\(s\)")
_STATUS_BY_WORDS = {s.words: s for s in ReportedStatus}
TITLE_LENGTH = 80


@dataclass(frozen=True)
class Options:
    review: str | None = None
    title: str | None = None
    columns: Mapping[str, str] = field(default_factory=dict)  # header -> field name
    speaks_for: date | None = None  # --date: the date the tracker speaks for
    today: date = field(default_factory=date.today)


@dataclass(frozen=True)
class Column:
    index: int
    header: str
    field: Field
    said_on: date | None  # the date its header names

    @property
    def letter(self) -> str:
        from openpyxl.utils import get_column_letter  # openpyxl loads only when used

        return get_column_letter(self.index + 1)


@dataclass
class Draft:
    """The scenario (plain data for YAML), what a person should check, the rows not read."""

    scenario: dict[str, Any]
    table: Table
    header_row: int
    columns: list[Column]
    checks: list[str] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def parse_columns(spec: str | None) -> dict[str, str]:
    """`--columns 'HEADER=field,HEADER=field'` as a mapping; unknown fields refused."""
    mapping: dict[str, str] = {}
    for part in (spec or "").split(","):
        if not part.strip():
            continue
        header, equals, name = part.rpartition("=")
        name = name.strip().casefold()
        if not equals or not header.strip():
            raise TrackerRefused(f"--columns {part.strip()!r}: write HEADER=field")
        if name not in BY_NAME and name != IGNORE:
            known = ", ".join([*BY_NAME, IGNORE])
            raise TrackerRefused(f"--columns {part.strip()!r}: no field {name!r}; fields: {known}")
        mapping[header.strip()] = name
    return mapping


def draft(table: Table, options: Options) -> Draft:
    """The draft scenario for `table`; raises TrackerRefused when nothing usable is in it."""
    if not any(any(cells) for _, cells in table.rows):
        raise TrackerRefused(f"{table.where}: the sheet is empty")
    header_row, columns, header_cells = _header(table, options)
    result = Draft({}, table, header_row, columns)
    ours = tuple(header_cells[: len(EXPORT_COLUMNS)]) == EXPORT_COLUMNS
    by_field: dict[str, list[Column]] = {}
    for column in columns:
        by_field.setdefault(column.field.name, []).append(column)
    for name, several in by_field.items():
        if len(several) > 1 and not BY_NAME[name].repeats:
            for extra in several[1:]:
                result.checks.append(
                    f"column {extra.letter} {extra.header!r} also reads as {name}; only column "
                    f"{several[0].letter} was read (--columns '{extra.header}=FIELD' to use it)"
                )
    single = {name: several[0] for name, several in by_field.items()}
    rows = _body(table, header_row, header_cells, ours)
    rows = _one_review(rows, single.get("review"), options, table)
    key = _review_key(rows, single.get("review"), options, table)
    builder = _Builder(table, options, ours, single, by_field, result)
    numbered: list[tuple[int, tuple[str, ...], int]] = []
    numbers: dict[int, int] = {}
    for row, cells in rows:
        number = _number(cells, single["number"], row, result)
        if number is None:
            continue
        if number in numbers:
            raise TrackerRefused(
                f"{table.where}: recommendation {'All' if number == 0 else number} is on rows "
                f"{numbers[number]} and {row}: a tracker lists each recommendation once"
            )
        numbers[number] = row
        numbered.append((row, cells, number))
    for row, cells, number in numbered:
        builder.row(row, cells, number)
    if not builder.recommendations:
        reasons = "; ".join(result.unread[:3]) or "no row below the header has a number"
        raise TrackerRefused(f"{table.where}: no recommendation could be read ({reasons})")
    title = options.title or key
    if not options.title:
        result.checks.append("the review's title is its key: give --title, or write it here")
    review: dict[str, Any] = {"key": key, "title": title}
    if builder.themes:
        review["themes"] = builder.themes
    result.scenario = {
        "format": FORMAT,
        "review": review,
        "sources": dict(sorted(builder.sources.items(), key=lambda kv: _cell_order(kv[0]))),
        "recommendations": builder.recommendations,
        "events": builder.events,
    }
    result.counts = builder.counts
    return result


# --- the header row and its columns ---------------------------------------------------------


def _header(table: Table, options: Options) -> tuple[int, list[Column], list[str]]:
    seen: list[str] = []
    for row, cells in table.rows[:HEADER_SEARCH_ROWS]:
        if not any(cells):
            continue
        columns = _columns(cells, options)
        names = {c.field.name for c in columns}
        if "number" in names and names & {"details", "title"}:
            unknown = sorted(set(options.columns) - set(cells))
            if unknown:
                raise TrackerRefused(
                    f"{table.where}: --columns names {', '.join(map(repr, unknown))}, not a "
                    f"header of row {row} ({_listed(cells)})"
                )
            return row, columns, list(cells)
        if not seen:
            seen = [f"row {row}: {_listed(cells)}"]
    wanted = [n for n in ("number", "details") if n not in options.columns.values()]
    raise TrackerRefused(
        f"{table.where}: no header row in the first {HEADER_SEARCH_ROWS} rows names the "
        f"recommendation's number and its words ({'; '.join(seen)}): map them with "
        "--columns '" + ",".join(f"HEADER={n}" for n in wanted) + "'"
    )


def _columns(cells: Sequence[str], options: Options) -> list[Column]:
    columns = []
    for index, header in enumerate(cells):
        if not header:
            continue
        said_on, rest = header_date(header, options.today)
        mapped = options.columns.get(header)
        if mapped == IGNORE:
            continue
        meaning = BY_NAME[mapped] if mapped else field_of(rest)
        if meaning is not None:
            columns.append(Column(index, header, meaning, said_on))
    return columns


def _listed(cells: Sequence[str]) -> str:
    shown = [repr(c) for c in cells if c][:12]
    return ", ".join(shown) or "nothing"


def _body(
    table: Table, header_row: int, header: Sequence[str], ours: bool
) -> list[tuple[int, tuple[str, ...]]]:
    """The rows under the header: blank ones and repeated headers (a PDF's page breaks)
    skipped; RIO's own export ends at its first blank row (its checkpoint follows)."""
    rows = []
    for row, cells in table.rows:
        if row <= header_row:
            continue
        if not any(cells):
            if ours:
                break
            continue
        if list(cells[: len(header)]) == list(header):
            continue
        rows.append((row, cells))
    return rows


def _one_review(
    rows: list[tuple[int, tuple[str, ...]]],
    column: Column | None,
    options: Options,
    table: Table,
) -> list[tuple[int, tuple[str, ...]]]:
    if column is None:
        return rows
    keys = sorted({_cell(cells, column) for _, cells in rows} - {""})
    if options.review is not None:
        wanted = options.review.casefold()
        kept = [(r, c) for r, c in rows if _cell(c, column).casefold() in (wanted, "")]
        if not any(_cell(c, column).casefold() == wanted for _, c in kept):
            raise TrackerRefused(
                f"{table.where}: no row is of review {options.review!r}; its reviews: "
                f"{', '.join(keys) or 'none named'}"
            )
        return kept
    if len(keys) > 1:
        raise TrackerRefused(
            f"{table.where}: the file holds {len(keys)} reviews ({', '.join(keys[:5])}"
            f"{', ...' if len(keys) > 5 else ''}): give --review KEY, one draft per review"
        )
    return rows


def _review_key(
    rows: list[tuple[int, tuple[str, ...]]],
    column: Column | None,
    options: Options,
    table: Table,
) -> str:
    if options.review:
        return options.review.strip()
    if column is not None:
        for _, cells in rows:
            if _cell(cells, column):
                return _cell(cells, column)
    stem = table.file.rsplit(".", 1)[0]
    return re.sub(r"[^a-z0-9]+", "-", stem.casefold()).strip("-") or "imported-tracker"


def _number(cells: Sequence[str], column: Column, row: int, result: Draft) -> int | None:
    said = _cell(cells, column)
    if said.casefold() in REVIEW_WIDE_NUMBERS:
        return 0
    match = _NUMBER.fullmatch(said.strip())
    if match and int(match[1]) >= 1:
        return int(match[1])
    others = [c for i, c in enumerate(cells) if c and i != column.index]
    why = (
        f"no recommendation number in column {column.letter}"
        if not said
        else f"{said!r} in column {column.letter} is not a recommendation number"
    )
    result.unread.append(f"row {row}: {why} ({_short(others[0]) if others else 'empty'})")
    return None


def _cell(cells: Sequence[str], column: Column) -> str:
    return cells[column.index].strip() if column.index < len(cells) else ""


def _short(text: str, length: int = 40) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= length else flat[: length - 1].rstrip() + "…")


# --- one row's entries ------------------------------------------------------------------------


class _Builder:
    """Collects the draft's sources, recommendations and events, row by row."""

    def __init__(
        self,
        table: Table,
        options: Options,
        ours: bool,
        single: Mapping[str, Column],
        by_field: Mapping[str, list[Column]],
        result: Draft,
    ) -> None:
        self.table, self.options, self.ours, self.single = table, options, ours, single
        self.by_field, self.result = by_field, result
        self.sources: dict[str, dict[str, Any]] = {}
        self.recommendations: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.themes: dict[int, str] = {}
        self.counts = {
            "recommendations": 0,
            "statuses": 0,
            "notes": 0,
            "decisions": 0,
            "promises": 0,
        }

    def row(self, row: int, cells: Sequence[str], number: int) -> None:
        events: list[dict[str, Any]] = []
        home = {"recommendations": "all"} if number == 0 else {"recommendation": number}
        for column in self.by_field.get("response", [])[:1]:
            events += self._response(row, cells, column, home)
        for name in ("status", "implementation", "update"):
            for column in self.by_field.get(name, []):
                if self.ours and name != "update":
                    continue  # RIO's own judgements, not an owner's words (module docs)
                events += self._account(row, cells, column, home, number)
        if number == 0:
            self.events += events
            return
        registration = self._registration(row, cells, number, events)
        if registration is None:
            return
        self.recommendations.append(registration)
        self.counts["recommendations"] += 1
        self.events += events
        theme = self.single.get("theme")
        if theme is not None and _cell(cells, theme):
            self.themes[number] = " ".join(_cell(cells, theme).split())

    def _registration(
        self, row: int, cells: Sequence[str], number: int, events: list[dict[str, Any]]
    ) -> dict[str, Any] | None:
        details_column = self.single.get("details")
        title_column = self.single.get("title")
        details = _cell(cells, details_column) if details_column else ""
        given_title = _cell(cells, title_column) if title_column else ""
        if not details and not given_title:
            self.result.unread.append(f"row {row}: recommendation {number} has no words")
            return None
        head, actions = _actions(details)
        title, text = _title_and_text(head, given_title)
        if not given_title and not self.ours:
            self.result.checks.append(
                f"row {row}: recommendation {number}'s title was made from its words: {title!r}"
            )
        cited = details_column if details and details_column else title_column
        if cited is None:
            return None  # unreachable: one of the two has words (checked above)
        occurred = self._registered_on(row, cells, events)
        key = self._source(row, cited, occurred)
        source = self.single.get("source")
        if source is not None and _cell(cells, source):
            self.sources[key]["note"] = (
                f"the tracker's source for it: {' '.join(_cell(cells, source).split())}"
            )
        entry: dict[str, Any] = {
            "number": number,
            "title": title,
            "text": text,
            "occurred": occurred,
            "source": key,
            "quote": _cell(cells, cited),
        }
        if actions:
            entry["actions"] = [
                {"id": action, "text": words_, "occurred": occurred, "source": key, "quote": quote}
                for action, words_, quote in actions
            ]
        return entry

    def _registered_on(self, row: int, cells: Sequence[str], events: list[dict[str, Any]]) -> date:
        """RIO's export: the date its Source column cites first; else the earliest date the
        row speaks for (the tracker's, or an event's), so every event follows it."""
        source = self.single.get("source")
        first = _cell(cells, source).split("\n")[0] if source else ""
        cited = _CITED_ON.search(first) if self.ours else None
        if cited:
            return date.fromisoformat(cited[1])
        dates: list[date] = [e["occurred"] for e in events]
        if self.options.speaks_for is not None:
            dates.append(self.options.speaks_for)
        if not dates:
            raise self._no_date(row, "the recommendation's registration (no column is dated)")
        return min(dates)

    def _response(
        self, row: int, cells: Sequence[str], column: Column, home: dict[str, Any]
    ) -> list[dict[str, Any]]:
        said = _cell(cells, column)
        if not said:
            return []
        lines = _dated_lines(said) if self.ours else None
        events = []
        for on, decision, quote in lines or [(None, said, said)]:
            occurred = on or self._said_on(row, column)
            entry = {**home, "type": "decision_recorded", "occurred": occurred}
            decided = _DECIDED_BY.fullmatch(decision) if self.ours else None
            entry["decision"] = " ".join((decided["decision"] if decided else decision).split())
            if decided:
                entry["decided_by"] = decided["by"]
            entry |= {"source": self._source(row, column, occurred), "quote": quote}
            events.append(entry)
        self.counts["decisions"] += len(events)
        return events

    def _account(
        self, row: int, cells: Sequence[str], column: Column, home: dict[str, Any], number: int
    ) -> list[dict[str, Any]]:
        """A status or update cell: the owner's account (a status when its words say one,
        else a note), and each due phrase in it proposed as an inferred promise."""
        said = _cell(cells, column)
        if not said:
            return []
        if self.ours:
            return self._our_lines(row, column, said, home)
        occurred = self._said_on(row, column)
        key = self._source(row, column, occurred)
        events: list[dict[str, Any]] = []
        found = status_in(said, prose=column.field.name != "status")
        if found is not None:
            status, because = found
            events.append(
                {**home, "type": "status_reported", "occurred": occurred, "source": key}
                | {"quote": said, "status": status.value}
            )
            self.counts["statuses"] += 1
            self.result.checks.append(
                f"row {row}, {column.letter}{row}: reported {status.words}, from the words "
                f"{because!r}"
            )
        else:
            events.append(
                {**home, "type": "progress_noted", "occurred": occurred, "source": key}
                | {"quote": said, "note": " ".join(said.split())}
            )
            self.counts["notes"] += 1
            self.result.checks.append(
                f"row {row}, {column.letter}{row}: no status words, so a progress note; "
                "make it a status_reported if it says where things stand"
            )
        for index, phrase in enumerate(promised_in(said, occurred), 1):
            sentence = " ".join(phrase.sentence.split())
            events.append(
                {**home, "type": "commitment_made", "occurred": occurred, "source": key}
                | {
                    "quote": phrase.sentence,
                    "commitment": f"{column.letter}{row}-{index}".lower(),
                    "deliverable": sentence,
                    "due": phrase.phrase,
                    "inferred": True,
                }
            )
            self.counts["promises"] += 1
            self.result.checks.append(
                f"row {row}, {column.letter}{row}: inferred promise due {phrase.phrase!r} "
                f"(by {phrase.window.latest}) for recommendation "
                f"{'All' if number == 0 else number}: name it and its deliverable"
            )
        return events

    def _our_lines(
        self, row: int, column: Column, said: str, home: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """RIO's export's notes: one dated line per note and reported status."""
        events = []
        for line in (part.strip() for part in said.split("\n")):
            if not line or _SLIPS.fullmatch(line):
                continue
            dated = _DATED_LINE.fullmatch(line)
            if dated is None:
                self.result.unread.append(
                    f"row {row}, {column.letter}{row}: not a dated line, left out: {_short(line)}"
                )
                continue
            on, rest = date.fromisoformat(dated[1]), dated[2]
            key = self._source(row, column, on)
            reported = _REPORTED.fullmatch(rest)
            if reported and reported["words"] in _STATUS_BY_WORDS:
                status = _STATUS_BY_WORDS[reported["words"]]
                events.append(
                    {**home, "type": "status_reported", "occurred": on, "source": key}
                    | {"quote": line, "status": status.value}
                )
                self.counts["statuses"] += 1
            else:
                events.append(
                    {**home, "type": "progress_noted", "occurred": on, "source": key}
                    | {"quote": line, "note": rest}
                )
                self.counts["notes"] += 1
        return events

    def _said_on(self, row: int, column: Column) -> date:
        said_on = column.said_on or self.options.speaks_for
        if said_on is None:
            raise self._no_date(row, f"what column {column.letter} ({column.header!r}) says")
        return said_on

    def _no_date(self, row: int, what: str) -> TrackerRefused:
        return TrackerRefused(
            f"{self.table.where}: row {row}: no date for {what}: no header names one (as "
            "'Progress update (March 2024)' does); give --date YYYY-MM-DD, the date the "
            "tracker speaks for"
        )

    def _source(self, row: int, column: Column, on: date) -> str:
        """The cell as a source: file, sheet, row and column; dated by what its column
        speaks for (or `on`, the date of what it says, for RIO's own dated lines)."""
        key = f"{column.letter}{row}"
        dated = column.said_on or self.options.speaks_for or on
        existing = self.sources.get(key)
        if existing is None:
            sheet = f", sheet {self.table.sheet!r}" if self.table.sheet else ""
            self.sources[key] = {
                "document": f"Tracker {self.table.file}{sheet}, row {row}, column "
                f"{column.letter} ({' '.join(column.header.split())})",
                "date": dated,
                "file": self.table.file,
            }
        elif existing["date"] < dated:
            existing["date"] = dated
        return key


def _cell_order(address: str) -> tuple[int, int]:
    """A cell address (G12) in reading order: row, then column."""
    letters = address.rstrip("0123456789")
    return int(address[len(letters) :]), len(letters) * 1000 + sum(map(ord, letters))


def _actions(details: str) -> tuple[str, list[tuple[str, str, str]]]:
    """The recommendation's own words and its actions ("Action 1.1: ..."): id, text, quote."""
    markers = list(_ACTION.finditer(details))
    if not markers:
        return details.strip(), []
    actions = []
    for marker, following in zip(markers, [*markers[1:], None], strict=True):
        end = following.start() if following else len(details)
        quote = details[marker.start() : end].strip()
        text = " ".join(details[marker.end() : end].split())
        if text:
            actions.append((marker[1], text, quote))
    return details[: markers[0].start()].strip(), actions


def _title_and_text(head: str, given: str) -> tuple[str, str]:
    """A title column's words; else 'Title: text' (RIO's export writes that); else the first
    sentence, shortened."""
    if given:
        return " ".join(given.split()), " ".join(head.split())
    first, colon, rest = head.partition(": ")
    if colon and len(first) <= 120 and ". " not in first and "\n" not in first:
        return " ".join(first.split()), " ".join(rest.split())
    flat = " ".join(head.split())
    sentence = re.split(r"(?<=[.;])\s", flat, maxsplit=1)[0].rstrip(".;")
    if len(sentence) > TITLE_LENGTH:
        sentence = sentence[: TITLE_LENGTH - 1].rsplit(" ", 1)[0] + "…"
    return sentence, flat


def _dated_lines(said: str) -> list[tuple[date | None, str, str]] | None:
    """RIO's export's "YYYY-MM-DD: words" lines, or None when a line is not dated."""
    lines: list[tuple[date | None, str, str]] = []
    for line in (part.strip() for part in said.split("\n")):
        if not line:
            continue
        dated = _DATED_LINE.fullmatch(line)
        if dated is None:
            return None
        lines.append((date.fromisoformat(dated[1]), dated[2], line))
    return lines


def fields_help() -> str:
    """The fields `--columns` maps to, for the command's help."""
    return "; ".join(f"{f.name}: {f.meaning}" for f in FIELDS)
