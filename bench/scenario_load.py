"""`rio scenario load` of a large file: wall time and peak memory, against the old path.

Issue 13 item 5: a 58.6 MB file of 70,000 recommendations did not load in ten minutes and
took 3.2 GB. Each measurement runs the `rio` command as a person does, in a child process on
a fresh store, and reads the child's own peak RSS (wait4). The baseline is the code at
`--baseline` (default: where this branch left main; extracted with `git archive`), which reads a file whole, at
a smaller size (it grows with the square of the file), measured in the same run, beside the
current code at that size and at full size, store by store:

    python bench/scenario_load.py --recommendations 70000 --baseline-recommendations 2000 \
        --stores sqlite,postgres --results bench/RESULTS.md

Run by hand; never in tests (tests/store/test_large_scenario.py asserts memory as a ratio).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import datetime
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import scenario_file
from bench.run import _append, _store

REPO = Path(__file__).resolve().parents[1]


def measure(code: Path, url: str, path: Path) -> tuple[float, float, str]:
    """Seconds, peak RSS (MB) and the last line of output of `rio scenario load path`."""
    env = {**os.environ, "PYTHONPATH": str(code), "RIO_DATABASE_URL": url}
    env.pop("RIO_LOG_LEVEL", None)
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "rio", "scenario", "load", str(path)],
        cwd=code,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert child.stdout is not None
    output = child.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    lines = output.strip().splitlines() or [""]
    if child.returncode != 0:
        raise RuntimeError(f"exit {child.returncode}: {output[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, lines[-1]


def extract(ref: str, into: Path) -> Path:
    """The `rio` package as it is at `ref`, for the baseline."""
    archive = subprocess.run(
        ["git", "archive", ref, "rio"], cwd=REPO, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recommendations", type=int, default=70_000)
    parser.add_argument("--baseline-recommendations", type=int, default=2_000)
    parser.add_argument("--baseline", help="git ref of the old path (default: the branch point)")
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--results", type=Path)
    args = parser.parse_args()
    if args.baseline is None:
        args.baseline = _git("merge-base", "HEAD", "main")
    commit = _git("rev-parse", "--short", args.baseline)
    lines = [
        f"### {datetime.now().strftime('%Y-%m-%d %H:%M')} — "
        f"`python bench/scenario_load.py {' '.join(sys.argv[1:])}`",
        "",
        f"`rio scenario load` of files written by bench/scenario_file.py (shaped like the "
        f"Messenger scenario); wall time of the command (start-up, reading and checking, "
        f"recording, the read model's catch-up) and the child's peak RSS. Baseline: the code "
        f"at {args.baseline} ({commit}), same run, interleaved store by store. Machine: "
        f"{platform.machine()}, {multiprocessing.cpu_count()} cores, Python "
        f"{platform.python_version()}.",
        "",
        "| store | code | recommendations | file | events | wall time | peak RSS |",
        "|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    _append(args.results, ["", *lines])
    with tempfile.TemporaryDirectory(prefix="rio-bench-") as folder:
        base = Path(folder)
        old = extract(args.baseline, base / "old")
        files = {
            n: scenario_file.write(base / f"scenario-{n}.yaml", n)
            for n in {args.baseline_recommendations, args.recommendations}
        }
        runs = [
            ("old", old, args.baseline_recommendations),
            ("new", REPO, args.baseline_recommendations),
            ("new", REPO, args.recommendations),
        ]
        for kind in args.stores.split(","):
            for label, code, count in runs:
                url, drop = _store(kind, folder)
                try:
                    seconds, peak, said = measure(code, url, files[count])
                finally:
                    drop()
                size = files[count].stat().st_size / 1e6
                events = scenario_file.events_per_file(count) + 1
                row = (
                    f"| {kind} | {label} | {count:,} | {size:.1f} MB | {events:,} "
                    f"| {seconds:,.1f} s | {peak:,.0f} MB |"
                )
                print(row, f"  <- {said}", flush=True)
                _append(args.results, [row])


if __name__ == "__main__":
    main()
