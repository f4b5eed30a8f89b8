"""The slippage chart: pure SVG from timelines, readable without colour and by screen readers."""

from __future__ import annotations

import re
from datetime import date, timedelta
from xml.etree import ElementTree

from hypothesis import given
from hypothesis import strategies as st

from rio.domain.due_window import DueWindow
from rio.domain.values import Source
from rio.reports.answers import Timeline, TimelineStep
from rio.web.chart import _ticks, series_of, slippage_chart

SOURCE = Source("Written answer", date(2023, 11, 20), "launched in April 2024")
SVG = "{http://www.w3.org/2000/svg}"


def window(text: str, earliest: date, latest: date) -> DueWindow:
    return DueWindow(text, earliest, latest)


def step(
    on: date, kind: str, due: DueWindow | None, slip: int | None, unexplained: bool = False
) -> TimelineStep:
    return TimelineStep(on, kind, due, slip, None, unexplained, SOURCE)


APRIL = window("April 2024", date(2024, 4, 1), date(2024, 4, 30))
LATER = window("later in 2024", date(2024, 10, 1), date(2024, 12, 31))
INDUCTION = Timeline(
    1,
    "induction",
    "Induction <scheme> & more",
    APRIL,
    (
        step(date(2023, 11, 20), "promised", APRIL, 0),
        step(date(2024, 10, 1), "revised", LATER, 245, unexplained=True),
        step(date(2025, 1, 15), "delivered", None, None),
    ),
)
UNDATED = Timeline(
    1, "plan", "Delivery plan", None, (step(date(2022, 6, 8), "promised", None, None),)
)


def test_each_dated_commitment_is_a_series_and_undated_ones_are_named() -> None:
    drawn, undated = series_of([INDUCTION, UNDATED], date(2025, 6, 1))
    assert undated == ["plan"]
    (series,) = drawn
    assert [(p.on, p.due, p.hollow) for p in series.points] == [
        (date(2023, 11, 20), date(2024, 4, 30), False),
        (date(2024, 10, 1), date(2024, 12, 31), True),  # unexplained: a hollow marker
    ]
    assert series.end == series.delivered == date(2025, 1, 15)
    assert series.baseline == date(2024, 4, 30)


def test_the_chart_is_well_formed_svg_with_a_title_a_description_and_escaped_text() -> None:
    chart = slippage_chart([INDUCTION, UNDATED], date(2025, 6, 1))
    assert chart is not None
    root = ElementTree.fromstring(str(chart))
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "slippage-title slippage-desc"
    assert root.find(f"{SVG}title") is not None
    desc = root.find(f"{SVG}desc")
    assert desc is not None and desc.text is not None
    assert "Induction <scheme> & more" in desc.text  # escaped in the markup, intact as text
    assert "revised to later in 2024 (by 31 December 2024), +245 days" in desc.text
    assert "unexplained" in desc.text and "delivered 15 January 2025" in desc.text
    assert "No dated promise for: plan." in desc.text
    assert len(root.findall(f".//{SVG}line[@class='chart-baseline']")) == 1
    assert "<scheme>" not in str(chart)


def test_no_dated_promise_means_no_chart() -> None:
    assert slippage_chart([UNDATED], date(2024, 1, 1)) is None
    assert slippage_chart([], date(2024, 1, 1)) is None


def test_ticks_fall_on_the_last_days_of_months_at_most_seven_of_them() -> None:
    """Issue 15: at month ends, where promises fall (ticks at the first of the month put
    a promise of "April 2024" on the May line)."""
    assert _ticks(date(2023, 11, 5), date(2024, 2, 10)) == [
        date(2023, 11, 30),
        date(2023, 12, 31),
        date(2024, 1, 31),
    ]
    assert date(2024, 2, 29) in _ticks(date(2024, 2, 1), date(2024, 3, 1))  # a leap year
    wide = _ticks(date(2020, 1, 1), date(2030, 1, 1))
    assert 1 <= len(wide) <= 7 and all(t.day == 31 and t.month == 12 for t in wide)
    quarters = _ticks(date(2023, 1, 15), date(2024, 6, 1))
    assert quarters and all(t.month in (3, 6, 9, 12) for t in quarters)


def test_a_promise_due_at_a_months_end_sits_on_the_line_of_its_month() -> None:
    chart = str(slippage_chart([INDUCTION], date(2024, 6, 1)))
    root = ElementTree.fromstring(chart)
    ticks = {
        t.text: float(t.get("y") or 0) - 4  # each label sits 4 below its grid line
        for t in root.iter(f"{SVG}text")
        if t.get("text-anchor") == "end" and "chart-tick" in (t.get("class") or "")
    }
    first = root.find(f".//{SVG}g[@class='chart-series']/{SVG}g/{SVG}circle")
    assert first is not None
    assert float(first.get("cy") or 0) == ticks["Apr 2024"]


def test_the_baseline_starts_at_the_first_promise_and_stops_at_the_end() -> None:
    chart = str(slippage_chart([INDUCTION], date(2025, 6, 1)))
    root = ElementTree.fromstring(chart)
    baseline = root.find(f".//{SVG}line[@class='chart-baseline']")
    first = root.find(f".//{SVG}g[@class='chart-series']/{SVG}g/{SVG}circle")
    plot = root.find(f"{SVG}rect[@class='chart-plot']")
    assert baseline is not None and first is not None and plot is not None
    assert float(baseline.get("x1") or 0) == float(first.get("cx") or 0)  # not before it
    assert float(baseline.get("x2") or 0) < float(plot.get("x") or 0) + float(
        plot.get("width") or 0
    )  # ends at the delivery, inside the plot


def test_revisions_made_just_before_the_as_at_date_are_not_squeezed_at_the_right_edge() -> None:
    """The time axis runs on to the latest date now promised (issue 15)."""
    as_at = date(2024, 10, 2)
    chart = str(slippage_chart([INDUCTION], as_at))
    root = ElementTree.fromstring(chart)
    plot = root.find(f"{SVG}rect[@class='chart-plot']")
    assert plot is not None
    right = float(plot.get("x") or 0) + float(plot.get("width") or 0)
    revision = root.findall(f".//{SVG}g[@class='chart-series']/{SVG}g/{SVG}circle")[-1]
    assert right - float(revision.get("cx") or 0) > 0.25 * float(plot.get("width") or 0)


def test_a_single_promise_still_draws_within_the_plot() -> None:
    only = Timeline(2, "one", "One thing", APRIL, (step(date(2024, 1, 1), "promised", APRIL, 0),))
    chart = str(slippage_chart([only], date(2024, 1, 1)))
    coordinates = [float(v) for v in re.findall(r'c[xy]="([0-9.]+)"', chart)]
    assert coordinates and all(0 <= v <= 760 for v in coordinates)


@given(
    made=st.dates(),
    due=st.dates(),
    revised=st.dates(),
    as_at=st.dates(),
)
def test_the_chart_is_total_for_any_dates_on_the_calendar(
    made: date, due: date, revised: date, as_at: date
) -> None:
    """A promise due in year 9999, or a recommendation registered in year 1, still draws a
    chart (issue 13: the board answered 500 with an OverflowError for both)."""
    first = window(due.isoformat(), due, due)
    later = window(revised.isoformat(), revised, revised)
    timeline = Timeline(
        1,
        "far",
        "A commitment at the edge of the calendar",
        first,
        (step(made, "promised", first, 0), step(made, "revised", later, 1)),
    )
    svg = slippage_chart([timeline], as_at)
    assert svg is not None
    tree = ElementTree.fromstring(str(svg))
    ticks = [t.text for t in tree.iter(f"{SVG}text") if "chart-tick" in (t.get("class") or "")]
    assert 0 < len(ticks) <= 15  # at most seven on each axis, and the as-at label


@given(low=st.dates(), high=st.dates())
def test_ticks_are_at_most_seven_last_days_of_months(low: date, high: date) -> None:
    low, high = min(low, high), max(low, high)
    ticks = _ticks(low, high)
    assert len(ticks) <= 7
    assert all((t + timedelta(days=1)).day == 1 if t < date.max else True for t in ticks)
    assert all(low <= t <= high for t in ticks)
    if (high - low).days >= 62:  # a span holding a whole month holds a tick
        assert ticks
