"""One owner's digest: the alerts of a run as a note from the secretariat, in text and HTML.

The Message-ID is derived from the alert ids it carries, so the same digest sent twice
(a crash between the mail server's "OK" and RIO recording it) is recognisable as such.
"""

from __future__ import annotations

import hashlib
import textwrap
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from functools import cache
from typing import Any, Protocol
from urllib.parse import quote
from uuid import UUID

import jinja2

from rio.domain.alert_policy import AlertKind, day_in_words
from rio.domain.due_window import DueWindow
from rio.domain.values import REVIEW_WIDE, Source

WIDTH = 78

_SHORT = {
    AlertKind.ESCALATION: "escalated",
    AlertKind.OVERDUE: "overdue",
    AlertKind.UNEXPLAINED_SLIP: "date moved without a reason",
    AlertKind.SLIPPED: "date moved later",
    AlertKind.DUE_SOON: "due soon",
    AlertKind.STALE: "no recent update",
}


class AlertLike(Protocol):
    """What a digest needs of an alert: a recorded `Alert`, or a policy finding (dry run)."""

    @property
    def id(self) -> UUID: ...
    @property
    def kind(self) -> str: ...
    @property
    def owner(self) -> str: ...
    @property
    def review(self) -> str: ...
    @property
    def number(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def commitment(self) -> str: ...
    @property
    def deliverable(self) -> str: ...
    @property
    def due(self) -> DueWindow | None: ...
    @property
    def previous_due(self) -> DueWindow | None: ...
    @property
    def source(self) -> Source | None: ...
    @property
    def why(self) -> str: ...


@dataclass(frozen=True)
class Digest:
    owner: str
    recipients: tuple[str, ...]
    as_at: date
    alert_ids: tuple[UUID, ...]
    message_id: str
    subject: str
    text: str
    html: str

    def email(self, sender: str, now: datetime) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = self.subject
        message["From"] = sender
        message["To"] = ", ".join(formataddr((self.owner, a)) for a in self.recipients)
        message["Date"] = format_datetime(now)
        message["Message-ID"] = self.message_id
        # RFC 3834: an automatic message; out-of-office replies should not answer it.
        message["Auto-Submitted"] = "auto-generated"
        message["X-RIO-Alert-Ids"] = ", ".join(str(i) for i in self.alert_ids)
        message.set_content(self.text)
        message.add_alternative(self.html, subtype="html")
        return message


def message_id(alert_ids: Sequence[UUID]) -> str:
    """SHA-256 of the sorted alert ids, cut to 160 bits so the header never folds."""
    digest = hashlib.sha256(",".join(sorted(str(i) for i in alert_ids)).encode()).hexdigest()
    return f"<{digest[:40]}@rio>"


def compose(
    owner: str,
    recipients: Sequence[str],
    alerts: Sequence[AlertLike],
    as_at: date,
    base_url: str,
) -> Digest:
    ordered = sorted(alerts, key=lambda a: (_kind(a).rank, a.review, a.number, a.commitment))
    ids = tuple(a.id for a in ordered)
    mid = message_id(ids)
    counts = Counter(_kind(a) for a in ordered)
    groups = _matters(ordered)
    items = [_item(group, base_url) for group in groups]
    matter_counts = Counter(_kind(group[0]) for group in groups)
    summary = ", ".join(f"{matter_counts[k]} {_SHORT[k]}" for k in AlertKind if matter_counts[k])
    n = len(items)
    matters = "one matter that needs" if n == 1 else f"{n} matters that need"
    context = {
        "owner": owner,
        "subject": (
            f"RIO: {_plural(n, 'item')} for {owner}'s attention ({summary}), "
            f"as at {day_in_words(as_at)}"
        ),
        "heading": f"Review Implementation Office: commitments of {owner}, as at "
        f"{day_in_words(as_at)}",
        "summary": f"In short: {_plural(n, 'matter')}, {summary}.",
        "opening": (
            f"The Office's record, as it stood on {day_in_words(as_at)}, shows {matters} "
            "your attention. Each is set out below with the reason it is raised, the date "
            "that was promised and the document the promise rests on."
        ),
        "closing": _closing(counts),
        "items": items,
        "message_id": mid,
        "ids": [str(i) for i in ids],
    }
    env = _environment()
    return Digest(
        owner=owner,
        recipients=tuple(recipients),
        as_at=as_at,
        alert_ids=ids,
        message_id=mid,
        subject=str(context["subject"]),
        text=env.get_template("digest.txt.j2").render(context),
        html=env.get_template("digest.html.j2").render(context),
    )


BOARD = "/board"  # the board's pages (rio.web.routes): a browser's view of the record


def record_link(base_url: str, review: str, number: int) -> str:
    """The recommendation's board page: what a reader following the link can open."""
    return f"{base_url.rstrip('/')}{BOARD}/{quote(review, safe='')}/{number}"


def _matters(alerts: Sequence[AlertLike]) -> list[list[AlertLike]]:
    """Alerts that say the same thing (one promise shared by several recommendations) as
    one matter, in the order of their first alert."""
    groups: dict[tuple[object, ...], list[AlertLike]] = {}
    for alert in alerts:
        source = alert.source
        key = (
            alert.kind,
            alert.review,
            alert.deliverable,
            alert.due,
            alert.previous_due,
            alert.why,
            (source.document, source.date, source.quote) if source else None,
        )
        groups.setdefault(key, []).append(alert)
    return list(groups.values())


def _item(alerts: Sequence[AlertLike], base_url: str) -> dict[str, Any]:
    first = alerts[0]
    source = first.source
    if first.number == REVIEW_WIDE:  # the review's own stream: a promise of the whole review
        about = f"{first.review}: {first.title}"
    elif len(alerts) == 1:
        about = f"{first.review}, recommendation {first.number}: {first.title}"
    else:
        numbers = _and([str(a.number) for a in alerts])
        about = f"{first.review}, recommendations {numbers}"
    return {
        "label": _kind(first).label,
        "recommendation": about,
        "recommendations": [
            {
                "number": a.number,
                "title": a.title,
                "link": record_link(base_url, a.review, a.number),
            }
            for a in alerts
        ],
        "deliverable": first.deliverable,
        "why": first.why,
        "due": _window(first.due),
        "previous_due": _window(first.previous_due) if first.previous_due else None,
        "source": _source(source),
        "quote": " ".join(source.quote.split()) if source and source.quote else None,
        "url": source.url if source else None,
        "link": record_link(base_url, first.review, first.number),
    }


def _and(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _closing(counts: Counter[AlertKind]) -> str:
    text = (
        "If any of this is out of date (delivered, re-planned, or now in someone else's "
        "hands), please reply with the evidence, or the revised date and the reason for it, "
        "and the record will be brought up to date."
    )
    if counts[AlertKind.UNEXPLAINED_SLIP]:
        text += (
            " Where a date has moved, HM Treasury's DAO 02/20 asks that the reason be given, "
            "so that the record can show it."
        )
    return text


def _window(window: DueWindow | None) -> str:
    if window is None:
        return "no date promised"
    if window.earliest == window.latest:
        return day_in_words(window.latest)
    return f"{window.text} (by {day_in_words(window.latest)})"


def _source(source: Source | None) -> str:
    if source is None:
        return "not recorded"
    return f"{source.document}, {day_in_words(source.date)}" if source.date else source.document


def _kind(alert: AlertLike) -> AlertKind:
    return AlertKind(alert.kind)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _wrap(text: str, start: int = 0, indent: int | None = None) -> str:
    """Fill `text` to WIDTH; the template has already written `start` columns of the line."""
    indent = start if indent is None else indent
    filled = textwrap.fill(
        " ".join(str(text).split()),
        width=WIDTH,
        initial_indent=" " * start,
        subsequent_indent=" " * indent,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return filled[start:]


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("rio.alerts", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["wrap"] = _wrap
    return env
