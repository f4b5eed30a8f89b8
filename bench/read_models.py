"""Read model against pure replay and the raw store, same run: `python bench/read_models.py`.

Run by hand (never in tests). Prints a Markdown table row per store; append it to
bench/RESULTS.md with the command line.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.portfolio import load
from rio.application.service import RIO
from rio.domain.rag import rate_commitment
from rio.domain.replay import replay
from rio.persistence.paging import notification_pages
from rio.projections.portfolio import portfolio
from rio.projections.read_model import ReadModel


def timed(fn, *args):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - started, result


def replay_ratings(events, as_at):  # type: ignore[no-untyped-def]
    """The pure-replay answer to the portfolio question: every commitment's rating."""
    return [
        rate_commitment(c, as_at).rating
        for rec in replay(events, as_at).recommendations
        for c in rec.commitments
    ]


def run(url: str, events: int, seed: int, queries: int) -> str:
    rio = RIO(url)
    write_s, recorded = timed(load, rio, seed, events)
    raw_s, _ = timed(lambda: _raw_scan(rio))
    model = ReadModel(rio)
    rebuild_s, applied = timed(model.rebuild)
    rnd = random.Random(seed)
    days = [date(2022, 1, 1) + timedelta(days=rnd.randrange(0, 1460)) for _ in range(queries)]
    sql_times = [timed(portfolio, model, d)[0] for d in days]
    state_times = [timed(model.programme, d)[0] for d in days[: max(3, queries // 5)]]
    replay_times = [
        timed(lambda d=d: replay_ratings(rio.all_events(), d))[0]
        for d in days[: max(3, queries // 10)]
    ]
    check = days[0]
    assert [r.rating for r in portfolio(model, check)] == replay_ratings(
        list(rio.all_events()), check
    )
    model.close()
    rio.close()
    p50_sql, p50_replay = statistics.median(sql_times), statistics.median(replay_times)
    return (
        f"| {url.split(':')[0]} | {recorded:,} | {recorded / write_s:,.0f} | {recorded / raw_s:,.0f} "
        f"| {applied / rebuild_s:,.0f} | {applied / rebuild_s / (recorded / raw_s):.3f} "
        f"| {p50_sql * 1000:,.0f} | {max(sql_times) * 1000:,.0f} "
        f"| {statistics.median(state_times) * 1000:,.0f} | {p50_replay * 1000:,.0f} "
        f"| {p50_replay / p50_sql:,.0f}× |"
    )


def _raw_scan(rio: RIO) -> int:
    return sum(len(page) for page in notification_pages(rio.recorder))


HEADER = (
    "| store | events | write ev/s | raw scan ev/s | rebuild ev/s | rebuild/raw "
    "| portfolio as-at p50 ms (SQL) | max ms | full states as-at p50 ms (read model) "
    "| portfolio as-at p50 ms (pure replay from the store) | speed-up |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|"
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--stores", default="sqlite,postgres")
    args = parser.parse_args()
    print(HEADER)
    for store in args.stores.split(","):
        if store == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                print(
                    run(f"sqlite:///{folder}/bench.db", args.events, args.seed, args.queries),
                    flush=True,
                )
        else:
            import psycopg

            schema = f"rio_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
            try:
                print(
                    run(f"{args.postgres}?schema={schema}", args.events, args.seed, args.queries),
                    flush=True,
                )
            finally:
                with psycopg.connect(args.postgres, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    main()
