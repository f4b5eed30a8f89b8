"""RIO's API against a bare FastAPI insert, side by side: commands a second, CPU per command.

    PYTHONPATH=. .venv/bin/python bench/api_bench.py [--stores sqlite,postgres]
        [--clients 1,8,32] [--rounds 3] [--seconds 5] [--workers 1] [--append]

Both servers run at once under the same uvicorn (uvloop, httptools), each with `--workers`
worker processes (RIO's `rio serve` adds its one read-model follower); `wrk` posts progress
notes to 320 recommendations of a 10k-event store, in interleaved rounds (RIO then the
baseline, then the other way round), and the median round is reported. The baseline parses
the same pydantic body (`rio.api.schemas.NoteIn`), checks a bearer token against a dict and
inserts one row per request, one transaction each (WAL + synchronous=FULL on SQLite).
CPU per command is the servers' processes' CPU time (user + system, from /proc) over the
commands acknowledged. Run by hand; not part of the test suite. Needs `wrk` on the PATH.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from fastapi import FastAPI, Header, HTTPException

from rio.api.schemas import NoteIn

POSTGRES_URL = os.environ.get("RIO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
RIO_COMMAND = str(Path(sys.executable).parent / "rio")
REVIEW = "bench"
RECOMMENDATIONS = 320
EVENTS = 10_000
NOTE = {
    "occurred": "2023-11-20",
    "source": {
        "document": "Written answer UIN 4567",
        "date": "2023-11-20",
        "quote": "The national induction scheme will be launched in April 2024.",
    },
    "note": "Pilot running in three regions",
}
TABLE = "CREATE TABLE IF NOT EXISTS notes (id {key}, review TEXT, number INTEGER, body TEXT)"


# --- the baseline: uvicorn's factory in each of its worker processes ----------------------------


def baseline() -> FastAPI:
    """The bare app: same body model, a token in a dict, one row inserted per request."""
    url = os.environ["RIO_BENCH_BASELINE_URL"]
    tokens = {os.environ["RIO_BENCH_TOKEN"]: "bench"}
    insert = _sqlite_insert(url) if url.startswith("sqlite") else _postgres_insert(url)
    app = FastAPI()

    @app.post("/reviews/{review}/recommendations/{number}/progress-notes", status_code=201)
    def note_progress(
        review: str,
        number: int,
        body: NoteIn,
        authorization: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        _, _, token = (authorization or "").partition(" ")
        if token not in tokens:
            raise HTTPException(401)
        insert(review, number, body.model_dump_json())
        return {"review": review, "number": number}

    return app


def _sqlite_insert(url: str) -> Callable[[str, int, str], None]:
    path = url.removeprefix("sqlite:///")
    local = threading.local()

    def insert(review: str, number: int, body: str) -> None:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = sqlite3.connect(path, isolation_level=None, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO notes (review, number, body) VALUES (?, ?, ?)", (review, number, body)
        )
        conn.execute("COMMIT")

    return insert


def _postgres_insert(url: str) -> Callable[[str, int, str], None]:
    from psycopg_pool import ConnectionPool

    conninfo, schema = _split_schema(url)
    pool = ConnectionPool(
        conninfo, min_size=2, max_size=40, kwargs={"options": f"-c search_path={schema}"}
    )

    def insert(review: str, number: int, body: str) -> None:
        with pool.connection() as conn:  # commits on leaving
            conn.execute(
                "INSERT INTO notes (review, number, body) VALUES (%s, %s, %s)",
                (review, number, body),
            )

    return insert


def _split_schema(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    schema = parse_qs(parts.query).get("schema", ["public"])[0]
    return urlunsplit(("postgresql", parts.netloc, parts.path, "", "")), schema


# --- stores ------------------------------------------------------------------------------------


@contextmanager
def stores(kind: str, work: Path) -> Iterator[tuple[str, str]]:
    """(RIO's URL, the baseline's URL): two empty stores of `kind`, dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{work / 'rio.db'}", f"sqlite:///{work / 'baseline.db'}"
        return
    import psycopg

    names = [f"rio_bench_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield f"{POSTGRES_URL}?schema={names[0]}", f"{POSTGRES_URL}?schema={names[1]}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP SCHEMA "{name}" CASCADE')


def seed(rio_url: str, baseline_url: str) -> str:
    """RIO's store: 320 recommendations, 10k events; the baseline's table; a key for both."""
    from rio.aggregates.recommendation import Recommendation
    from rio.application.keys import Keys
    from rio.application.service import RIO
    from rio.domain.values import Source

    source = Source("Benchmark", date(2023, 1, 1), "q")
    rio = RIO(rio_url)
    try:
        for number in range(1, RECOMMENDATIONS + 1):
            rec = Recommendation.register(
                review=REVIEW,
                number=number,
                title="t",
                text="x" * 200,
                occurred=date(2022, 1, 1),
                source=source,
                recorded_by="bench",
            )
            for k in range(EVENTS // RECOMMENDATIONS - 1):
                rec.note_progress(
                    note=f"note {k}", occurred=date(2023, 1, 1), source=source, recorded_by="bench"
                )
            rio.commit(rec)
        secret, _ = Keys(rio).create(name="bench", role="secretariat", granted_by="bench")
    finally:
        rio.close()
    if baseline_url.startswith("sqlite"):
        with sqlite3.connect(baseline_url.removeprefix("sqlite:///")) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(TABLE.format(key="INTEGER PRIMARY KEY"))
    else:
        import psycopg

        conninfo, schema = _split_schema(baseline_url)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(
                TABLE.format(key="BIGSERIAL PRIMARY KEY").replace("notes", f'"{schema}".notes')
            )
    return secret


# --- servers -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    base: str

    def cpu_seconds(self) -> float:
        """User + system CPU of the server and every process under it, now."""
        ticks = os.sysconf("SC_CLK_TCK")
        parents: dict[int, int] = {}
        times: dict[int, float] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
            times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
        tree = {self.process.pid}
        grew = True
        while grew:
            grew = False
            for pid, parent in parents.items():
                if parent in tree and pid not in tree:
                    tree.add(pid)
                    grew = True
        return sum(times.get(pid, 0.0) for pid in tree)


@contextmanager
def serving(
    name: str, command: list[str], env: dict[str, str], log: Path, ready: str
) -> Iterator[Server]:
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=out, stderr=out
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise SystemExit(f"{name} did not start:\n{log.read_text()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(
                        f"GET {ready} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
                    )
                    if b" 200 " in s.recv(100):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{name} did not answer in 120 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield Server(name, process, base)
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- load --------------------------------------------------------------------------------------

LUA = """
local body = '%(body)s'
local headers = {["Authorization"] = "Bearer %(token)s", ["Content-Type"] = "application/json"}
local n = 0
function setup(thread) n = n + 1; thread:set("seed", n) end
function init(args) math.randomseed(seed * 7919 + os.time()) end
function request()
  local number = math.random(%(recs)d)
  return wrk.format("POST", "/reviews/%(review)s/recommendations/" .. number .. "/progress-notes", headers, body)
end
"""


@dataclass(frozen=True)
class Round:
    commands_per_s: float
    refused: int
    cpu_ms: float
    p50_ms: float
    p99_ms: float


def load(server: Server, script: Path, clients: int, seconds: int) -> Round:
    threads = max(1, min(clients, 2))
    before = server.cpu_seconds()
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(clients),
            "-d",
            f"{seconds}s",
            "--latency",
            "-s",
            str(script),
            server.base,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cpu = server.cpu_seconds() - before
    found = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)\b", out)
    if found is None:
        raise SystemExit(f"wrk said:\n{out}")
    total, took, unit = found.groups()
    elapsed = float(took) * {"ms": 0.001, "s": 1.0, "m": 60.0}[unit]
    refused_match = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    refused = int(refused_match.group(1)) if refused_match else 0
    ok = int(total) - refused
    return Round(
        commands_per_s=ok / elapsed,
        refused=refused,
        cpu_ms=1000 * cpu / ok if ok else float("nan"),
        p50_ms=_latency(out, "50%"),
        p99_ms=_latency(out, "99%"),
    )


def _latency(out: str, which: str) -> float:
    match = re.search(rf"{which}\s+([\d.]+)(us|ms|s)", out)
    if match is None:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


# --- the run -----------------------------------------------------------------------------------


def run_store(
    kind: str, args: argparse.Namespace, work: Path
) -> dict[tuple[str, int], list[Round]]:
    results: dict[tuple[str, int], list[Round]] = {}
    with stores(kind, work) as (rio_url, baseline_url), ExitStack() as stack:
        note(f"{kind}: seeding {EVENTS} events over {RECOMMENDATIONS} recommendations")
        token = seed(rio_url, baseline_url)
        env = {
            **os.environ,
            "RIO_DATABASE_URL": rio_url,
            "RIO_API_RATE_PER_MINUTE": "0",
            "RIO_LOG_FORMAT": "json",
            "RIO_BENCH_BASELINE_URL": baseline_url,
            "RIO_BENCH_TOKEN": token,
        }
        workers = ["--workers", str(args.workers)]
        rio = stack.enter_context(
            serving(
                "RIO",
                [RIO_COMMAND, "serve", "--no-scheduler", *workers],
                env,
                work / f"rio-{kind}.log",
                "/health",
            )
        )
        bare = stack.enter_context(
            serving(
                "baseline",
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "bench.api_bench:baseline",
                    "--factory",
                    "--no-access-log",
                    "--log-level",
                    "warning",
                    *workers,
                ],
                env,
                work / f"baseline-{kind}.log",
                "/openapi.json",
            )
        )
        script = work / "post.lua"
        script.write_text(
            LUA
            % {"body": json.dumps(NOTE), "token": token, "recs": RECOMMENDATIONS, "review": REVIEW}
        )
        for server in (rio, bare):  # warm both: imports, connections, caches
            load(server, script, 8, 1)
        for round_no in range(args.rounds):
            for clients in args.clients:
                order = (rio, bare) if round_no % 2 == 0 else (bare, rio)
                for server in order:
                    result = load(server, script, clients, args.seconds)
                    results.setdefault((server.name, clients), []).append(result)
                    note(
                        f"{kind} round {round_no + 1} {server.name:8} {clients:2} clients: "
                        f"{result.commands_per_s:7.0f}/s, {result.cpu_ms:.2f} ms CPU, "
                        f"p50 {result.p50_ms:.1f} ms, refused {result.refused}"
                    )
    return results


def note(text: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {text}", file=sys.stderr, flush=True)


def median(rounds: list[Round], field: str) -> float:
    return statistics.median(getattr(r, field) for r in rounds)


def table(kind: str, results: dict[tuple[str, int], list[Round]], clients: list[int]) -> list[str]:
    lines = [
        f"| {kind} | RIO commands/s | baseline | RIO/baseline | CPU/command RIO | baseline | p50 RIO / baseline | refused (RIO) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for n in clients:
        rio, bare = results[("RIO", n)], results[("baseline", n)]
        r, b = median(rio, "commands_per_s"), median(bare, "commands_per_s")
        lines.append(
            f"| {n} clients | {r:,.0f} | {b:,.0f} | {r / b:.2f} | {median(rio, 'cpu_ms'):.2f} ms | "
            f"{median(bare, 'cpu_ms'):.2f} ms | {median(rio, 'p50_ms'):.1f} / {median(bare, 'p50_ms'):.1f} ms | "
            f"{sum(x.refused for x in rio)} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--append", action="store_true", help="append the tables to bench/RESULTS.md"
    )
    args = parser.parse_args()
    args.clients = [int(c) for c in args.clients.split(",")]
    load_before = os.getloadavg()[0]
    out: list[str] = []
    with tempfile.TemporaryDirectory(prefix="rio-api-bench-") as tmp:
        for kind in args.stores.split(","):
            results = run_store(kind, args, Path(tmp))
            out += [*table(kind, results, args.clients), ""]
    text = "\n".join(out)
    print(text)
    if args.append:
        command = "PYTHONPATH=. .venv/bin/python bench/api_bench.py " + " ".join(sys.argv[1:])
        header = (
            f"\n## API against a bare FastAPI insert ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)\n\n"
            f"    {command}\n\n"
            f"{args.workers} worker(s) each, {args.rounds} interleaved rounds of {args.seconds:g} s, "
            f"median round; {platform.python_version()}, {os.cpu_count()} cores, load average "
            f"{load_before:.1f} at the start.\n\n"
        )
        with (Path(__file__).parent / "RESULTS.md").open("a", encoding="utf-8") as results_file:
            results_file.write(header + text)


if __name__ == "__main__":
    main()
