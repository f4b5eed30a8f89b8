from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rio.domain.due_window import DueWindow, parse_due
from rio.domain.errors import InvalidDueDate

SAID = date(2023, 11, 20)
D = date.fromisoformat


@pytest.mark.parametrize(
    ("phrase", "said_on", "earliest", "latest"),
    [
        # Phrases found in the source documents.
        ("April 2024", SAID, "2024-04-01", "2024-04-30"),
        ("by March 2024", SAID, "2023-11-20", "2024-03-31"),
        ("Spring 2025", SAID, "2025-03-01", "2025-05-31"),
        ("Summer 2024", SAID, "2024-06-01", "2024-08-31"),
        ("summer 2025", SAID, "2025-06-01", "2025-08-31"),
        ("2024/25", SAID, "2024-04-01", "2025-03-31"),
        ("2024/5", SAID, "2024-04-01", "2025-03-31"),
        ("later in 2024", SAID, "2024-01-01", "2024-12-31"),
        ("early next year", SAID, "2024-01-01", "2024-04-30"),
        ("autumn/winter 2024/25", SAID, "2024-09-01", "2025-02-28"),
        ("June 2023", SAID, "2023-06-01", "2023-06-30"),
        ("by Summer 2024", SAID, "2023-11-20", "2024-08-31"),
        ("Spring 2024", SAID, "2024-03-01", "2024-05-31"),
        ("March 2024", SAID, "2024-03-01", "2024-03-31"),
        ("2024-04-30", SAID, "2024-04-30", "2024-04-30"),
        # Other forms of the grammar.
        ("2024-25", SAID, "2024-04-01", "2025-03-31"),
        ("2024\u201325", SAID, "2024-04-01", "2025-03-31"),
        ("2024/2025", SAID, "2024-04-01", "2025-03-31"),
        ("FY 2024/25", SAID, "2024-04-01", "2025-03-31"),
        ("2025", SAID, "2025-01-01", "2025-12-31"),
        ("Apr 2024", SAID, "2024-04-01", "2024-04-30"),
        ("Sept 2024", SAID, "2024-09-01", "2024-09-30"),
        ("30 April 2024", SAID, "2024-04-30", "2024-04-30"),
        ("1st Sept 2024", SAID, "2024-09-01", "2024-09-01"),
        ("winter 2024", SAID, "2024-12-01", "2025-02-28"),
        ("winter 2024/25", SAID, "2024-12-01", "2025-02-28"),
        ("winter 2023/24", SAID, "2023-12-01", "2024-02-29"),
        ("autumn/winter 2024", SAID, "2024-09-01", "2025-02-28"),
        ("the summer of 2024", SAID, "2024-06-01", "2024-08-31"),
        ("Q1 2025", SAID, "2025-01-01", "2025-03-31"),
        ("Q4 2024", SAID, "2024-10-01", "2024-12-31"),
        ("H1 2025", SAID, "2025-01-01", "2025-06-30"),
        ("H2 2025", SAID, "2025-07-01", "2025-12-31"),
        ("early 2024", SAID, "2024-01-01", "2024-04-30"),
        ("mid-2024", SAID, "2024-05-01", "2024-08-31"),
        ("late 2024", SAID, "2024-09-01", "2024-12-31"),
        ("the end of 2024", SAID, "2024-09-01", "2024-12-31"),
        ("the start of 2025", SAID, "2025-01-01", "2025-04-30"),
        ("early March 2024", SAID, "2024-03-01", "2024-03-10"),
        ("the middle of March 2024", SAID, "2024-03-11", "2024-03-20"),
        ("late February 2024", SAID, "2024-02-21", "2024-02-29"),
        ("early spring 2025", SAID, "2025-03-01", "2025-03-31"),
        ("late winter 2024/25", SAID, "2025-02-01", "2025-02-28"),
        ("mid Q2 2025", SAID, "2025-05-01", "2025-05-31"),
        ("early 2024/25", SAID, "2024-04-01", "2024-07-31"),
        ("mid 2024/25", SAID, "2024-08-01", "2024-11-30"),
        ("late 2024/25", SAID, "2024-12-01", "2025-03-31"),
        ("by March 2024", D("2024-05-01"), "2024-03-01", "2024-03-31"),
        ("by the end of 2024", SAID, "2023-11-20", "2024-12-31"),
        ("before April 2024", SAID, "2023-11-20", "2024-03-31"),
        ("before the end of 2024", SAID, "2023-11-20", "2024-12-31"),
        ("later in 2024", D("2024-06-10"), "2024-06-10", "2024-12-31"),
        ("later this year", SAID, "2023-11-20", "2023-12-31"),
        ("later in the year", SAID, "2023-11-20", "2023-12-31"),
        ("this year", SAID, "2023-01-01", "2023-12-31"),
        ("next year", SAID, "2024-01-01", "2024-12-31"),
        ("the end of next year", SAID, "2024-09-01", "2024-12-31"),
        ("next month", SAID, "2023-12-01", "2023-12-31"),
        ("next month", D("2023-12-05"), "2024-01-01", "2024-01-31"),
        ("next quarter", SAID, "2024-01-01", "2024-03-31"),
        ("this financial year", SAID, "2023-04-01", "2024-03-31"),
        ("next financial year", D("2024-02-01"), "2024-04-01", "2025-03-31"),
        ("this summer", D("2024-02-01"), "2024-06-01", "2024-08-31"),
        ("this winter", D("2024-01-15"), "2023-12-01", "2024-02-29"),
        ("next spring", SAID, "2024-03-01", "2024-05-31"),
        ("next spring", D("2024-04-01"), "2025-03-01", "2025-05-31"),
        ("next April", SAID, "2024-04-01", "2024-04-30"),
        # Tolerance of case, spacing, prefixes and a full stop.
        ("in April 2024", SAID, "2024-04-01", "2024-04-30"),
        ("from Summer 2024.", SAID, "2024-06-01", "2024-08-31"),
        ("  during   SPRING  2025 . ", SAID, "2025-03-01", "2025-05-31"),
        ("autumn / winter 2024 / 25", SAID, "2024-09-01", "2025-02-28"),
    ],
)
def test_resolves_phrase_to_window(phrase: str, said_on: date, earliest: str, latest: str) -> None:
    window = parse_due(phrase, said_on)

    assert (window.earliest, window.latest) == (D(earliest), D(latest))
    assert window.text == phrase


@pytest.mark.parametrize(
    ("phrase", "said_on", "why"),
    [
        ("sometime soonish", SAID, "not a date"),
        ("", SAID, "empty"),
        ("   ", SAID, "empty"),
        ("later in 2023", D("2024-02-01"), "ended on 2023-12-31"),
        ("Smarch 2024", SAID, "'smarch' is not a month"),
        ("2024-13-01", SAID, "no day 2024-13-01"),
        ("31 February 2024", SAID, "no day 2024-02-31"),
        ("2024/27", SAID, "not consecutive years"),
        ("2024-04", SAID, "not consecutive years"),
        ("by March", SAID, "no year"),
        ("spring 2024/25", SAID, "does not cross from 2024 into 2025"),
        ("Q1 2024/25", SAID, "does not cross from 2024 into 2025"),
        ("winter/spring 2025", SAID, "spring 2025 comes before winter 2025"),
        ("early 30 April 2024", SAID, "divides in three"),
        ("early March/April 2024", SAID, "divides in three"),
        ("FY 2024", SAID, "which financial year"),
        ("next fortnight", SAID, "'fortnight' is not a period"),
        ("next year", D("9999-06-01"), "outside the calendar"),
    ],
)
def test_refuses_phrase_naming_it(phrase: str, said_on: date, why: str) -> None:
    with pytest.raises(InvalidDueDate) as refusal:
        parse_due(phrase, said_on)

    assert refusal.value.phrase == phrase
    assert repr(phrase) in str(refusal.value)
    assert why in str(refusal.value)


def test_accepts_windows_wholly_in_the_past() -> None:
    window = parse_due("June 2023", SAID)

    assert window.latest < SAID


@pytest.mark.parametrize(
    ("phrase", "edtf"),
    [
        ("2024-04-30", "2024-04-30"),
        ("April 2024", "2024-04"),
        ("2025", "2025"),
        ("Spring 2025", "2025-21"),
        ("Summer 2024", "2024-22"),
        ("autumn 2024", "2024-23"),
        ("winter 2024/25", "2024-24"),
        ("2024/25", "2024-04-01/2025-03-31"),
        ("Q1 2025", "2025-01-01/2025-03-31"),
        ("by March 2024", "2023-11-20/2024-03-31"),
    ],
)
def test_gives_edtf_where_it_fits(phrase: str, edtf: str) -> None:
    assert parse_due(phrase, SAID).edtf == edtf


def test_serialises_text_bounds_and_edtf() -> None:
    window = parse_due("autumn/winter 2024/25", SAID)

    assert window.to_dict() == {
        "text": "autumn/winter 2024/25",
        "earliest": "2024-09-01",
        "latest": "2025-02-28",
        "edtf": "2024-09-01/2025-02-28",
    }


def test_reads_a_stored_window_without_its_edtf() -> None:
    stored = {"text": "Spring 2025", "earliest": "2025-03-01", "latest": "2025-05-31"}

    assert DueWindow.from_dict(stored) == parse_due("Spring 2025", SAID)


@pytest.mark.parametrize(
    "stored",
    [
        {"earliest": "2025-03-01", "latest": "2025-05-31"},
        {"text": "", "earliest": "2025-03-01", "latest": "2025-05-31"},
        {"text": "Spring 2025", "latest": "2025-05-31"},
        {"text": "Spring 2025", "earliest": "20250301", "latest": "2025-05-31"},
        {"text": "Spring 2025", "earliest": "2025-02-30", "latest": "2025-05-31"},
        {"text": "Spring 2025", "earliest": "2025-06-01", "latest": "2025-05-31"},
        {"text": "Spring 2025", "earliest": "2025-03-01", "latest": "2025-05-31", "edtf": "2025"},
        {"text": "Spring 2025", "earliest": "2025-03-01", "latest": "2025-05-31", "due": "x"},
    ],
)
def test_refuses_malformed_stored_window(stored: dict[str, str]) -> None:
    with pytest.raises(InvalidDueDate):
        DueWindow.from_dict(stored)


def test_refuses_a_window_that_ends_before_it_starts() -> None:
    with pytest.raises(InvalidDueDate, match="after its latest"):
        DueWindow("April 2024", D("2024-04-30"), D("2024-04-01"))


# Phrases generated from the grammar, with the statement date they are resolved against.

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
SEASONS = ["spring", "summer", "autumn", "winter"]
NAMES = [*MONTHS, *(m[:3] for m in MONTHS), *SEASONS, "Q1", "Q2", "Q3", "Q4", "H1", "H2"]
QUALIFIERS = ["early", "mid", "late", "the start of", "the middle of", "the end of", "mid-"]
RELATIVE = ["year", "month", "quarter", "financial year", *SEASONS, *MONTHS]

years = st.integers(1990, 2100)
said_ons = st.dates(date(1990, 1, 1), date(2100, 12, 31))


def split_year(year: int, style: int) -> str:
    following = year + 1
    return [
        f"{year}/{following % 100:02d}",
        f"{year}/{following % 10}",
        f"{year}-{following % 100:02d}",
        f"{year}/{following}",
    ][style]


styles = st.integers(0, 3)
named_periods = st.builds(lambda name, year: f"{name} {year}", st.sampled_from(NAMES), years)
financial_years = st.builds(split_year, years, styles)
turn_of_year = st.builds(
    lambda names, year, style: f"{names} {split_year(year, style)}",
    st.sampled_from(["winter", "autumn/winter", "winter/spring", "Q4/Q1", "Oct-Mar"]),
    years,
    styles,
)
relative = st.builds(
    lambda which, what: f"{which} {what}",
    st.sampled_from(["this", "next", "the"]),
    st.sampled_from(RELATIVE),
)
# Periods of whole months, which early/mid/late can split.
periods = st.one_of(
    named_periods, financial_years, turn_of_year, relative, years.map(str), st.just("next year")
)
days = st.one_of(
    st.dates(date(1990, 1, 1), date(2100, 12, 31)).map(date.isoformat),
    st.dates(date(1990, 1, 1), date(2100, 12, 31)).map(
        lambda day: f"{day.day} {MONTHS[day.month - 1]} {day.year}"
    ),
)
qualified = st.builds(lambda q, p: f"{q} {p}", st.sampled_from(QUALIFIERS), periods)
windows = st.one_of(days, periods, qualified)
CASES: list[Callable[[str], str]] = [str.lower, str.upper, str.title, str]
modes = st.sampled_from(["", "by ", "before ", "in ", "during ", "from "])


@st.composite
def typed_phrases(draw: st.DrawFn) -> tuple[str, str, date]:
    """A phrase as the grammar writes it, the same phrase untidily typed, and a date it is
    said on."""
    said_on = draw(said_ons)
    if draw(st.booleans()):
        words = draw(modes) + draw(windows)
    else:
        later = draw(st.integers(said_on.year, 2100))
        words = draw(st.sampled_from([f"later in {later}", "later this year"]))
    case = draw(st.sampled_from(CASES))
    gap = " " * draw(st.integers(1, 3))
    phrase = gap.join(case(words).split(" "))
    if draw(st.booleans()):
        phrase = f" {phrase}. "
    return words, phrase, said_on


def phrases() -> st.SearchStrategy[tuple[str, date]]:
    """A phrase from the grammar, untidily typed, and a date it is said on."""
    return typed_phrases().map(lambda typed: (typed[1], typed[2]))


@given(phrases())
def test_generated_phrases_resolve_to_an_ordered_window(case: tuple[str, date]) -> None:
    phrase, said_on = case

    window = parse_due(phrase, said_on)

    assert window.earliest <= window.latest
    assert window.text == phrase


@given(typed_phrases())
def test_resolving_is_deterministic(case: tuple[str, str, date]) -> None:
    """The window depends on the words and the day alone: not on case, spacing or a full stop."""
    words, phrase, said_on = case

    typed, tidy = parse_due(phrase, said_on), parse_due(words, said_on)

    assert (typed.earliest, typed.latest) == (tidy.earliest, tidy.latest)
    assert typed.text == phrase  # the words are kept as they were said


@given(phrases())
def test_serialised_window_reads_back_equal(case: tuple[str, date]) -> None:
    window = parse_due(*case)

    assert DueWindow.from_dict(window.to_dict()) == window
    assert DueWindow.from_dict(window.to_dict()).to_dict() == window.to_dict()


@given(periods, said_ons)
def test_early_mid_late_split_a_period_into_three_touching_thirds(
    period: str, said_on: date
) -> None:
    whole = parse_due(period, said_on)
    early, mid, late = (parse_due(f"{q} {period}", said_on) for q in ("early", "mid", "late"))

    assert early.earliest == whole.earliest
    assert mid.earliest == early.latest + timedelta(days=1)
    assert late.earliest == mid.latest + timedelta(days=1)
    assert late.latest == whole.latest


@given(st.one_of(days, periods), said_ons)
def test_by_and_before_keep_to_the_period(window: str, said_on: date) -> None:
    period = parse_due(window, said_on)

    by = parse_due(f"by {window}", said_on)
    before = parse_due(f"before {window}", said_on)

    assert by.latest == period.latest
    assert by.earliest == min(said_on, period.earliest)
    assert before.latest == period.earliest - timedelta(days=1)


@given(st.text(max_size=40), st.dates())
def test_any_text_either_resolves_or_is_refused_by_name(phrase: str, said_on: date) -> None:
    try:
        window = parse_due(phrase, said_on)
    except InvalidDueDate as refusal:
        assert refusal.phrase == phrase
    else:
        assert window.earliest <= window.latest
