"""`rio scenario load`: record a programme from a scenario file, all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import structlog
import typer

from rio.application.reviews import Registration
from rio.cli.common import principal, progress_bars, runtime
from rio.domain.values import REVIEW_WIDE
from rio.scenario import opened

scenario_app = typer.Typer(no_args_is_help=True, help="Load scenario files.")

log = structlog.get_logger("rio.cli")


@scenario_app.command("load")
def scenario_load(file: Annotated[Path, typer.Argument(help="A scenario YAML file.")]) -> None:
    """Record a scenario file, all or nothing; records nothing already recorded."""
    root = runtime()
    by = principal()
    with progress_bars() as bars:
        # The file is read and checked to its end before anything is recorded; then every
        # recommendation and the review's registration are recorded in one transaction.
        reading = bars.add_task("reading", total=_size(file))
        with opened(file, progress=lambda done: bars.update(reading, completed=done)) as scenario:
            bars.update(reading, completed=bars.tasks[reading].total)
            recording = bars.add_task("recording", total=scenario.streams)
            review, registration = root.reviews.prepare(scenario.review.command(by))
            result = root.store.record_batch(
                scenario.batches(by),
                also=[review],
                progress=lambda n: bars.advance(recording, n),
            )
        updating = bars.add_task("read model", total=root.read_model.status().lag)
        root.read_model.catch_up(progress=lambda n: bars.advance(updating, n))
    unchanged = registration is Registration.UNCHANGED
    recorded, already = result.recorded + (not unchanged), result.already_recorded + unchanged
    log.info(
        "scenario_loaded",
        file=str(file),
        review=scenario.review.key,
        recorded=recorded,
        already_recorded=already,
        review_registration=registration.value,
        position=root.store.position(),
    )
    # The review's own stream (promises about the review as a whole) is not a recommendation.
    numbers = [n for n in result.recommendations if n != REVIEW_WIDE]
    whole = " and the review as a whole" if REVIEW_WIDE in result.recommendations else ""
    typer.echo(
        f"{file}: review {scenario.review.key}: {len(numbers)} recommendations{whole}, "
        f"{recorded} events recorded, {already} already recorded"
        + ("" if unchanged else f"; review {registration.value}")
    )


def _size(file: Path) -> int | None:
    try:
        return file.stat().st_size
    except OSError:
        return None  # `opened` says why, in words
