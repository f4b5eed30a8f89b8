"""Issue 13: schemathesis' own CLI against a live `rio serve`, every phase (examples, coverage,
fuzzing, stateful) and every check, bounded in examples and time: 0 failures.

The in-process fuzz (test_schema_fuzz.py) drives the app's schema through Hypothesis; this
runs the tool as an operator would, over HTTP on 127.0.0.1 only, so its stateful phase
chains real answers through the schema's links (`rio.api.links`).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rio.application.keys import Keys
from rio.application.service import RIO
from tests.support.serving import free_port, wait_until_serving

BIN = Path(sys.executable).parent
CONFIG = Path(__file__).with_name("schemathesis.toml")
EXAMPLES = 5  # per operation and phase
RUN_SECONDS = 150  # a hard bound per run; on this machine the two runs take about a minute
# The schema's examples name recommendation 1 of messenger-2022 and commitment "induction":
# recorded here, the examples phase reads and writes real data.
SCENARIO = """\
format: rio-scenario/1
review:
  key: messenger-2022
  title: A review to fuzz
sources:
  answer:
    document: Written answer UIN 4567
    date: 2023-11-20
recommendations:
  - number: 1
    title: Targeted interventions
    text: A national induction scheme.
    occurred: 2022-06-08
    source: answer
    quote: "The national induction scheme will be launched in April 2024."
events:
  - recommendation: 1
    type: commitment_made
    occurred: 2023-11-20
    source: answer
    quote: "The national induction scheme will be launched in April 2024."
    commitment: induction
    deliverable: National induction scheme launched
    due: April 2024
    owner: NHS England
"""
LINKS = re.compile(r"API Links:\s+(\d+) covered / (\d+) selected / (\d+) total")


@contextmanager
def serving(env: dict[str, str], port: int, log: Path) -> Iterator[None]:
    with log.open("ab") as out:
        server = subprocess.Popen(
            [str(BIN / "rio"), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}", server, log)
        yield
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


ALL_PHASES = "examples,coverage,fuzzing,stateful"


def schemathesis(port: int, key: str, cwd: Path, *selection: str, phases: str = ALL_PHASES) -> str:
    """One `schemathesis run`, every check; fails the test with its report."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["NO_PROXY"] = "*"  # 127.0.0.1 only: never through a proxy, never anywhere else
    done = subprocess.run(
        [
            str(BIN / "schemathesis"),
            "--config-file",
            str(CONFIG),
            "run",
            f"http://127.0.0.1:{port}/openapi.json",
            "--phases",
            phases,
            "--checks",
            "all",
            "--max-examples",
            str(EXAMPLES),
            "--header",
            f"Authorization: Bearer {key}",
            "--workers",
            "1",  # more workers race inside Hypothesis (its lambda-source cache)
            "--seed",
            "13",
            "--generation-database",
            "none",
            "--request-timeout",
            "10",
            "--no-color",
            *selection,
        ],
        cwd=cwd,  # its reports and caches land in the test's directory, not the repository
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    print(done.stdout)  # shown with -s or on failure: the phases, their times, links covered
    return done.stdout


def test_schemathesis_finds_nothing_in_any_phase_and_its_stateful_phase_follows_the_links(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'rio.db'}"
    env = {
        **os.environ,
        "RIO_DATABASE_URL": url,
        "RIO_LOG_FORMAT": "json",
        # Schemathesis sends thousands of requests, and wrong keys on purpose, all from one
        # address: the limits would answer 429 to most of them (their own tests cover them).
        "RIO_API_RATE_PER_MINUTE": "0",
        "RIO_API_FAILED_AUTH_PER_MINUTE": "0",
    }
    scenario = tmp_path / "fuzz.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    subprocess.run(
        [str(BIN / "rio"), "scenario", "load", str(scenario)],
        env=env,
        capture_output=True,
        check=True,
        timeout=120,
    )
    store = RIO(url)
    try:
        keys = Keys(store)
        secretariat, _ = keys.create(name="fuzzer", role="secretariat", granted_by="test")
        admin, _ = keys.create(name="fuzz admin", role="admin", granted_by="test")
        auditor, _ = keys.create(name="fuzz auditor", role="auditor", granted_by="test")
    finally:
        store.close()
    port = free_port()
    only_admins, only_auditors = "^/(keys|metrics)", "^/audit/"
    with serving(env, port, tmp_path / "serve.log"):
        programme = schemathesis(
            port, secretariat, tmp_path, "--exclude-path-regex", f"{only_admins}|{only_auditors}"
        )
        # The audit routes record nothing another call could take: no links, no stateful phase.
        schemathesis(
            port,
            auditor,
            tmp_path,
            "--include-path-regex",
            only_auditors,
            phases="examples,coverage,fuzzing",
        )
        # Last: it grants and revokes keys, the secretariat's among them once it lists them.
        schemathesis(port, admin, tmp_path, "--include-path-regex", only_admins)

    found = LINKS.search(programme)
    assert found, programme
    covered, _, total = map(int, found.groups())
    assert total >= 37, programme  # the links rio.api.links writes, and those inferred
    assert covered >= 1, programme  # before the links: "0 covered"
