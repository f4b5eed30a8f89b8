"""`rio scenario load`: record a programme from a scenario file, all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import structlog
import typer

from rio.application.reviews import Registration
from rio.cli.common import principal, runtime
from rio.domain.values import REVIEW_WIDE
from rio.scenario import batches, read

scenario_app = typer.Typer(no_args_is_help=True, help="Load scenario files.")

log = structlog.get_logger("rio.cli")


@scenario_app.command("load")
def scenario_load(file: Annotated[Path, typer.Argument(help="A scenario YAML file.")]) -> None:
    """Record a scenario file, all or nothing; records nothing already recorded."""
    scenario, lines = read(file)
    root = runtime()
    result = root.store.record_batch(batches(scenario, lines, str(file), principal()))
    _, registration = root.reviews.register(scenario.review.command(principal()))
    unchanged = registration is Registration.UNCHANGED
    recorded, already = result.recorded + (not unchanged), result.already_recorded + unchanged
    root.read_model.catch_up()
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
