"""What trackers call their columns and how they word a status: the one table of each.

Trackers word the same column differently ("No.", "Rec No.", "Recommendation number"), so a
header is matched by meaning: lower-cased, its punctuation and any bracketed aside dropped,
then looked up here (exactly, else by the longest synonym it contains as whole words). What
this table does not know, `--columns 'HEADER=field'` maps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rio.domain.values import ReportedStatus


@dataclass(frozen=True)
class Field:
    """A kind of column: what it holds, whether a tracker may have several, its synonyms."""

    name: str
    meaning: str
    synonyms: tuple[str, ...]
    repeats: bool = False  # several columns of this kind each count (e.g. dated updates)


FIELDS: tuple[Field, ...] = (
    Field(
        "number",
        "the recommendation's number",
        (
            "no",
            "number",
            "rec no",
            "rec number",
            "recommendation no",
            "recommendation number",
            "recommendation ref",
            "ref",
            "reference",
            "id",
        ),
    ),
    Field("review", "the review a row belongs to (RIO's own export)", ("review", "review key")),
    Field("title", "a short title", ("title", "recommendation title", "short title", "heading")),
    Field(
        "details",
        "the recommendation's words, with its actions",
        (
            "details of recommendation",
            "details",
            "recommendation",
            "recommendation text",
            "recommendation details",
            "text",
            "description",
        ),
    ),
    Field(
        "theme",
        "its theme or type",
        ("type of recommendation", "type", "theme", "category", "topic", "area", "workstream"),
    ),
    Field(
        "response",
        "the government's response",
        (
            "government response",
            "response",
            "government s response",
            "department response",
            "accepted",
        ),
    ),
    Field(
        "implementation",
        "how it is being implemented (RIO's own export: its commitments)",
        ("implementation", "action taken", "actions taken", "implementation plan"),
    ),
    Field("source", "the document it comes from", ("source", "source document", "document")),
    Field(
        "status",
        "where it stands, in the owner's words",
        (
            "extent of implementation",
            "reviewed extent of implementation",
            "status",
            "implementation status",
            "progress status",
            "rag status",
            "rag",
            "current status",
        ),
        repeats=True,
    ),
    Field(
        "update",
        "notes or a progress update",
        (
            "updated notes on implementation",
            "updated notes",
            "notes",
            "note",
            "progress update",
            "update",
            "latest update",
            "progress",
            "comments",
            "commentary",
        ),
        repeats=True,
    ),
)

BY_NAME = {f.name: f for f in FIELDS}
IGNORE = "ignore"  # `--columns 'HEADER=ignore'`: leave a column out


def words(header: str) -> str:
    """A header as the table compares it: lower case, no bracketed aside, no punctuation."""
    text = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", header.casefold())
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


_SYNONYMS = {synonym: f for f in FIELDS for synonym in f.synonyms}


def field_of(header: str) -> Field | None:
    """The field a header means: exactly a synonym, else the longest one it contains."""
    said = words(header)
    if not said:
        return None
    if said in _SYNONYMS:
        return _SYNONYMS[said]
    padded = f" {said} "
    contained = [s for s in _SYNONYMS if f" {s} " in padded and len(s) > 3]
    return _SYNONYMS[max(contained, key=len)] if contained else None


# Status words, in the order they are tried: the first status any of whose phrases the words
# contain is the one reported, so "not implemented" is read before "implemented" and
# "partially implemented" before it too. Completion is read only from a status column's
# words: a note that says "delivered" in passing ("nationally delivered training") is not
# a report that the recommendation is complete.
STATUS_WORDS: tuple[tuple[ReportedStatus, tuple[str, ...]], ...] = (
    (ReportedStatus.NOT_STARTED, ("not started", "not yet started", "not begun", "to start")),
    (
        ReportedStatus.REPORTED_NOT_DELIVERED,
        (
            "not implemented",
            "not yet implemented",
            "not delivered",
            "not yet delivered",
            "not yet published",
            "not met",
            "outstanding",
            "overdue",
        ),
    ),
    (
        ReportedStatus.IN_PROGRESS,
        (
            "in progress",
            "partially implemented",
            "partly implemented",
            "partially",
            "ongoing",
            "underway",
            "under way",
            "incomplete",
            "on track",
            "currently",
            "undergoing",
            "being developed",
            "developing",
        ),
    ),
    (
        ReportedStatus.REPORTED_COMPLETE,
        (
            "fully implemented",
            "implemented",
            "complete",
            "completed",
            "delivered",
            "achieved",
            "met",
            "done",
            "closed",
        ),
    ),
)

_STATUS_PATTERNS = tuple(
    (status, re.compile(r"\b(?:" + "|".join(re.escape(p) for p in phrases) + r")\b", re.I))
    for status, phrases in STATUS_WORDS
)


def status_in(text: str, prose: bool = False) -> tuple[ReportedStatus, str] | None:
    """The status the words report and the words that said it, or None when none do;
    `prose`: a note or update, from which completion is not read."""
    for status, pattern in _STATUS_PATTERNS:
        if prose and status is ReportedStatus.REPORTED_COMPLETE:
            continue
        match = pattern.search(text)
        if match:
            return status, match.group(0)
    return None
