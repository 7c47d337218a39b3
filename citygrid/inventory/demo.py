"""Demo inventory: a synthetic component survey of the demo city at realistic density
(~8 components per unit grid: manhole covers of several owners, street lights, bins, signs,
street trees), loaded through the import action. Idempotent: skipped when loaded."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from tqdm import tqdm

from citygrid.inventory.domain.codes import make_code
from citygrid.inventory.fileio import Table
from citygrid.inventory.models import Component, ImportBatch

DEMO_FILE = "demo-inventory"
CITY_CODE = "510100"
# (class code, name, mean count per unit grid, owner, maintainer, competent department);
# "SZ"/"HW"/"YL" stand for the district's municipal works / sanitation / landscaping units.
CLASSES: list[tuple[str, str, float, str, str, str]] = [
    ("01001", "供水井盖", 0.6, "SU-WATER", "SU-WATER", "CITY-SW"),
    ("01002", "污水井盖", 1.0, "SZ", "SZ", "CITY-SW"),
    ("01003", "雨水井盖", 1.0, "SZ", "SZ", "CITY-SW"),
    ("01005", "电力井盖", 0.5, "SU-POWER", "SU-POWER", "CITY-CGW"),
    ("01007", "通信井盖", 0.5, "SU-TELECOM", "SU-TELECOM", "CITY-CGW"),
    ("01011", "燃气井盖", 0.3, "SU-GAS", "SU-GAS", "CITY-CGW"),
    ("01037", "路灯", 1.2, "SZ", "SZ", "CITY-CGW"),
    ("03005", "垃圾箱", 0.8, "HW", "HW", "CITY-CGW"),
    ("02010", "交通标志牌", 0.3, "CITY-JT", "SZ", "CITY-JT"),
    ("02012", "路名牌", 0.2, "SZ", "SZ", "CITY-CGW"),
    ("04002", "行道树", 1.5, "YL", "YL", "CITY-CGW"),
]
STATES = (["intact", "damaged", "missing", "abandoned"], [0.965, 0.025, 0.006, 0.004])


class _TqdmOut:
    def __init__(self, stdout: Any) -> None:
        self._stdout = stdout

    def write(self, text: str) -> None:
        try:
            self._stdout.write(text, ending="")
        except TypeError:
            self._stdout.write(text)

    def flush(self) -> None:
        pass


def build_table(size: str = "full", seed: int = 2016, scale: float | None = None) -> Table:
    """Components for every current grid, as columns of text, with valid codes."""
    from citygrid.space.geocoding import locate_batch
    from citygrid.space.models import UnitGrid

    grids = np.array(list(UnitGrid.objects.filter(valid_to__isnull=True).values_list(
        "id", "min_lon", "min_lat", "max_lon", "max_lat").order_by("id")), dtype=np.float64)
    rng = np.random.default_rng(seed)
    scale = scale or (1.0 if size == "full" else 0.5)
    cols: dict[str, list[str]] = {k: [] for k in (
        "code", "name", "class", "lon", "lat", "owner", "maintainer", "competent_department",
        "state", "initial_date", "data_source")}
    serials: dict[tuple[str, str], int] = {}
    for cls, name, mean, owner, maintainer, competent in CLASSES:
        counts = rng.poisson(mean * scale, grids.shape[0])
        g = np.repeat(np.arange(grids.shape[0]), counts)
        # Inside the grid's box, away from its edge; kept where it lands in that grid.
        u, v = rng.uniform(0.1, 0.9, g.shape[0]), rng.uniform(0.1, 0.9, g.shape[0])
        lons = grids[g, 1] + u * (grids[g, 3] - grids[g, 1])
        lats = grids[g, 2] + v * (grids[g, 4] - grids[g, 2])
        located = locate_batch(lons, lats)
        keep = located.grid_ids >= 0
        states = rng.choice(STATES[0], size=g.shape[0], p=STATES[1])
        years = rng.integers(2008, 2026, g.shape[0])
        for i in np.flatnonzero(keep).tolist():
            place = located.places[int(located.grid_ids[i])]
            district = place.district.code
            serial = serials.get((district, cls), 0) + 1
            serials[(district, cls)] = serial
            cols["code"].append(make_code(district, cls, serial))
            cols["name"].append(name)
            cols["class"].append(cls)
            cols["lon"].append(f"{lons[i]:.7f}")
            cols["lat"].append(f"{lats[i]:.7f}")
            cols["owner"].append(_dept(owner, district))
            cols["maintainer"].append(_dept(maintainer, district))
            cols["competent_department"].append(competent)
            cols["state"].append(str(states[i]))
            cols["initial_date"].append(f"{years[i]}-06-01")
            cols["data_source"].append("部件普查（演示）")
    n = len(cols["code"])
    return Table(rows=list(range(2, n + 2)), columns=cols)


def _dept(key: str, district: str) -> str:
    return f"{district}-{key}" if key in ("SZ", "HW", "YL") else key


def load_demo(stdout: Any, size: str = "full") -> None:
    from citygrid.catalog.selectors import active_standard
    from citygrid.inventory.actions import import_table
    from citygrid.org.models import Department
    from citygrid.space.models import Area

    if ImportBatch.objects.filter(filename=DEMO_FILE).exists():
        stdout.write(f"inventory: demo loaded already ({Component.objects.count()} components).")
        return
    city = Area.objects.filter(code=CITY_CODE, level="city").first()
    standard = active_standard(city)
    if city is None or standard is None or not Department.objects.filter(code="SU-POWER").exists():
        stdout.write("inventory: the demo city, standard or departments are missing "
                     "(run the space, catalog and org demos first); skipped.")
        return
    started = time.monotonic()
    table = build_table(size)
    bar = tqdm(total=len(table), desc="inventory", unit=" components", file=_TqdmOut(stdout),
               mininterval=0.5)
    try:
        result = import_table(None, table, DEMO_FILE, fmt="demo", standard=standard,
                              progress=bar.update)
    finally:
        bar.close()
    stdout.write(f"inventory: {result.created} components in {time.monotonic() - started:.0f} s.")
