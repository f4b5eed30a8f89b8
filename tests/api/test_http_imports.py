"""The HTTP process is not the CLI: the app factory loads neither typer nor rich.

structlog imports rich by itself when rich is installed (for its pretty tracebacks), so an
ordinary environment cannot show "rich is not in sys.modules" for any process that logs.
These tests show what is RIO's to promise: the app never loads typer or `rio.cli`, loads
no rich module structlog had not loaded already, and imports, builds and answers with rich
made unimportable, as in an install without the CLI.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

NO_RICH = "import sys\nsys.modules['rich'] = None  # any `import rich...` now fails\n"
NO_CLI = (
    "cli = sorted(m for m in sys.modules if m == 'typer' or m.startswith(('typer.', 'rio.cli')))\n"
    "assert not cli, cli\n"
)


def python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def build_and_ask(url: str) -> str:
    return (
        "from fastapi.testclient import TestClient\n"
        "from rio.api.app import create_app\n"
        "from rio.settings import Settings\n"
        f"app = create_app(Settings(database_url={url!r}))\n"
        "with TestClient(app) as client:\n"
        "    assert client.get('/health').status_code == 200\n"
    )


def test_importing_the_app_factory_loads_no_cli_and_no_rich_of_its_own() -> None:
    done = python(
        "import sys\n"
        "import structlog\n"
        "def rich(): return {m for m in sys.modules if m.split('.')[0] == 'rich'}\n"
        "before = rich()\n"
        "import rio.api.app\n"
        "assert rich() == before, sorted(rich() - before)\n" + NO_CLI
    )

    assert done.returncode == 0, done.stderr


def test_the_app_factory_imports_without_rich() -> None:
    done = python(NO_RICH + "import rio.api.app\n" + NO_CLI)

    assert done.returncode == 0, done.stderr


def test_an_app_built_on_a_store_answers_without_typer_or_rich(tmp_path: Path) -> None:
    done = python(NO_RICH + build_and_ask(f"sqlite:///{tmp_path / 'rio.db'}") + NO_CLI)

    assert done.returncode == 0, done.stderr
