"""Demo loader: months of living history through the simulator, then the facts."""

from __future__ import annotations

from typing import Any

from citygrid.assess.facts import refresh_facts
from citygrid.assess.simulate import simulate


def load_demo(stdout: Any, size: str = "full") -> None:
    days, per_day = (60, 4) if size == "full" else (7, 2)
    truth = simulate(days=days, seed=1, per_day=per_day)
    stdout.write(f"assess: {truth.cases} cases simulated over {days} days "
                 f"({len(truth.failures)} failures)\n")
    stdout.write(f"assess: {refresh_facts()} case facts\n")
    from citygrid.cases.day_counts import refresh_day_counts
    from citygrid.cases.map_cells import refresh_map_cells

    stdout.write(f"assess: {refresh_map_cells(full=True)} live-map cell counts and "
                 f"{refresh_day_counts(full=True)} day counts of past days\n")
