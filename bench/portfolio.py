"""Synthetic portfolios for benchmarks: deterministic from a seed, shaped like real programmes.

Reviews of 5-12 recommendations; each recommendation has actions, owners, 2-4 commitments
(most slip at least once, some twice, without a reason now and then), deliveries,
withdrawals, progress notes, assessments, a few corrections, and history back-filled out
of valid-time order (recorded years after it occurred, not in the order it happened).
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from rio.aggregates.recommendation import Recommendation
from rio.aggregates.review import Review
from rio.application.service import RIO
from rio.domain import clock
from rio.domain.errors import DomainError
from rio.domain.values import Source

PHRASES = ("April 2024", "by March 2024", "Spring 2025", "summer 2025", "2024/25", "2025/26")
LATER = ("later in 2025", "Spring 2026", "2026/27", "autumn/winter 2025/26", "summer 2026")


def recommendations(seed: int, target_events: int) -> Iterator[Recommendation]:
    """Recommendations (unsaved) until about `target_events` events have been made."""
    rnd = random.Random(seed)
    made = 0
    review = 0
    recorded = datetime(2026, 1, 1, tzinfo=UTC)
    while made < target_events:
        review += 1
        published = date(2021, 1, 1) + timedelta(days=rnd.randrange(0, 700))
        for number in range(1, rnd.randint(5, 12) + 1):
            recorded += timedelta(seconds=rnd.randint(1, 600))
            rec = _history(rnd, f"review-{seed}-{review}", number, published, recorded)
            made += len(rec.pending_events)
            yield rec
            if made >= target_events:
                return


def _history(
    rnd: random.Random,
    review: str,
    number: int,
    published: date,
    recorded: datetime,
    notes: int = 3,
) -> Recommendation:
    source = Source(f"{review} source", published, "the words it rests on")
    tick = [recorded]

    def at() -> datetime:
        tick[0] += timedelta(microseconds=rnd.randint(1, 10**6))
        return tick[0]

    with clock.use(at):
        rec = Recommendation.register(
            review=review,
            number=number,
            title=f"Recommendation {number}",
            text="",
            occurred=published,
            source=source,
            recorded_by="bench",
        )
        steps: list[tuple[date, str, dict[str, object]]] = []
        steps.append((published, "add_action", {"action": f"{number}.1", "text": "Do it"}))
        steps.append((published, "record_decision", {"decision": "accepted"}))
        promised = published + timedelta(days=rnd.randint(30, 400))
        steps.append(
            (promised, "assign_owner", {"owner": rnd.choice(["NHS England", "DHSC", "CQC"])})
        )
        for c in range(rnd.randint(2, 4)):
            name = f"c{c}"
            steps.append(
                (
                    promised,
                    "make_commitment",
                    {
                        "commitment": name,
                        "deliverable": f"Deliverable {c}",
                        "due": rnd.choice(PHRASES),
                        "action": f"{number}.1",
                    },
                )
            )
            when = max(promised, date(2024, 6, 1)) + timedelta(days=rnd.randint(0, 200))
            for _ in range(rnd.choices([0, 1, 2], weights=[2, 5, 3])[0]):
                reason = None if rnd.random() < 0.3 else "delivery partner delays"
                steps.append(
                    (
                        when,
                        "revise_commitment",
                        {"commitment": name, "due": rnd.choice(LATER), "reason": reason},
                    )
                )
                when += timedelta(days=rnd.randint(30, 200))
            for _ in range(rnd.randint(0, notes)):
                steps.append(
                    (when, "note_progress", {"note": "work continues", "commitment": name})
                )
                when += timedelta(days=rnd.randint(10, 90))
            outcome = rnd.random()
            if outcome < 0.45:
                steps.append(
                    (when, "record_delivery", {"commitment": name, "evidence": "published"})
                )
            elif outcome < 0.55:
                steps.append(
                    (when, "withdraw_commitment", {"commitment": name, "reason": "superseded"})
                )
        if rnd.random() < 0.3:
            steps.append(
                (
                    promised + timedelta(days=200),
                    "assess_status",
                    {
                        "scale": "dcs5",
                        "rating": rnd.choice(["Amber", "Amber/Red", "Red"]),
                        "rationale": "panel view",
                        "assessor": "panel",
                    },
                )
            )
        # Back-filled: a fifth of recommendations are recorded in an order unlike valid time.
        if rnd.random() < 0.2:
            head, tail = steps[:4], steps[4:]
            rnd.shuffle(tail)
            steps = head + tail
        today = date(2025, 12, 31)
        for occurred, method, arguments in steps:
            try:
                getattr(rec, method)(
                    **arguments, occurred=min(occurred, today), source=source, recorded_by="bench"
                )
            except DomainError:
                continue  # a shuffled step that cannot happen yet, as in life
        notes = [e for e in rec.history if isinstance(e, Recommendation.ProgressNoted)]
        if notes and rnd.random() < 0.1:
            rec.correct_event(
                version=rnd.choice(notes).originator_version,
                retract=True,
                reason="noted against the wrong recommendation",
                occurred=today,
                source=source,
                recorded_by="bench",
            )
    return rec


def load(rio: RIO, seed: int, target_events: int, per_transaction: int = 50) -> int:
    """Record a portfolio, `per_transaction` recommendations a commit; returns events recorded."""
    batch: list[Recommendation] = []
    for rec in recommendations(seed, target_events):
        batch.append(rec)
        if len(batch) >= per_transaction:
            rio.save(*batch)
            batch = []
    if batch:
        rio.save(*batch)
    return rio.position()


# --- a national portfolio: many registered reviews (issue 18) ---------------------------------

KINDS = ("review", "inquiry", "coroners_report", "committee_report", "audit_report")
THEMES = ("Leadership", "Workforce", "Patient safety", "Governance", "Discharge", "Data")


def national(
    seed: int, reviews: int, recommendations: int, notes: int = 3
) -> Iterator[Review | Recommendation]:
    """`reviews` registered reviews (mixed kinds, themed recommendations) holding
    `recommendations` recommendations between them, each review followed by its own."""
    rnd = random.Random(seed)
    recorded = datetime(2026, 1, 1, tzinfo=UTC)
    left = recommendations
    for index in range(reviews):
        # Spread what is left over the reviews left, a little unevenly (as real ones are).
        share = left / (reviews - index)
        count = max(1, min(left - (reviews - index - 1), round(share * rnd.uniform(0.5, 1.5))))
        if index == reviews - 1:
            count = left
        left -= count
        key = f"review-{seed}-{index + 1:04d}"
        published = date(2019, 1, 1) + timedelta(days=rnd.randrange(0, 1800))
        kind = rnd.choice(KINDS)
        with clock.use(lambda at=recorded: at):
            yield Review.register(
                key=key,
                title=f"{kind.replace('_', ' ').capitalize()} {index + 1}: bench portfolio",
                kind=kind,
                sponsor=rnd.choice(["DHSC", "NHS England", "HM Coroner", "NAO"]),
                published=published,
                themes={n: rnd.choice(THEMES) for n in range(1, count + 1)},
                recorded_by="bench",
            )
        for number in range(1, count + 1):
            recorded += timedelta(seconds=rnd.randint(1, 60))
            yield _history(rnd, key, number, published, recorded, notes)


def load_national(
    rio: RIO,
    seed: int,
    reviews: int,
    recommendations: int,
    notes: int = 3,
    per_transaction: int = 50,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Record a national portfolio; returns the store's position (events recorded)."""
    batch: list[Review | Recommendation] = []
    done = 0
    for aggregate in national(seed, reviews, recommendations, notes):
        batch.append(aggregate)
        if len(batch) >= per_transaction:
            rio.save(*batch)
            done += len(batch)
            batch = []
            if progress is not None:
                progress(done)
    if batch:
        rio.save(*batch)
    return rio.position()


def _percentiles(timings: list[float], prefix: str = "") -> dict[str, float]:
    ordered = sorted(timings)
    return {
        f"{prefix}p50_ms": ordered[len(ordered) // 2] * 1000,
        f"{prefix}p99_ms": ordered[min(len(ordered) - 1, round(len(ordered) * 0.99) - 1)] * 1000,
    }


def _timed(ask: Callable[[], object], wall: list[float], cpu: list[float]) -> None:
    """Wall time, and this process's CPU time: on SQLite the query runs in this process, so
    CPU time is what a machine with a core to spare would take (the machine is shared)."""
    t, c = time.perf_counter(), time.process_time()
    ask()
    wall.append(time.perf_counter() - t)
    cpu.append(time.process_time() - c)


def measure(url: str, samples: int) -> dict[str, Any]:
    """Board index, portfolio view (all reviews; and as an owner key sees it) and the
    whole-portfolio export, on a store already loaded; the read model caught up first."""
    from rio.domain.access import Role
    from rio.projections.portfolio import summary
    from rio.projections.read_model import ReadModel
    from rio.projections.reviews import ReviewRegister, index, portfolio, readable_scope
    from rio.reports.tracker import rows, to_csv, to_xlsx

    rio = RIO(url)
    model = ReadModel(rio)
    started = time.perf_counter()
    model.catch_up()
    register = ReviewRegister(rio, model.engine)
    register.catch_up()
    result: dict[str, Any] = {
        "load_average": os.getloadavg(),
        "events": rio.position(),
        "catch_up_s": time.perf_counter() - started,
    }
    rnd = random.Random(1)
    days = [date(2023, 1, 1) + timedelta(days=rnd.randrange(0, 1000)) for _ in range(samples)]
    asks: dict[str, Callable[[date], object]] = {
        # The same-run baseline: the portfolio's counts per rule, the query bench/run.py
        # has always measured, on the same store between the same requests.
        "baseline_summary": lambda day: summary(model, day),
        "board_index": lambda day: index(model, register, day),
        "portfolio_view": lambda day: portfolio(model, register, day),
    }
    wall: dict[str, list[float]] = {name: [] for name in asks}
    cpu: dict[str, list[float]] = {name: [] for name in asks}
    for ask in asks.values():
        ask(days[0])  # warm
    for day in days:  # interleaved, so load on the machine falls on all alike
        for name, ask in asks.items():
            _timed(lambda: ask(day), wall[name], cpu[name])  # noqa: B023 - called at once
    for name in asks:
        result[name] = _percentiles(wall[name]) | _percentiles(cpu[name], "cpu_")
    # The same question again with nothing recorded between: the board reloaded, the API
    # polled (answers are kept per read-model position: rio.projections.reviews).
    again: tuple[list[float], list[float]] = ([], [])
    for _ in range(samples):
        _timed(lambda: index(model, register, days[-1]), *again)
    result["board_index_asked_again"] = _percentiles(again[0]) | _percentiles(again[1], "cpu_")
    scope = readable_scope(model, Role.OWNER, "CQC")
    owner: tuple[list[float], list[float]] = ([], [])
    for day in days[: max(3, samples // 10)]:
        _timed(lambda: portfolio(model, register, day, readable=scope), *owner)  # noqa: B023
    result["portfolio_owner_key"] = _percentiles(owner[0]) | _percentiles(owner[1], "cpu_")
    t = time.perf_counter()
    readable_scope(model, Role.OWNER, "CQC")
    result["owner_scope_s"] = time.perf_counter() - t
    reviews = register.registered()
    result["reviews"] = len(reviews)
    t, c = time.perf_counter(), time.process_time()
    programme = model.programme(date(2025, 6, 1))
    tracker = rows(programme, reviews=reviews)
    read_s, read_cpu_s = time.perf_counter() - t, time.process_time() - c
    t = time.perf_counter()
    csv_bytes = len(to_csv(tracker).encode())
    csv_s = time.perf_counter() - t
    t = time.perf_counter()
    xlsx_bytes = len(to_xlsx(tracker))
    xlsx_s = time.perf_counter() - t
    result["recommendations"] = len(tracker)
    result["export"] = {
        "programme_and_rows_s": read_s,
        "programme_and_rows_cpu_s": read_cpu_s,
        "csv_s": csv_s,
        "xlsx_s": xlsx_s,
        "csv_mb": csv_bytes / 1e6,
        "xlsx_mb": xlsx_bytes / 1e6,
    }
    result["load_average_end"] = os.getloadavg()
    model.close()
    rio.close()
    return result


def main() -> None:
    import argparse
    import json

    parser = argparse.ArgumentParser(description="Build and measure a national portfolio.")
    parser.add_argument("--url", required=True, help="store URL (sqlite:///... or postgresql)")
    parser.add_argument("--reviews", type=int, default=1210)
    parser.add_argument("--recommendations", type=int, default=26_000)
    parser.add_argument(
        "--notes", type=int, default=3, help="progress notes per commitment, at most"
    )
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--build", action="store_true", help="load the portfolio first")
    args = parser.parse_args()
    if args.build:
        rio = RIO(args.url)
        t = time.perf_counter()
        events = load_national(
            rio,
            args.seed,
            args.reviews,
            args.recommendations,
            args.notes,
            progress=lambda n: (
                print(f"  {n:,} aggregates", file=sys.stderr, flush=True) if n % 5000 == 0 else None
            ),
        )
        print(json.dumps({"built_events": events, "build_s": time.perf_counter() - t}), flush=True)
        rio.close()
    print(json.dumps(measure(args.url, args.samples), indent=2), flush=True)


if __name__ == "__main__":
    main()
