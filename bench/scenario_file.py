"""A large scenario file shaped like scenarios/messenger-review.yaml, written as a stream.

Issue 13 item 5: a 58.6 MB file with 70,000 recommendations did not load in ten minutes.
This writes such a file (about 840 bytes per recommendation with its events, as there) for
the load benchmark (bench/scenario_load.py) and, scaled down, for the tests. Deterministic:
the same arguments write the same bytes.

    python bench/scenario_file.py --recommendations 70000 --out /tmp/big.yaml
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import TextIO

HEADER = """\
# A synthetic review shaped like scenarios/messenger-review.yaml (bench/scenario_file.py).
format: rio-scenario/1

review:
  key: {key}
  title: "A very large review: {count} recommendations"

sources:
  review:
    document: "The review itself (independent report)"
    date: 2022-06-08
    url: https://www.gov.uk/government/publications/a-very-large-review
  answer:
    document: "Written parliamentary answer on the review's implementation"
    date: 2023-11-20
  tracker:
    document: "Table of recommendations with notes on implementation"
    date: 2024-10-01

recommendations:
"""

RECOMMENDATION = """\
  - number: {n}
    title: Leadership interventions {n}
    text: More collaborative behaviours are required ({n}).
    occurred: 2022-06-08
    source: review
    quote: "{n}. Leadership"
"""

ACTION = """\
    actions:
      - id: "{n}.1"
        text: An induction for all who join ({n}).
        occurred: 2022-06-08
        source: review
        quote: "An induction for all who join."
"""

REVIEW_WIDE = """\
  - recommendations: all
    type: commitment_made
    occurred: 2022-06-08
    source: review
    quote: "This report will be followed by a delivery plan with clear timelines."
    commitment: delivery-plan
    deliverable: Delivery plan with clear timelines for the accepted recommendations
"""

EVENTS = """\
  - recommendation: {n}
    type: decision_recorded
    occurred: 2022-06-08
    source: review
    quote: "accepting all the recommendations"
    decision: accepted
  - recommendation: {n}
    type: commitment_made
    occurred: 2023-11-20
    source: answer
    quote: "to be published {due}"
    commitment: induction
    deliverable: Framework published
    due: {due}
"""

OUTCOMES = (
    """\
  - recommendation: {n}
    type: milestone_delivered
    occurred: {when}
    source: tracker
    quote: "It was published."
    commitment: induction
    evidence: Framework published
""",
    """\
  - recommendation: {n}
    type: commitment_revised
    occurred: {when}
    source: tracker
    quote: "now expected later in 2025"
    commitment: induction
    due: later in 2025
""",
    """\
  - recommendation: {n}
    type: status_reported
    occurred: {when}
    source: tracker
    quote: "In progress."
    commitment: induction
    status: in_progress
""",
)

DUES = ("April 2024", "Spring 2024", "by March 2024", "2024/25")

# Near the end of the file and refused only when it is recorded: revising a commitment the
# recommendation never made (the reader cannot see that; the aggregate can).
REFUSED_LAST = """\
  - recommendation: {n}
    type: commitment_revised
    occurred: 2024-10-01
    source: tracker
    quote: "The never-promised thing is late."
    commitment: never-promised
    due: later in 2025
"""


def recommendation_text(n: int) -> str:
    """Every other recommendation lists an action, as the review lists some and not others."""
    return RECOMMENDATION.format(n=n) + (ACTION.format(n=n) if n % 2 == 0 else "")


def event_text(n: int) -> str:
    when = date(2024, 1, 1) + timedelta(days=n % 270)
    outcome = OUTCOMES[n % len(OUTCOMES)].format(n=n, when=when.isoformat())
    return EVENTS.format(n=n, due=DUES[n % len(DUES)]) + outcome


def chunks(count: int, key: str = "large-review", refused_last: bool = False) -> Iterator[str]:
    """The file's text, a recommendation at a time; with `refused_last`, the last event is
    one the aggregate refuses (so a load must record nothing)."""
    yield HEADER.format(key=key, count=count)
    for n in range(1, count + 1):
        yield recommendation_text(n)
    yield "\nevents:\n" + REVIEW_WIDE
    for n in range(1, count + 1):
        yield event_text(n)
    if refused_last:
        yield REFUSED_LAST.format(n=count)


def write(path: Path, count: int, key: str = "large-review", refused_last: bool = False) -> Path:
    with path.open("w", encoding="utf-8") as out:
        write_to(out, count, key, refused_last)
    return path


def write_to(
    out: TextIO, count: int, key: str = "large-review", refused_last: bool = False
) -> None:
    for chunk in chunks(count, key, refused_last):
        out.write(chunk)


def events_per_file(count: int) -> int:
    """Events a load of the file records: per recommendation its registration, its action
    (every other one) and three events; the review's own stream its registration and one
    promise."""
    return count * 4 + count // 2 + 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recommendations", type=int, default=70_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--refused-last", action="store_true")
    args = parser.parse_args()
    write(args.out, args.recommendations, refused_last=args.refused_last)
    size = args.out.stat().st_size
    print(f"{args.out}: {args.recommendations:,} recommendations, {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
