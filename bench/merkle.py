"""What the Merkle tree costs and what it buys: proofs at 1M leaves against a full rescan, and
the append rate with the tree against the chain alone, side by side in one run.

    .venv/bin/python bench/merkle.py [--leaves 1000000] [--proofs 200]
                                     [--events 20000] [--batch 100] [--rounds 5]
                                     [--backends sqlite,postgres]

Proofs: a tree of `--leaves` synthetic leaves (each the canonical encoding of an event with
a 420-byte state) is built on a SQLite store through the recorder's own tree-writing code
(`_grow_tree`, 10,000 leaves per call, as the insert transaction calls it), without loading
that many real events. Then `--proofs` random consistency proofs (old size uniform below
the tree's) and inclusion proofs are read from the stored rows and verified with the
standalone verifier's standard-library functions (wall-clock time, and the process's CPU
time, which a descheduling on a busy machine does not inflate); the baseline is a full rescan, re-hashing
every leaf's encoding (what checking a digest needs today; reading the rows is not counted).

Append: the events of bench/chain_cost.py, `--batch` per transaction, alternately through
the chain alone (the recorders as they were before the tree: their source at the merge
base with `main`, loaded as a module) and through RIO's recorder (chain and tree), each on
a fresh store, `--rounds` times; medians. Run by hand; not part of the test suite.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.chain_cost import build, fresh_store  # noqa: E402
from rio.application.service import RIO  # noqa: E402
from rio.logging import configure  # noqa: E402
from rio.persistence.chain import Link, encoding  # noqa: E402
from rio.persistence.merkle import (  # noqa: E402
    consistency_path,
    from_rows,
    inclusion_path,
    leaf_hash,
    root,
)

TOOL = REPO / "tools" / "verify_rio_log.py"


def load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class Synthetic:
    """An event as the chain encodes it; only the notification id differs between leaves."""

    originator_id = str(uuid.UUID(int=7))
    originator_version = 1
    topic = "rio:Recommendation.ProgressNoted"
    state = b"s" * 420


def build_tree(recorder: Any, leaves: int, chunk: int = 10_000) -> float:
    """Seconds to write `leaves` leaves through the recorder's tree code."""
    start = time.perf_counter()
    done = 0
    while done < leaves:
        n = min(chunk, leaves - done)
        links = [Link(done + i + 1, "", "") for i in range(n)]
        hashes = [leaf_hash(encoding(link.notification_id, Synthetic)) for link in links]
        head = Link(done, "", "") if done else None
        with recorder._write_transaction() as c:
            recorder._grow_tree(c, head, links, hashes)
        done += n
    return time.perf_counter() - start


def proofs(leaves: int, count: int) -> None:
    tool = load(TOOL, "verify_rio_log")
    with fresh_store("sqlite") as url:
        app = RIO(url)
        try:
            recorder: Any = app.recorder
            built = build_tree(recorder, leaves)
            size = recorder.tree_tail()[0]
            assert size == leaves
            fetch = recorder.tree_rows
            full_root = from_rows(lambda node: root(node, size), fetch)
            start = time.perf_counter()
            digest = hashlib.sha256
            for n in range(1, leaves + 1):
                digest(b"\x00" + encoding(n, Synthetic)).digest()
            rescan = time.perf_counter() - start
            rng = random.Random(17)
            worst = 2 * (leaves - 1).bit_length()
            rows: dict[str, list[float]] = {
                k: [] for k in ("c", "i", "cs", "is", "cr", "ir", "cc", "ic")
            }
            for _ in range(count):
                old = rng.randrange(1, size)
                old_root = from_rows(partial(root, size=old), fetch)
                t0 = time.perf_counter()
                path = from_rows(partial(consistency_path, old=old, new=size), fetch)
                rows["cr"].append(time.perf_counter() - t0)
                t0, c0 = time.perf_counter(), time.process_time()
                tool.verify_consistency(old, size, path, old_root, full_root)
                rows["c"].append(time.perf_counter() - t0)
                rows["cc"].append(time.process_time() - c0)
                rows["cs"].append(len(path))
                index = rng.randrange(size)
                t0 = time.perf_counter()
                ipath = from_rows(partial(inclusion_path, index=index, size=size), fetch)
                rows["ir"].append(time.perf_counter() - t0)
                leaf = leaf_hash(encoding(index + 1, Synthetic))
                t0, c0 = time.perf_counter(), time.process_time()
                tool.verify_inclusion(index, size, leaf, ipath, full_root)
                rows["i"].append(time.perf_counter() - t0)
                rows["ic"].append(time.process_time() - c0)
                rows["is"].append(len(ipath))
        finally:
            app.close()
    ms = 1000
    print(f"# tree of {leaves:,} leaves built in {built:.1f} s through _grow_tree")
    print(f"# full rescan (leaf hashes of every encoding, stdlib): {rescan * ms:,.0f} ms")
    print(f"# 2*log2(n) = {worst} hashes; {count} random proofs each kind")
    print(
        "| proof | hashes max | hashes median | verify median ms | verify p99 ms "
        "| verify max ms | verify CPU max ms | read from store, median ms |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for kind, label in (("c", "consistency"), ("i", "inclusion")):
        p99 = statistics.quantiles(rows[kind], n=100)[98]
        print(
            f"| {label} | {max(rows[kind + 's']):.0f} | {statistics.median(rows[kind + 's']):.0f} "
            f"| {statistics.median(rows[kind]) * ms:.3f} | {p99 * ms:.3f} "
            f"| {max(rows[kind]) * ms:.3f} | {max(rows[kind + 'c']) * ms:.3f} "
            f"| {statistics.median(rows[kind + 'r']) * ms:.2f} |"
        )


def baseline_recorders(folder: Path) -> dict[str, str]:
    """The chain-only recorders: their source at the merge base with main, as modules."""
    base = subprocess.run(
        ["git", "merge-base", "HEAD", "main"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    modules = {}
    for backend in ("sqlite", "postgres"):
        source = subprocess.run(
            ["git", "show", f"{base}:rio/persistence/{backend}.py"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        name = f"rio_chain_only_{backend}"
        (folder / f"{name}.py").write_text(source)
        factory = "ChainedSQLiteFactory" if backend == "sqlite" else "ChainedPostgresFactory"
        modules[backend] = f"{name}:{factory}"
    sys.path.insert(0, str(folder))
    return modules


def append_seconds(backend: str, env: dict[str, str], batches: list[Any]) -> float:
    with fresh_store(backend) as url:
        app = RIO(url, env=env)
        try:
            start = time.perf_counter()
            for batch in batches:
                app.events.put(batch)
            return time.perf_counter() - start
        finally:
            app.close()


def append(events: int, batch: int, rounds: int, backends: list[str]) -> None:
    batches = build(events, batch)
    total = sum(len(b) for b in batches)
    with tempfile.TemporaryDirectory() as folder:
        chain_only = baseline_recorders(Path(folder))
        print(f"# {total} events, {batch} per transaction, median of {rounds} rounds, interleaved")
        print("| backend | chain alone ev/s | chain + tree ev/s | time per event | ranges |")
        print("| --- | ---: | ---: | ---: | --- |")
        for backend in backends:
            runs: dict[str, list[float]] = {"chain": [], "tree": []}
            for _ in range(rounds):
                runs["chain"].append(
                    append_seconds(backend, {"PERSISTENCE_MODULE": chain_only[backend]}, batches)
                )
                runs["tree"].append(append_seconds(backend, {}, batches))
            chain, tree = (statistics.median(runs[k]) for k in ("chain", "tree"))
            spread = " / ".join(
                f"{total / max(runs[k]):,.0f}-{total / min(runs[k]):,.0f}"
                for k in ("chain", "tree")
            )
            print(
                f"| {backend} | {total / chain:,.0f} | {total / tree:,.0f} "
                f"| {tree / chain - 1:+.1%} | {spread} |",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--proofs", type=int, default=200)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--skip", choices=["proofs", "append"], default=None)
    args = parser.parse_args()
    configure(level="WARNING")
    print(
        f"# Python {platform.python_version()}, {platform.platform()}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    if args.skip != "proofs":
        proofs(args.leaves, args.proofs)
    if args.skip != "append":
        append(args.events, args.batch, args.rounds, args.backends.split(","))


if __name__ == "__main__":
    main()
