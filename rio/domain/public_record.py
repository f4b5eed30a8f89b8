"""The public record's clock: what anyone could have known on a date, from what was published.

RIO keeps three clocks. *Occurred* is when a fact happened (the `as_at` axis), *recorded* is
when RIO recorded it (`known_at`), and *published* is when the document it rests on became
public (`Source.date`, the `public_at` axis). A back-filled programme is recorded today, so
only the third clock answers "what could anyone have known on 1 June 2024?". This module is
the one place that says which facts were public on a date; the fold calls it.

The rules:

- A fact is public on D when its source's publication date is on or before D.
- A correction is a fact too: it applies on D only when its own source was public by D, so
  "as the public record stood" before an erratum shows what was said before it.
- **A source without a publication date is not public on any D**: nothing says it was, and
  the public record must not borrow a fact it cannot date. Such facts are left out, never
  silently: `undated` counts them, and every door that asks `public_at` says how many.
- A fact about a commitment whose promise was not yet public (a revision cited from an early
  document, say, of a promise first published later) is left out with it: there was no
  public promise for it to be about.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from uuid import UUID

from rio.domain import facts as R
from rio.domain.history import effective as corrected
from rio.domain.values import Source


def is_public(source: Source, public_at: date) -> bool:
    """Whether a fact citing `source` was on the public record on `public_at`."""
    return source.date is not None and source.date <= public_at


def effective(
    events: Iterable[R.F], known_at: datetime | None = None, public_at: date | None = None
) -> list[R.F]:
    """The facts as RIO knew them at `known_at`, corrected, in valid-time order, and (with
    `public_at`) only those on the public record that day."""
    if public_at is None:
        return corrected(events, known_at)
    visible = [
        e for e in events if not isinstance(e, R.EventCorrected) or is_public(e.source, public_at)
    ]
    public = [f for f in corrected(visible, known_at) if is_public(f.source, public_at)]
    promised = {f.commitment for f in public if isinstance(f, R.CommitmentMade)}
    return [f for f in public if getattr(f, "commitment", None) in (None, *promised)]


def undated(
    events: Iterable[R.Fact], as_at: date, known_at: datetime | None = None
) -> list[R.Fact]:
    """The facts an `as_at`/`known_at` answer would use whose source has no publication
    date (of any number of recommendations): what "as the public record stood" leaves out
    for want of a date."""
    by_recommendation: dict[UUID, list[R.Fact]] = defaultdict(list)
    for event in events:
        by_recommendation[event.originator_id].append(event)
    return [
        f
        for history in by_recommendation.values()
        for f in corrected(history, known_at)
        if f.occurred <= as_at and f.source.date is None
    ]
