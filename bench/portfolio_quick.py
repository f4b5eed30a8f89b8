"""The portfolio's three questions at random dates, wall and CPU time, without the export:
quick enough to run the code of two branches alternately on copies of one store.

    PYTHONPATH=<checkout> python bench/portfolio_quick.py sqlite:///COPY.db
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta

from rio.application.service import RIO
from rio.projections.portfolio import summary
from rio.projections.read_model import ReadModel
from rio.projections.reviews import ReviewRegister, index, portfolio


def main() -> None:
    rio = RIO(sys.argv[1])
    model = ReadModel(rio)
    model.catch_up()
    register = ReviewRegister(rio, model.engine)
    register.catch_up()
    index(model, register, date(2024, 1, 1))  # warm (and make the indexes)
    portfolio(model, register, date(2024, 1, 1))
    rnd = random.Random(1)
    days = [date(2023, 1, 1) + timedelta(days=rnd.randrange(0, 1000)) for _ in range(20)]
    asks: list[tuple[str, Callable[[date], object]]] = [
        ("summary", lambda d: summary(model, d)),
        ("index", lambda d: index(model, register, d)),
        ("portfolio", lambda d: portfolio(model, register, d)),
    ]
    wall: dict[str, list[float]] = {name: [] for name, _ in asks}
    cpu: dict[str, list[float]] = {name: [] for name, _ in asks}
    for day in days:  # interleaved
        for name, ask in asks:
            t, c = time.perf_counter(), time.process_time()
            ask(day)
            wall[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() - c)
    for name, _ in asks:
        w, c = sorted(wall[name]), sorted(cpu[name])
        print(
            f"{name:10s} wall p50 {w[10] * 1000:7.1f} ms   cpu p50 {c[10] * 1000:7.1f} ms"
            f"  cpu max {c[-1] * 1000:7.1f}"
        )
    model.close()
    rio.close()


if __name__ == "__main__":
    main()
