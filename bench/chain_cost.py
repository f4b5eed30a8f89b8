"""What the hash chain costs: append rate with and without it, same run, SQLite and PostgreSQL.

    .venv/bin/python bench/chain_cost.py [--events 20000] [--batch 100] [--rounds 3]

Events are built before the clock starts (a registration and notes per recommendation, as
RIO records them), then appended `--batch` per transaction with `rio.events.put`, once
through eventsourcing's own recorder and once through RIO's chained one, each on a fresh
store, alternating, `--rounds` times; the median rate is printed. Also times `verify`.
Run by hand; not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from eventsourcing.domain import DomainEventProtocol

from rio.aggregates.recommendation import Recommendation
from rio.application.service import RIO
from rio.audit.verification import verify
from rio.domain.values import Source
from rio.logging import configure

POSTGRES_URL = os.environ.get("RIO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
SRC = Source("Benchmark", date(2023, 1, 1), "q")
PLAIN = {"sqlite": "eventsourcing.sqlite", "postgres": "eventsourcing.postgres"}


def build(events: int, batch: int) -> list[list[DomainEventProtocol[uuid.UUID]]]:
    """`events` events in batches of `batch`: each batch one recommendation's history."""
    batches = []
    for number in range(1, events // batch + 1):
        rec = Recommendation.register(
            review="bench",
            number=number,
            title="t",
            text="x" * 200,
            occurred=date(2022, 1, 1),
            source=SRC,
            recorded_by="bench",
        )
        for k in range(batch - 1):
            rec.note_progress(
                note=f"note {k} " + "y" * 100,
                occurred=date(2023, 1, 1),
                source=SRC,
                recorded_by="bench",
            )
        batches.append(list(rec.collect_events()))
    return batches


@contextmanager
def fresh_store(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'bench.db'}"
        return
    import psycopg

    schema = f"rio_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}?schema={schema}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def append_rate(
    backend: str, chained: bool, batches: list[list[DomainEventProtocol[uuid.UUID]]]
) -> tuple[float, float | None]:
    """(events/s appended, events/s verified or None)."""
    with fresh_store(backend) as url:
        env = {} if chained else {"PERSISTENCE_MODULE": PLAIN[backend]}
        app = RIO(url, env=env)
        try:
            start = time.perf_counter()
            for batch in batches:
                app.events.put(batch)
            elapsed = time.perf_counter() - start
            count = sum(len(b) for b in batches)
            if not chained:
                return count / elapsed, None
            start = time.perf_counter()
            result = verify(app)
            checked = time.perf_counter() - start
            if not result.ok or result.chained != count:
                raise SystemExit(f"benchmark store does not verify: {result.line()}")
            return count / elapsed, count / checked
        finally:
            app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    configure(level="WARNING")
    batches = build(args.events, args.batch)
    total = sum(len(b) for b in batches)
    print(
        f"# {total} events, {args.batch} per transaction, median of {args.rounds} rounds; "
        f"Python {platform.python_version()}, {platform.platform()}, {os.cpu_count()} CPUs"
    )
    print(
        f"{'backend':<9} {'plain ev/s':>11} {'chained ev/s':>13} {'cost':>6} "
        f"{'verify ev/s':>12}  plain range / chained range"
    )
    for backend in args.backends.split(","):
        runs: dict[bool, list[float]] = {False: [], True: []}
        verifies: list[float] = []
        for _ in range(args.rounds):
            for chained in (False, True):
                rate, checked = append_rate(backend, chained, batches)
                runs[chained].append(rate)
                if checked is not None:
                    verifies.append(checked)
        plain, chained_rate = (statistics.median(runs[k]) for k in (False, True))
        spread = " / ".join(f"{min(runs[k]):,.0f}-{max(runs[k]):,.0f}" for k in (False, True))
        print(
            f"{backend:<9} {plain:>11,.0f} {chained_rate:>13,.0f} "
            f"{(1 - chained_rate / plain):>6.1%} {statistics.median(verifies):>12,.0f}  {spread}",
            flush=True,
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
