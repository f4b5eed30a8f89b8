"""RIO at programme and national scale, each measure beside its same-run baseline.

    python bench/run.py --events 10000,100000 --stores sqlite,postgres --results bench/RESULTS.md

Each measurement runs in a child process, so its peak memory (ru_maxrss) is its own.
Run by hand; never in tests. `make bench` runs a quick size, `make bench-full` 1M events.
"""

from __future__ import annotations

import argparse
import multiprocessing
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collections import Counter

from bench.portfolio import load
from rio.aggregates.recommendation import recommendation_id
from rio.application.service import RIO
from rio.domain.rag import rate_commitment
from rio.domain.replay import replay
from rio.persistence.paging import notification_pages
from rio.projections.portfolio import portfolio, portfolio_page, summary
from rio.projections.read_model import ReadModel

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
SPREAD = 10  # recommendations each API client writes to, in turn


def _in_child(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run `fn` in a fresh child; add its wall time and peak memory (MB) to its result."""
    # Not a multiprocessing.Pool: its daemonic workers may not start a rebuild's workers.
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=ctx) as pool:
        return pool.submit(_measured, fn, *args).result()


def _measured(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        result = fn(*args)
    except Exception as error:  # only picklable errors cross back to the parent
        raise RuntimeError(f"{fn.__name__}: {error!r}") from None
    result["seconds"] = time.perf_counter() - started
    peak = max(  # a rebuild's worker processes count too
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    result["peak_mb"] = peak / 1024
    return result


def append(url: str, events: int, seed: int) -> dict[str, Any]:
    rio = RIO(url)
    started = time.perf_counter()
    recorded = load(rio, seed, events)
    return {"events": recorded, "rate": recorded / (time.perf_counter() - started)}


def raw_scan(url: str) -> dict[str, Any]:
    rio = RIO(url)
    started = time.perf_counter()
    count = sum(len(page) for page in notification_pages(rio.recorder))
    return {"events": count, "rate": count / (time.perf_counter() - started)}


def decode_scan(url: str) -> dict[str, Any]:
    """The raw scan plus turning each row into its domain event: the floor for any projector
    written in Python, since each must at least decode every event it applies."""
    rio = RIO(url)
    started = time.perf_counter()
    count = sum(1 for _ in rio.all_events())
    return {"events": count, "rate": count / (time.perf_counter() - started)}


def rebuild(url: str) -> dict[str, Any]:
    model = ReadModel(RIO(url))
    started = time.perf_counter()
    applied = model.rebuild()
    return {"events": applied, "rate": applied / (time.perf_counter() - started)}


def _days(seed: int, count: int) -> list[date]:
    rnd = random.Random(seed)
    return [date(2022, 1, 1) + timedelta(days=rnd.randrange(0, 1460)) for _ in range(count)]


def _percentiles(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"p50_ms": statistics.median(ordered) * 1000, "p99_ms": p99 * 1000, "n": len(ordered)}


def _recommendation_keys(rio: RIO, count: int, seed: int) -> list[tuple[str, int]]:
    model = ReadModel(rio)
    rows = [(r.review, r.number) for r in portfolio(model, date(2026, 1, 1))]
    rnd = random.Random(seed)
    return [rnd.choice(rows) for _ in range(count)] if rows else []


def as_at_one(url: str, seed: int, samples: int) -> dict[str, Any]:
    rio = RIO(url)
    model = ReadModel(rio)
    keys = _recommendation_keys(rio, samples, seed)
    days = _days(seed, samples)
    read_model, pure = [], []
    for (review, number), day in zip(keys, days, strict=True):
        rec_id = recommendation_id(review, number)
        started = time.perf_counter()
        answer = model.programme(day, only=rec_id)
        read_model.append(time.perf_counter() - started)
        started = time.perf_counter()
        events = [rio.mapper.to_domain_event(s) for s in rio.recorder.select_events(rec_id)]
        expected = replay(events, day)  # type: ignore[arg-type]
        pure.append(time.perf_counter() - started)
        assert answer.recommendations == expected.recommendations
    rm, rp = _percentiles(read_model), _percentiles(pure)
    return {"read_model": rm, "replay": rp, "ratio": rp["p50_ms"] / rm["p50_ms"]}


def as_at_portfolio(url: str, seed: int, samples: int, replay_samples: int) -> dict[str, Any]:
    """Whole-portfolio ratings as at random dates: the counts per rule (what a board shows)
    and the full listing, each against replaying the whole log to the same answer."""
    rio = RIO(url)
    model = ReadModel(rio)
    days = _days(seed + 1, samples)
    counts, listing, pages = [], [], []
    rnd = random.Random(seed)
    for day in days:
        started = time.perf_counter()
        summary(model, day)
        counts.append(time.perf_counter() - started)
        started = time.perf_counter()
        rows = portfolio(model, day)
        listing.append(time.perf_counter() - started)
        # A page of 200 from a random place in the listing, found by its key.
        start = rnd.randrange(len(rows)) if rows else 0
        while start > 0 and (rows[start - 1].review, rows[start - 1].number) == (
            rows[start].review,
            rows[start].number,
        ):
            start -= 1  # the page starts at a recommendation's first commitment
        after = (rows[start].review, rows[start].number, -1) if rows else None
        started = time.perf_counter()
        page, _ = portfolio_page(model, day, after=after, limit=200)
        pages.append(time.perf_counter() - started)
        assert page == rows[start : start + 200]
    pure = []
    for day in days[:replay_samples]:
        started = time.perf_counter()
        rules = [
            rate_commitment(c, day).rule
            for rec in replay(rio.all_events(), day).recommendations
            for c in rec.commitments
        ]
        pure.append(time.perf_counter() - started)
        assert rules == [row.rule for row in portfolio(model, day)]
        assert Counter(rules) == summary(model, day)
    rc, rl, rp = _percentiles(counts), _percentiles(listing), _percentiles(pure)
    return {
        "counts": rc,
        "listing": rl,
        "page": _percentiles(pages),
        "replay": rp,
        "counts_ratio": rp["p50_ms"] / rc["p50_ms"],
        "listing_ratio": rp["p50_ms"] / rl["p50_ms"],
    }


def alert_scan(url: str) -> dict[str, Any]:
    """Every owner's alerts for the whole portfolio, as the daily scheduler computes them."""
    try:
        from rio.alerts.service import scan  # type: ignore[attr-defined]
    except ImportError:
        scan = None
    rio = RIO(url)
    model = ReadModel(rio)
    started = time.perf_counter()
    if scan is not None:
        alerts = len(scan(rio, model, date(2025, 6, 1)))
    else:  # overdue commitments by owner, straight from the portfolio query
        alerts = sum(1 for row in portfolio(model, date(2025, 6, 1)) if row.rule == "overdue")
    return {"alerts": alerts, "ms": (time.perf_counter() - started) * 1000}


def api_writes(url: str, clients: int, per_client: int) -> dict[str, Any]:
    """Progress notes POSTed through `rio serve` by `clients` concurrent clients."""
    import os
    import socket
    import subprocess
    import threading

    import httpx

    from rio.application.keys import Keys

    rio = RIO(url)
    key, _ = Keys(rio).create(name="bench", role="secretariat", granted_by="bench")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "RIO_DATABASE_URL": url,
        "RIO_API_RATE_PER_MINUTE": "0",
        "RIO_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "rio"), "serve", "--no-scheduler", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {key}"}
    source = {"document": "Bench", "date": "2023-11-20", "quote": "words"}
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
            if time.monotonic() > deadline:
                raise RuntimeError("rio serve did not start")
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            for number in range(1, clients * SPREAD + 1):
                client.post(
                    f"/reviews/api-bench-{clients}/recommendations",
                    json={
                        "number": number,
                        "title": "T",
                        "occurred": "2022-06-08",
                        "source": source,
                    },
                ).raise_for_status()
        latencies: list[float] = []
        failures = [0]
        lock = threading.Lock()

        def writer(client_number: int) -> None:
            # A secretariat's day: notes across its recommendations, dated as they happen.
            with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
                for i in range(per_client):
                    number = (client_number - 1) * SPREAD + i % SPREAD + 1
                    occurred = date(2023, 1, 1) + timedelta(days=i // SPREAD)
                    started = time.perf_counter()
                    response = client.post(
                        f"/reviews/api-bench-{clients}/recommendations/{number}/progress-notes",
                        json={"note": f"note {i}", "occurred": str(occurred), "source": source},
                    )
                    with lock:
                        latencies.append(time.perf_counter() - started)
                        failures[0] += response.status_code >= 300

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(1, clients + 1)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"rate": len(latencies) / elapsed, "failures": failures[0], **_percentiles(latencies)}


def transcoders(url: str, rounds: int) -> dict[str, Any]:
    """Every stored event's state decoded by eventsourcing's JSONTranscoder and by RIO's
    orjson-based one (the same transcodings), interleaved; the best rate of each."""
    from eventsourcing.persistence import JSONTranscoder

    rio = RIO(url)
    fast = rio.mapper.transcoder
    assert isinstance(fast, JSONTranscoder)
    standard = JSONTranscoder()
    for transcoding in fast.names.values():
        standard.register(transcoding)
    states = [event.state for page in notification_pages(rio.recorder) for event in page]
    best = {"standard": 0.0, "fast": 0.0}
    for _ in range(rounds):
        for name, transcoder in (("standard", standard), ("fast", fast)):
            started = time.process_time()
            for state in states:
                transcoder.decode(state)
            best[name] = max(best[name], len(states) / (time.process_time() - started))
    assert all(standard.decode(x) == fast.decode(x) for x in states)
    return {"events": len(states), **best}


def rebuild_rounds(url: str, rounds: int) -> dict[str, Any]:
    """The rebuild against the decode-only scan, interleaved in one run (scan, rebuild,
    scan, rebuild...), each in its own child: the best of each, and the ratio of the bests."""
    scans, rebuilds = [], []
    for _ in range(rounds):
        scans.append(_in_child(decode_scan, url))
        rebuilds.append(_in_child(rebuild, url))
    scan = max(scans, key=lambda r: r["rate"])
    built = max(rebuilds, key=lambda r: r["rate"])
    return {
        "scan": scan,
        "rebuild": built,
        "scans": [r["rate"] for r in scans],
        "rebuilds": [r["rate"] for r in rebuilds],
        "peak_mb": max(r["peak_mb"] for r in rebuilds),
    }


def measure_rebuild(url: str, label: str, events: int, seed: int, rounds: int) -> list[str]:
    """Issue 16's read-model measures alone: no API writes (they have their own bench)."""
    samples = 100
    a = _in_child(append, url, events, seed)
    rr = rebuild_rounds(url, rounds)
    tc = _in_child(transcoders, url, 5)
    one = _in_child(as_at_one, url, seed, samples)
    pf = _in_child(as_at_portfolio, url, seed, 20, 2 if events >= 500_000 else 3)
    n = f"{a['events']:,}"
    sc, rb = rr["scan"], rr["rebuild"]
    each = ", ".join(f"{s:,.0f}/{r:,.0f}" for s, r in zip(rr["scans"], rr["rebuilds"], strict=True))
    return [
        f"| {label} | {n} | append (application service) | {a['rate']:,.0f} events/s | — | {a['peak_mb']:,.0f} |",
        f"| {label} | {n} | decode stored states, orjson-based transcoder (best of 5, CPU) | {tc['fast']:,.0f} events/s ({tc['fast'] / tc['standard']:.2f}×) | eventsourcing's JSONTranscoder {tc['standard']:,.0f} events/s | {tc['peak_mb']:,.0f} |",
        f"| {label} | {n} | scan and decode every event (best of {rounds}) | {sc['rate']:,.0f} events/s | baseline | {sc['peak_mb']:,.0f} |",
        f"| {label} | {n} | read-model rebuild (best of {rounds}) | {rb['rate']:,.0f} events/s, {rb['seconds']:,.1f} s | {rb['rate'] / sc['rate']:.2f} of decode scan (rounds, scan/rebuild ev/s: {each}) | {rr['peak_mb']:,.0f} |",
        f"| {label} | {n} | as-at, one recommendation | p50 {one['read_model']['p50_ms']:.1f} ms, p99 {one['read_model']['p99_ms']:.1f} ms | replay p50 {one['replay']['p50_ms']:.1f} ms, p99 {one['replay']['p99_ms']:.1f} ms ({one['ratio']:.1f}×) | {one['peak_mb']:,.0f} |",
        f"| {label} | {n} | as-at, whole portfolio (counts per rating) | p50 {pf['counts']['p50_ms']:,.0f} ms, p99 {pf['counts']['p99_ms']:,.0f} ms | replay p50 {pf['replay']['p50_ms']:,.0f} ms ({pf['counts_ratio']:,.0f}×) | {pf['peak_mb']:,.0f} |",
        f"| {label} | {n} | as-at, whole portfolio (every commitment's rating) | p50 {pf['listing']['p50_ms']:,.0f} ms, p99 {pf['listing']['p99_ms']:,.0f} ms | replay p50 {pf['replay']['p50_ms']:,.0f} ms ({pf['listing_ratio']:,.0f}×) | {pf['peak_mb']:,.0f} |",
        f"| {label} | {n} | as-at, a page of 200 commitments' ratings (by key, random place) | p50 {pf['page']['p50_ms']:,.1f} ms, p99 {pf['page']['p99_ms']:,.1f} ms | — | {pf['peak_mb']:,.0f} |",
    ]


def measure(url: str, label: str, events: int, seed: int, quick: bool) -> list[str]:
    samples = 20 if quick else 100
    replays = 3 if quick else 5 if events < 500_000 else 2  # a 1M-event replay takes minutes
    results = {
        "append": _in_child(append, url, events, seed),
        "raw": _in_child(raw_scan, url),
        "decode": _in_child(decode_scan, url),
        "rebuild": _in_child(rebuild, url),
        "one": _in_child(as_at_one, url, seed, samples),
        "portfolio": _in_child(as_at_portfolio, url, seed, min(samples, 20), replays),
        "alerts": _in_child(alert_scan, url),
    }
    per_client = 20 if quick else 100
    api = {
        clients: _in_child(api_writes, url, clients, max(5, per_client * 8 // clients))
        for clients in (1, 8, 32)
    }
    a, raw, rb, dec = results["append"], results["raw"], results["rebuild"], results["decode"]
    one, pf, al = results["one"], results["portfolio"], results["alerts"]
    n = f"{a['events']:,}"
    return [
        f"| {label} | {n} | append (application service) | {a['rate']:,.0f} events/s | — | {a['peak_mb']:,.0f} |",
        f"| {label} | {n} | raw scan of the event table | {raw['rate']:,.0f} events/s | baseline | {raw['peak_mb']:,.0f} |",
        f"| {label} | {n} | scan and decode every event | {dec['rate']:,.0f} events/s | {dec['rate'] / raw['rate']:.3f} of raw scan | {dec['peak_mb']:,.0f} |",
        f"| {label} | {n} | read-model rebuild | {rb['rate']:,.0f} events/s | {rb['rate'] / raw['rate']:.3f} of raw scan, {rb['rate'] / dec['rate']:.2f} of decode scan | {rb['peak_mb']:,.0f} |",
        f"| {label} | {n} | as-at, one recommendation | p50 {one['read_model']['p50_ms']:.1f} ms, p99 {one['read_model']['p99_ms']:.1f} ms | replay p50 {one['replay']['p50_ms']:.1f} ms ({one['ratio']:.1f}×) | {one['peak_mb']:,.0f} |",
        f"| {label} | {n} | as-at, whole portfolio (counts per rating) | p50 {pf['counts']['p50_ms']:,.0f} ms, p99 {pf['counts']['p99_ms']:,.0f} ms | replay p50 {pf['replay']['p50_ms']:,.0f} ms ({pf['counts_ratio']:,.0f}×) | {pf['peak_mb']:,.0f} |",
        f"| {label} | {n} | as-at, whole portfolio (every commitment's rating) | p50 {pf['listing']['p50_ms']:,.0f} ms, p99 {pf['listing']['p99_ms']:,.0f} ms | replay p50 {pf['replay']['p50_ms']:,.0f} ms ({pf['listing_ratio']:,.0f}×) | {pf['peak_mb']:,.0f} |",
        f"| {label} | {n} | alert scan, whole portfolio | {al['ms']:,.0f} ms ({al['alerts']:,} alerts) | — | {al['peak_mb']:,.0f} |",
        *(
            f"| {label} | {n} | API writes, {c} client{'s' if c > 1 else ''} | {r['rate']:,.0f} commands/s, p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms"
            f"{_refused(r)} | append via service {a['rate']:,.0f} events/s | {r['peak_mb']:,.0f} (client) |"
            for c, r in api.items()
        ),
    ]


def _refused(result: dict[str, Any]) -> str:
    return f", {result['failures']} refused" if result["failures"] else ""


def _store(kind: str, folder: str) -> tuple[str, Callable[[], None]]:
    if kind == "sqlite":
        return f"sqlite:///{folder}/bench-{uuid.uuid4().hex[:6]}.db", lambda: None
    import psycopg

    schema = f"rio_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')

    def drop() -> None:
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

    return f"{POSTGRES}?schema={schema}", drop


def _append(results: Path | None, lines: list[str]) -> None:
    """Append to the results file at once, so a long run keeps what it has measured."""
    if results is not None:
        with results.open("a", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", default="10000")
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--results", type=Path)
    parser.add_argument(
        "--rebuild",
        type=int,
        metavar="ROUNDS",
        help="only the read-model measures: rebuild and decode scan interleaved ROUNDS times",
    )
    args = parser.parse_args()
    lines = [
        f"### {datetime.now().strftime('%Y-%m-%d %H:%M')} — `python bench/run.py {' '.join(sys.argv[1:])}`",
        "",
        f"Machine: {platform.machine()}, {multiprocessing.cpu_count()} cores, Python {platform.python_version()}, "
        f"eventsourcing {metadata.version('eventsourcing')}, SQLAlchemy {metadata.version('sqlalchemy')}, "
        f"psycopg {metadata.version('psycopg')}, seed {args.seed}.",
        "",
        "| store | events | measure | result | same-run baseline | peak MB |",
        "|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    _append(args.results, ["", *lines])  # then each store's rows as it finishes
    with tempfile.TemporaryDirectory() as folder:
        for size in (int(s) for s in args.events.split(",")):
            for kind in args.stores.split(","):
                url, drop = _store(kind, folder)
                try:
                    rows = (
                        measure_rebuild(url, kind, size, args.seed, args.rebuild)
                        if args.rebuild
                        else measure(url, kind, size, args.seed, args.quick)
                    )
                finally:
                    drop()
                print("\n".join(rows), flush=True)
                _append(args.results, rows)


if __name__ == "__main__":
    main()
