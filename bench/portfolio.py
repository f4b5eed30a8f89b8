"""Synthetic portfolios for benchmarks: deterministic from a seed, shaped like real programmes.

Reviews of 5-12 recommendations; each recommendation has actions, owners, 2-4 commitments
(most slip at least once, some twice, without a reason now and then), deliveries,
withdrawals, progress notes, assessments, a few corrections, and history back-filled out
of valid-time order (recorded years after it occurred, not in the order it happened).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from rio.aggregates.recommendation import Recommendation
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
    rnd: random.Random, review: str, number: int, published: date, recorded: datetime
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
            for _ in range(rnd.randint(0, 3)):
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
