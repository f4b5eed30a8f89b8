"""Scenario files: a bad one names FILE:LINE and records nothing; a grown one records the rest.

Each malformed case is written with `#!` on the line(s) the error may rightly name: the
offending key when the reader can see it, else the first line of the event a domain rule
refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from rio.application.batch import BatchRefused, BatchResult
from rio.application.service import RIO
from rio.domain import clock
from rio.domain.errors import DomainError
from rio.scenario import Cited, ScenarioError, batches, read
from tests.conftest import MESSENGER, SEEDS

# Three recommendations, each with valid events: every bad event below is appended after them.
BASE = """\
format: rio-scenario/1
review:
  key: test-review
  title: A review with three recommendations
sources:
  minutes:
    document: Board minutes
    date: 2023-01-10
  answer:
    document: Written answer
    date: 2023-03-01
recommendations:
  - number: 1
    title: First
    text: The first recommendation.
    occurred: 2023-01-10
    source: minutes
    quote: "first"
  - number: 2
    title: Second
    text: The second recommendation.
    occurred: 2023-01-10
    source: minutes
    quote: "second"
  - number: 3
    title: Third
    text: The third recommendation.
    occurred: 2023-01-10
    source: minutes
    quote: "third"
events:
  - recommendation: 1
    type: decision_recorded
    occurred: 2023-01-10
    source: minutes
    quote: "accepted"
    decision: accepted
  - recommendation: 1
    type: commitment_made
    occurred: 2023-03-01
    source: answer
    quote: "launched in April 2024"
    commitment: alpha
    deliverable: Alpha launched
    due: April 2024
  - recommendation: 2
    type: commitment_made
    occurred: 2023-03-01
    source: answer
    quote: "beta by Spring 2024"
    commitment: beta
    deliverable: Beta
    due: Spring 2024
  - recommendation: 3
    type: owner_assigned
    occurred: 2023-03-01
    source: answer
    quote: "led by the department"
    owner: The department
    role: accountable
  - recommendation: 2
    type: milestone_delivered
    occurred: 2023-04-01
    source: answer
    quote: "beta was published"
    commitment: beta
    evidence: Beta published
  - recommendation: 1
    type: commitment_revised
    occurred: 2023-05-01
    source: answer
    quote: "later in 2024"
    commitment: alpha
    due: later in 2024
    reason: the pilot overran
"""


def appended(event: str) -> str:
    return BASE + event


def future_event() -> str:
    tomorrow_and_then_some = clock.today() + timedelta(days=3)
    return appended(
        f"""\
  - recommendation: 3  #!
    type: progress_noted
    occurred: {tomorrow_and_then_some.isoformat()}  #!
    source: answer
    quote: "not yet"
    note: A note from the future
"""
    )


MALFORMED: dict[str, tuple[Callable[[], str], str]] = {
    "bad-yaml-syntax": (
        lambda: BASE.replace('quote: "accepted"', 'quote: "accepted" and more  #!'),
        "not valid YAML",
    ),
    "missing-format": (
        lambda: BASE.replace("format: rio-scenario/1\nreview:", "review:  #!"),
        "format",
    ),
    "unknown-field": (
        lambda: appended(
            """\
  - recommendation: 3
    type: progress_noted
    occurred: 2023-06-01
    source: answer
    quote: "noted"
    note: Noted
    colour: amber  #!
"""
        ),
        "colour",
    ),
    "unknown-event-type": (
        lambda: appended(
            """\
  - recommendation: 3  #!
    type: commitment_forgotten  #!
    occurred: 2023-06-01
    source: answer
    quote: "forgotten"
    commitment: gamma
"""
        ),
        "commitment_forgotten",
    ),
    "due-after-the-calendar": (
        lambda: appended(
            """\
  - recommendation: 3  #!
    type: commitment_made
    occurred: 2023-06-01
    source: answer
    quote: "gamma by 9999"
    commitment: gamma
    deliverable: Gamma
    due: "9999"  #!
"""
        ),
        "2199-12-31",
    ),
    "unknown-source-key": (
        lambda: appended(
            """\
  - recommendation: 3
    type: progress_noted
    occurred: 2023-06-01
    source: hearsay  #!
    quote: "noted"
    note: Noted
"""
        ),
        "hearsay",
    ),
    "unknown-recommendation": (
        lambda: appended(
            """\
  - recommendation: 9  #!
    type: progress_noted
    occurred: 2023-06-01
    source: answer
    quote: "noted"
    note: Noted
"""
        ),
        "recommendation 9",
    ),
    "unparseable-due-phrase": (
        lambda: appended(
            """\
  - recommendation: 3  #!
    type: commitment_made
    occurred: 2023-06-01
    source: answer
    quote: "by Smarch 2024"
    commitment: gamma
    deliverable: Gamma
    due: Smarch 2024  #!
"""
        ),
        "Smarch 2024",
    ),
    "delivery-of-unknown-commitment": (
        lambda: appended(
            """\
  - recommendation: 3  #!
    type: milestone_delivered
    occurred: 2023-06-01
    source: answer
    quote: "delta was done"
    commitment: delta  #!
    evidence: Delta done
"""
        ),
        "delta",
    ),
    "event-dated-in-the-future": (future_event, "future"),
}


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(rio: RIO, path: Path) -> BatchResult:
    scenario, lines = read(path)
    return rio.record_batch(batches(scenario, lines, str(path), "test"))


def marked_lines(text: str) -> set[int]:
    return {number for number, line in enumerate(text.splitlines(), start=1) if "#!" in line}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_file_names_its_line_and_records_nothing(
    rio: RIO, tmp_path: Path, case: str
) -> None:
    make, says = MALFORMED[case]
    text = make()
    path = write(tmp_path, text)

    with pytest.raises(DomainError) as refused:
        load(rio, path)

    error = refused.value
    assert isinstance(error, ScenarioError | BatchRefused)
    message = str(error)
    assert "\n" not in message, message
    named = {line for line in marked_lines(text) if message.startswith(f"{path}:{line}:")}
    assert named, f"expected {path}:<one of {sorted(marked_lines(text))}>, got {message!r}"
    assert says in message
    assert rio.position() == 0


def test_a_file_that_is_not_a_mapping_is_refused_at_line_1(rio: RIO, tmp_path: Path) -> None:
    path = write(tmp_path, "- just\n- a list\n")

    with pytest.raises(ScenarioError, match=rf"^{re.escape(str(path))}:1: "):
        load(rio, path)
    assert rio.position() == 0


def test_the_valid_base_file_loads(rio: RIO, tmp_path: Path) -> None:
    result = load(rio, write(tmp_path, BASE))

    assert result.recommendations == [1, 2, 3]
    assert result.recorded == rio.position() == 3 + 6


def test_a_file_that_grew_by_one_event_records_exactly_one(rio: RIO, tmp_path: Path) -> None:
    path = write(tmp_path, BASE)
    load(rio, path)
    before = rio.position()
    write(
        tmp_path,
        appended(
            """\
  - recommendation: 3
    type: progress_noted
    occurred: 2023-06-01
    source: answer
    quote: "work continues"
    note: Work continues
"""
        ),
    )

    result = load(rio, path)

    assert (result.recorded, result.already_recorded) == (1, before)
    assert rio.position() == before + 1


def test_a_grown_file_with_a_bad_last_event_records_none_of_its_new_events(
    rio: RIO, tmp_path: Path
) -> None:
    path = write(tmp_path, BASE)
    load(rio, path)
    before = rio.position()
    grown = appended(
        """\
  - recommendation: 1
    type: progress_noted
    occurred: 2023-06-01
    source: answer
    quote: "alpha on its way"
    note: Alpha on its way
  - recommendation: 2
    type: progress_noted
    occurred: 2023-06-01
    source: answer
    quote: "beta in use"
    note: Beta in use
  - recommendation: 3  #!
    type: milestone_delivered
    occurred: 2023-06-02
    source: answer
    quote: "delta was done"
    commitment: delta
    evidence: Delta done
"""
    )
    write(tmp_path, grown)

    with pytest.raises(
        BatchRefused, match=rf"^{re.escape(str(path))}:{min(marked_lines(grown))}: "
    ):
        load(rio, path)
    assert rio.position() == before


def test_editing_an_already_recorded_event_is_refused(rio: RIO, tmp_path: Path) -> None:
    note = """\
  - recommendation: 3
    type: progress_noted
    occurred: 2023-06-01
    source: answer
    quote: "work continues"
    note: {}
"""
    path = write(tmp_path, appended(note.format("Work continues")))
    load(rio, path)
    before = rio.position()
    write(tmp_path, appended(note.format("Work continues, slowly")))

    with pytest.raises(DomainError, match=rf"^{re.escape(str(path))}:\d+: "):
        load(rio, path)
    assert rio.position() == before


def test_every_quote_in_the_messenger_scenario_is_verbatim_from_its_seed_file() -> None:
    if not SEEDS.is_dir():
        pytest.skip(f"the seed documents are not here: {SEEDS}")
    scenario, lines = read(MESSENGER)
    cited: list[tuple[tuple[str | int, ...], Cited]] = []
    for index, rec in enumerate(scenario.recommendations):
        cited.append((("recommendations", index), rec))
        cited += [
            (("recommendations", index, "actions", i), action)
            for i, action in enumerate(rec.actions)
        ]
    cited += [(("events", index), event) for index, event in enumerate(scenario.events)]

    def collapse(text: str) -> str:
        return " ".join(text.split())

    seeds: dict[str, str] = {}
    checked = 0
    missing = []
    for path, item in cited:
        file = scenario.sources[item.source].file
        if file is None:
            continue
        if file not in seeds:
            seeds[file] = collapse((SEEDS / file).read_text(encoding="utf-8"))
        checked += 1
        if collapse(item.quote) not in seeds[file]:
            missing.append(f"{MESSENGER.name}:{lines[path]}: not in {file}: {item.quote!r}")

    assert checked > 0
    assert missing == []
