"""The slippage chart: how each promised date moved, drawn as SVG on the server.

x is the date each promise or revision was made; y is the latest date it promised. Each
commitment is a step line that holds its promise until the next revision, with a dashed
reference line at its first promise (the baseline). Colour is never the only cue: each
commitment has its own marker shape, and the chart carries a <title> and a <desc> that
say in words what it shows.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

from rio.reports.answers import Timeline

WIDTH, HEIGHT = 760, 380
LEFT, RIGHT, TOP, BOTTOM = 112, 24, 34, 56
# Okabe-Ito: told apart by people with the common colour-vision deficiencies.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
SHAPES = ("circle", "square", "triangle", "diamond")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Point:
    on: date  # when the promise (or revision) was made
    due: date  # the latest date it promised
    label: str  # what happened, in words, for the marker's tooltip and the description
    hollow: bool = False  # an unexplained revision


@dataclass(frozen=True)
class Series:
    commitment: str
    deliverable: str
    baseline: date
    baseline_text: str
    points: tuple[Point, ...]
    end: date  # where the last promise stops: delivery, withdrawal or the as-at date
    delivered: date | None


def long_date(day: date) -> str:
    return f"{day.day} {day.strftime('%B')} {day.year}"


def series_of(timelines: Iterable[Timeline], as_at: date) -> tuple[list[Series], list[str]]:
    """The commitments that have a dated promise, and the names of those that have none."""
    drawn: list[Series] = []
    undated: list[str] = []
    for line in timelines:
        if line.baseline is None:
            undated.append(line.commitment)
            continue
        points: list[Point] = []
        end = as_at
        delivered = None
        for step in line.steps:
            if step.kind in ("delivered", "withdrawn"):
                end = step.occurred
                delivered = step.occurred if step.kind == "delivered" else None
                continue
            if step.due is None:
                continue
            slip = f", {step.slip_days:+d} days against the first promise" if step.slip_days else ""
            why = (
                ", unexplained"
                if step.unexplained
                else (f", because {step.reason}" if step.reason else "")
            )
            verb = "promised" if step.kind == "promised" else "revised to"
            points.append(
                Point(
                    step.occurred,
                    step.due.latest,
                    f"{long_date(step.occurred)}: {verb} {step.due.text} "
                    f"(by {long_date(step.due.latest)}){slip}{why}",
                    hollow=step.unexplained,
                )
            )
        if not points:
            undated.append(line.commitment)
            continue
        drawn.append(
            Series(
                line.commitment,
                line.deliverable,
                line.baseline.latest,
                line.baseline.text,
                tuple(points),
                max(end, points[-1].on),
                delivered,
            )
        )
    return drawn, undated


def slippage_chart(
    timelines: Iterable[Timeline], as_at: date, *, ident: str = "slippage"
) -> Markup | None:
    """The chart as inline SVG, or None when no commitment has a dated promise."""
    drawn, undated = series_of(timelines, as_at)
    if not drawn:
        return None
    xs = [p.on for s in drawn for p in s.points] + [s.end for s in drawn]
    ys = [p.due for s in drawn for p in s.points] + [s.baseline for s in drawn]
    ys += [s.delivered for s in drawn if s.delivered is not None]
    x0, x1 = _pad(min(xs), _x_end(drawn, min(xs), max(xs)))
    y0, y1 = _pad(min(ys), max(ys))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: date) -> float:
        return round(LEFT + (day - x0).days / (x1 - x0).days * plot_w, 1)

    def y(day: date) -> float:
        return round(TOP + plot_h - (day - y0).days / (y1 - y0).days * plot_h, 1)

    title = "Slippage: the latest date promised, at each promise and revision"
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(_describe(drawn, undated, as_at))}</desc>',
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" class="chart-plot"/>',
    ]
    for tick in _ticks(y0, y1):
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(tick)}" y2="{y(tick)}" '
            'class="chart-grid"/>'
            f'<text x="{LEFT - 8}" y="{y(tick) + 4}" text-anchor="end" class="chart-tick">'
            f"{_month(tick)}</text>"
        )
    for tick in _ticks(x0, x1):
        parts.append(
            f'<line x1="{x(tick)}" x2="{x(tick)}" y1="{TOP}" y2="{TOP + plot_h}" '
            'class="chart-grid"/>'
            f'<text x="{x(tick)}" y="{TOP + plot_h + 18}" text-anchor="middle" '
            f'class="chart-tick">{_month(tick)}</text>'
        )
    parts.append(
        f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 8}" text-anchor="middle" '
        'class="chart-axis">date of the promise or revision</text>'
        f'<text transform="translate(20 {TOP + plot_h / 2}) rotate(-90)" text-anchor="middle" '
        'class="chart-axis">latest date promised</text>'
    )
    if x0 <= as_at <= x1:
        parts.append(
            f'<line x1="{x(as_at)}" x2="{x(as_at)}" y1="{TOP}" y2="{TOP + plot_h}" '
            'class="chart-asat"/>'
            f'<text x="{x(as_at) + 4}" y="{TOP - 10}" text-anchor="end" class="chart-tick">'
            f"as at {escape(long_date(as_at))}</text>"
        )
    for i, s in enumerate(drawn):
        colour, shape = COLOURS[i % len(COLOURS)], SHAPES[i % len(SHAPES)]
        parts.append(f'<g class="chart-series" data-commitment="{escape(s.commitment)}">')
        # From the first promise on: there was no baseline before the commitment was made.
        parts.append(
            f'<line x1="{x(s.points[0].on)}" x2="{x(s.end)}" y1="{y(s.baseline)}" '
            f'y2="{y(s.baseline)}" stroke="{colour}" class="chart-baseline"><title>'
            f"{escape(s.commitment)}: first promise {escape(s.baseline_text)} "
            f"(by {escape(long_date(s.baseline))})</title></line>"
        )
        path = [f"M{x(s.points[0].on)} {y(s.points[0].due)}"]
        for point in s.points[1:]:
            path.append(f"H{x(point.on)} V{y(point.due)}")
        path.append(f"H{x(s.end)}")
        parts.append(f'<path d="{" ".join(path)}" stroke="{colour}" class="chart-line"/>')
        for point in s.points:
            parts.append(_marker(shape, x(point.on), y(point.due), colour, point))
        if s.delivered is not None:
            cx, cy = x(s.delivered), y(s.delivered)
            parts.append(
                f'<path d="M{cx - 7} {cy} l5 6 l10 -13" stroke="{colour}" class="chart-done">'
                f"<title>{escape(s.commitment)}: delivered "
                f"{escape(long_date(s.delivered))}</title></path>"
            )
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))


def legend(timelines: Iterable[Timeline], as_at: date) -> list[tuple[str, str, str, str]]:
    """(colour, shape, commitment, deliverable) per drawn series, in the chart's order."""
    drawn, _ = series_of(timelines, as_at)
    return [
        (COLOURS[i % len(COLOURS)], SHAPES[i % len(SHAPES)], s.commitment, s.deliverable)
        for i, s in enumerate(drawn)
    ]


def marker_svg(shape: str, colour: str) -> Markup:
    """A small standalone marker for the legend."""
    return Markup(
        f'<svg class="legend-marker" viewBox="0 0 20 20" width="20" height="20" '
        f'aria-hidden="true" focusable="false">'
        f'<line x1="0" x2="20" y1="10" y2="10" stroke="{colour}" stroke-width="3"/>'
        f"{_shape(shape, 10, 10, colour, False)}</svg>"
    )


def _marker(shape: str, cx: float, cy: float, colour: str, point: Point) -> str:
    shape_svg = _shape(shape, cx, cy, colour, point.hollow)
    return f"<g>{shape_svg}<title>{escape(point.label)}</title></g>"


def _shape(shape: str, cx: float, cy: float, colour: str, hollow: bool) -> str:
    fill = "#ffffff" if hollow else colour
    style = f'fill="{fill}" stroke="{colour}" stroke-width="2.5"'
    if shape == "square":
        return f'<rect x="{cx - 5}" y="{cy - 5}" width="10" height="10" {style}/>'
    if shape == "triangle":
        return f'<path d="M{cx} {cy - 7} L{cx + 6.5} {cy + 5} L{cx - 6.5} {cy + 5} Z" {style}/>'
    if shape == "diamond":
        return f'<path d="M{cx} {cy - 7} L{cx + 7} {cy} L{cx} {cy + 7} L{cx - 7} {cy} Z" {style}/>'
    return f'<circle cx="{cx}" cy="{cy}" r="6" {style}/>'


def _describe(drawn: list[Series], undated: list[str], as_at: date) -> str:
    sentences = []
    for s in drawn:
        steps = "; ".join(p.label for p in s.points)
        done = f"; delivered {long_date(s.delivered)}" if s.delivered else ""
        sentences.append(f"{s.commitment} ({s.deliverable}): {steps}{done}.")
    if undated:
        sentences.append(f"No dated promise for: {', '.join(undated)}.")
    sentences.append(f"As at {long_date(as_at)}.")
    return " ".join(sentences)


def _pad(low: date, high: date) -> tuple[date, date]:
    """A domain around [low, high] with room for the markers, never empty, and total: a
    promise dated in year 1 or 9999 clamps to the calendar instead of overflowing it."""
    span = max((high - low).days, 60)
    margin = max(15, span // 12)
    first, last = date.min.toordinal(), date.max.toordinal()
    padded_low = max(first, low.toordinal() - margin)
    padded_high = min(last, high.toordinal() + margin)
    if padded_high - padded_low < 60:  # squeezed against an end of the calendar
        padded_low, padded_high = max(first, padded_high - 60), min(last, padded_low + 60)
    return date.fromordinal(padded_low), date.fromordinal(padded_high)


def _x_end(drawn: list[Series], first: date, last: date) -> date:
    """Where the time axis ends: past the last promise made, on to the latest date now
    promised (so revisions made shortly before the as-at date are not squeezed against the
    right edge, and the reader sees how far ahead the promise lies), at most twice as far."""
    furthest = max(s.points[-1].due for s in drawn)
    if furthest <= last:
        return last
    span = max((last - first).days, 60)
    return date.fromordinal(min(furthest.toordinal(), last.toordinal() + span))


def _ticks(low: date, high: date) -> list[date]:
    """Last days of months, every 1, 2, 3, 6 or 12 months or a whole number of years: at
    most seven of them, however long the span.

    At a month's end, because a promise falls there: "April 2024" is due by 30 April, so
    it sits on the line labelled Apr 2024, not just under the line of 1 May.
    """
    months = (high.year - low.year) * 12 + high.month - low.month + 1
    step = next((s for s in (1, 2, 3, 6, 12) if months / s <= 7), 0)
    if not step:
        step = 12 * -(-months // (12 * 7))  # whole years, rounded up
    index = low.year * 12 + low.month - 1  # low's own month: its last day may be inside
    index += (step - 1 - index % step) % step  # quarters end in Mar, Jun, Sep and Dec
    ticks: list[date] = []
    while index < 12 * (date.max.year + 1):
        year, month = divmod(index, 12)
        tick = date(year, month + 1, monthrange(year, month + 1)[1])
        if tick > high:
            break
        if tick >= low:
            ticks.append(tick)
        index += step
    return ticks


def _month(day: date) -> str:
    return f"{MONTHS[day.month - 1]} {day.year}"
